// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * dump_raw_tests: prints the kernel's raw instruction verifier tests
 * (tools/testing/selftests/bpf/verifier/*.c of a Linux source tree) as JSON.
 *
 * It is compiled by `bpfproof corpus build` (gcc), never shipped. The test
 * definitions are taken from the Linux source at build time, not vendored:
 *
 *   - "raw_tests_defs.h" is the part of test_verifier.c that defines
 *     `struct bpf_test`, `struct test_val`, `struct other_val`, the
 *     instruction-filling helpers (`.fill_helper`) and the BPF_SK_LOOKUP,
 *     BPF_DIRECT_PKT_R2, BPF_RAND_* macros the tests use. The build cuts it
 *     out of test_verifier.c (from `struct kfunc_btf_id_pair {` up to
 *     `static struct bpf_test tests[]`), so the struct layout is exactly
 *     the one the kernel's runner uses; plus `btf_str_sec` and
 *     `btf_raw_types`, the BTF test_verifier loads for the maps with a
 *     spin lock, a timer or kptrs (fixup_map_spin_lock, fixup_map_timer,
 *     fixup_map_kptr, fixup_sk_storage_map).
 *   - "raw_tests_list.h" (generated) includes every verifier/X.c into its
 *     own array and lists them in `raw_files[]`, so each test keeps the
 *     name of its source file.
 *
 * Usage: dump_raw_tests OUTDIR BTF_JSON
 *   writes OUTDIR/X.json for every verifier/X.c, and BTF_JSON =
 *   {"types": [u32, ...], "strings_hex": "..."}: the maps' BTF (type ids
 *   1 = int, 3 = struct val with a bpf_spin_lock, 5 = struct timer,
 *   14 = struct btf_ptr with kptrs), as test_verifier's load_btf() loads it.
 *
 * Each X.json is {"source": "verifier/X.c", "tests": [TEST, ...]} where TEST is
 *
 *   {"index": i, "descr": "...",
 *    "insns": [[code, dst, src, off, imm], ...],      one entry per 8-byte slot
 *    "prog_type": n, "prog_type_name": "socket_filter",   0 in the source = socket_filter
 *    "expected_attach_type": n, "kfunc": "..."|null,     attach target (tracing, lsm)
 *    "result": "ACCEPT"|"REJECT"|"VERBOSE_ACCEPT",
 *    "result_unpriv": "UNDEF"|..., "errstr": "..."|null, "errstr_unpriv": ...,
 *    "flags": n,          the F_* flags of test_verifier.c (bit 0 = needs
 *                         BPF_F_ANY_ALIGNMENT, bit 1 = BPF_F_STRICT_ALIGNMENT,
 *                         bit 2 = needs JIT, higher bits = BPF_F_* prog flags)
 *    "prog_flags": n,     BPF_F_* load flags test_verifier derives from "flags"
 *                         (without BPF_F_TEST_RND_HI32 / BPF_F_TEST_REG_INVARIANTS,
 *                         which it adds when the kernel supports them)
 *    "unpriv": bool,      test_verifier also runs it unprivileged (x86 rules)
 *    "insn_processed": n, "runs": n, "retval": n, "retval_unpriv": n,
 *    "retvals": [{"retval": n, "retval_unpriv": n}, ...]   (when runs > 1)
 *    "fill_helper": bool, the instructions came from a fill helper
 *    "fixup_map_hash_8b": [insn, ...], ... every fixup_* array (empty when unused),
 *    "fixup_kfunc_btf_id": [{"kfunc": "...", "insn": n}, ...],
 *    "func_info": [[insn_off, type_id], ...],
 *    "btf_types": [u32, ...] (up to BTF_END_RAW), "btf_strings_hex": "...",
 *    "expected_insns": [[...]], "unexpected_insns": [[...]]}
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <asm/types.h>
#include <linux/types.h>
#include <linux/filter.h>
#include <linux/bpf_perf_event.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/btf.h>

#include "bpf_rand.h"
#include "test_btf.h"
#include "../../../include/linux/filter.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#endif
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

#ifndef offsetofend
#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof(((TYPE *)0)->MEMBER))
#endif

/* The limits test_verifier.c sizes `struct bpf_test` with. */
#define MAX_INSNS BPF_MAXINSNS
#define MAX_EXPECTED_INSNS 32
#define MAX_UNEXPECTED_INSNS 32
#define MAX_TEST_INSNS 1000000
#define MAX_FIXUPS 8
#define MAX_NR_MAPS 23
#define MAX_TEST_RUNS 8
#define POINTER_VALUE 0xcafe4all
#define TEST_DATA_LEN 64
#define MAX_FUNC_INFOS 8
#define MAX_BTF_STRINGS 256
#define MAX_BTF_TYPES 256
#define INSN_OFF_MASK ((__s16)0xFFFF)
#define INSN_IMM_MASK ((__s32)0xFFFFFFFF)
#define SKIP_INSNS() BPF_RAW_INSN(0xde, 0xa, 0xd, 0xbeef, 0xdeadbeef)
#define F_NEEDS_EFFICIENT_UNALIGNED_ACCESS (1 << 0)
#define F_LOAD_WITH_STRICT_ALIGNMENT (1 << 1)
#define F_NEEDS_JIT_ENABLED (1 << 2)

#include "raw_tests_defs.h"

struct raw_file {
	const char *name;
	struct bpf_test *tests;
	size_t count;
};

#include "raw_tests_list.h"

/* enum bpf_prog_type of Linux 6.12 */
static const char *const prog_type_names[] = {
	"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act",
	"tracepoint", "xdp", "perf_event", "cgroup_skb", "cgroup_sock",
	"lwt_in", "lwt_out", "lwt_xmit", "sock_ops", "sk_skb",
	"cgroup_device", "sk_msg", "raw_tracepoint", "cgroup_sock_addr",
	"lwt_seg6local", "lirc_mode2", "sk_reuseport", "flow_dissector",
	"cgroup_sysctl", "raw_tracepoint_writable", "cgroup_sockopt",
	"tracing", "struct_ops", "ext", "lsm", "sk_lookup", "syscall",
	"netfilter",
};

static const char *result_name(int r)
{
	switch (r) {
	case ACCEPT:
		return "ACCEPT";
	case REJECT:
		return "REJECT";
	case VERBOSE_ACCEPT:
		return "VERBOSE_ACCEPT";
	default:
		return "UNDEF";
	}
}

static void put_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p >= 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void put_insns(FILE *f, const struct bpf_insn *insns, int len)
{
	fputc('[', f);
	for (int i = 0; i < len; i++) {
		const struct bpf_insn *in = &insns[i];
		fprintf(f, "%s[%u,%u,%u,%d,%d]", i ? "," : "", in->code,
			in->dst_reg, in->src_reg, in->off, in->imm);
	}
	fputc(']', f);
}

/* Length of a zero-terminated instruction array, as probe_filter_length(). */
static int insns_len(const struct bpf_insn *fp, int max)
{
	int len;

	for (len = max - 1; len > 0; --len)
		if (fp[len].code != 0 || fp[len].imm != 0)
			break;
	return len + 1;
}

static int pattern_len(const struct bpf_insn *fp, int max)
{
	int len = max;

	while (len > 0) {
		const struct bpf_insn *in = &fp[len - 1];
		if (in->code || in->dst_reg || in->src_reg || in->off ||
		    in->imm)
			break;
		len--;
	}
	return len;
}

static void put_fixup(FILE *f, const char *name, const int *fix)
{
	fprintf(f, ",\"%s\":[", name);
	/* test_verifier walks the array until the first zero */
	for (int i = 0; i < MAX_FIXUPS && fix[i]; i++)
		fprintf(f, "%s%d", i ? "," : "", fix[i]);
	fputc(']', f);
}

static void dump_test(FILE *f, struct bpf_test *t, size_t index)
{
	struct bpf_insn *insns = t->insns;
	int len, prog_type = t->prog_type ? (int)t->prog_type
					  : BPF_PROG_TYPE_SOCKET_FILTER;
	bool filled = false;
	unsigned int pflags = 0;

	if (t->fill_helper) {
		t->fill_insns = calloc(MAX_TEST_INSNS, sizeof(struct bpf_insn));
		if (!t->fill_insns) {
			fprintf(stderr, "dump_raw_tests: out of memory\n");
			exit(1);
		}
		t->fill_helper(t);
		insns = t->fill_insns;
		len = t->prog_len;
		filled = true;
	} else {
		len = insns_len(insns, MAX_INSNS);
	}

	if (t->flags & F_LOAD_WITH_STRICT_ALIGNMENT)
		pflags |= BPF_F_STRICT_ALIGNMENT;
	if (t->flags & F_NEEDS_EFFICIENT_UNALIGNED_ACCESS)
		pflags |= BPF_F_ANY_ALIGNMENT;
	if (t->flags & ~3)
		pflags |= t->flags;

	fprintf(f, "{\"index\":%zu,\"descr\":", index);
	put_str(f, t->descr);
	fputs(",\"insns\":", f);
	put_insns(f, insns, len);
	fprintf(f, ",\"prog_type\":%d,\"prog_type_name\":", prog_type);
	put_str(f, prog_type >= 0 && (size_t)prog_type < ARRAY_SIZE(prog_type_names)
			   ? prog_type_names[prog_type]
			   : NULL);
	fprintf(f, ",\"expected_attach_type\":%d,\"kfunc\":",
		(int)t->expected_attach_type);
	put_str(f, t->kfunc);
	fprintf(f, ",\"result\":\"%s\",\"result_unpriv\":\"%s\",\"errstr\":",
		result_name(t->result), result_name(t->result_unpriv));
	put_str(f, t->errstr);
	fputs(",\"errstr_unpriv\":", f);
	put_str(f, t->errstr_unpriv);
	/* test_as_unpriv() on x86 (CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS) */
	fprintf(f,
		",\"flags\":%u,\"prog_flags\":%u,\"unpriv\":%s,"
		"\"insn_processed\":%u,\"runs\":%d,\"retval\":%u,"
		"\"retval_unpriv\":%u,\"fill_helper\":%s",
		(unsigned int)t->flags, pflags,
		(!t->prog_type || t->prog_type == BPF_PROG_TYPE_SOCKET_FILTER ||
		 t->prog_type == BPF_PROG_TYPE_CGROUP_SKB)
			? "true"
			: "false",
		t->insn_processed, t->runs, t->retval, t->retval_unpriv,
		filled ? "true" : "false");
	if (t->runs > 1) {
		fputs(",\"retvals\":[", f);
		for (int i = 0; i < t->runs && i < MAX_TEST_RUNS; i++)
			fprintf(f, "%s{\"retval\":%u,\"retval_unpriv\":%u}",
				i ? "," : "", t->retvals[i].retval,
				t->retvals[i].retval_unpriv);
		fputc(']', f);
	}
	put_fixup(f, "fixup_map_hash_8b", t->fixup_map_hash_8b);
	put_fixup(f, "fixup_map_hash_48b", t->fixup_map_hash_48b);
	put_fixup(f, "fixup_map_hash_16b", t->fixup_map_hash_16b);
	put_fixup(f, "fixup_map_array_48b", t->fixup_map_array_48b);
	put_fixup(f, "fixup_map_sockmap", t->fixup_map_sockmap);
	put_fixup(f, "fixup_map_sockhash", t->fixup_map_sockhash);
	put_fixup(f, "fixup_map_xskmap", t->fixup_map_xskmap);
	put_fixup(f, "fixup_map_stacktrace", t->fixup_map_stacktrace);
	put_fixup(f, "fixup_prog1", t->fixup_prog1);
	put_fixup(f, "fixup_prog2", t->fixup_prog2);
	put_fixup(f, "fixup_map_in_map", t->fixup_map_in_map);
	put_fixup(f, "fixup_cgroup_storage", t->fixup_cgroup_storage);
	put_fixup(f, "fixup_percpu_cgroup_storage",
		  t->fixup_percpu_cgroup_storage);
	put_fixup(f, "fixup_map_spin_lock", t->fixup_map_spin_lock);
	put_fixup(f, "fixup_map_array_ro", t->fixup_map_array_ro);
	put_fixup(f, "fixup_map_array_wo", t->fixup_map_array_wo);
	put_fixup(f, "fixup_map_array_small", t->fixup_map_array_small);
	put_fixup(f, "fixup_sk_storage_map", t->fixup_sk_storage_map);
	put_fixup(f, "fixup_map_event_output", t->fixup_map_event_output);
	put_fixup(f, "fixup_map_reuseport_array", t->fixup_map_reuseport_array);
	put_fixup(f, "fixup_map_ringbuf", t->fixup_map_ringbuf);
	put_fixup(f, "fixup_map_timer", t->fixup_map_timer);
	put_fixup(f, "fixup_map_kptr", t->fixup_map_kptr);
	fputs(",\"fixup_kfunc_btf_id\":[", f);
	for (int i = 0; i < MAX_FIXUPS && t->fixup_kfunc_btf_id[i].kfunc; i++) {
		fputs(i ? ",{\"kfunc\":" : "{\"kfunc\":", f);
		put_str(f, t->fixup_kfunc_btf_id[i].kfunc);
		fprintf(f, ",\"insn\":%d}", t->fixup_kfunc_btf_id[i].insn_idx);
	}
	fputs("],\"func_info\":[", f);
	for (int i = 0; i < t->func_info_cnt && i < MAX_FUNC_INFOS; i++)
		fprintf(f, "%s[%u,%u]", i ? "," : "", t->func_info[i].insn_off,
			t->func_info[i].type_id);
	fputs("],\"btf_types\":[", f);
	if (t->btf_types[0] != 0) {
		for (int i = 0;
		     i < MAX_BTF_TYPES && t->btf_types[i] != BTF_END_RAW; i++)
			fprintf(f, "%s%u", i ? "," : "", t->btf_types[i]);
	}
	fputs("],\"btf_strings_hex\":\"", f);
	if (t->btf_types[0] != 0) {
		for (int i = 0; i < MAX_BTF_STRINGS; i++)
			fprintf(f, "%02x", (unsigned char)t->btf_strings[i]);
	}
	fputs("\",\"expected_insns\":", f);
	put_insns(f, t->expected_insns,
		  pattern_len(t->expected_insns, MAX_EXPECTED_INSNS));
	fputs(",\"unexpected_insns\":", f);
	put_insns(f, t->unexpected_insns,
		  pattern_len(t->unexpected_insns, MAX_UNEXPECTED_INSNS));
	fputc('}', f);

	if (filled) {
		free(t->fill_insns);
		t->fill_insns = NULL;
	}
}

static int dump_maps_btf(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "dump_raw_tests: cannot write %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	fputs("{\"types\":[", f);
	for (size_t i = 0; i < ARRAY_SIZE(btf_raw_types); i++)
		fprintf(f, "%s%u", i ? "," : "", btf_raw_types[i]);
	fputs("],\"strings_hex\":\"", f);
	for (size_t i = 0; i < sizeof(btf_str_sec); i++)
		fprintf(f, "%02x", (unsigned char)btf_str_sec[i]);
	fputs("\"}\n", f);
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	size_t total = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OUTDIR BTF_JSON\n", argv[0]);
		return 2;
	}
	if (dump_maps_btf(argv[2]))
		return 1;
	/* fill helpers draw "random" constants: keep them reproducible */
	srand(1);
	for (size_t i = 0; i < ARRAY_SIZE(raw_files); i++) {
		const struct raw_file *rf = &raw_files[i];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.json", argv[1], rf->name);
		f = fopen(path, "w");
		if (!f) {
			fprintf(stderr, "dump_raw_tests: cannot write %s: %s\n",
				path, strerror(errno));
			return 1;
		}
		fprintf(f, "{\"source\":\"verifier/%s.c\",\"tests\":[\n",
			rf->name);
		for (size_t j = 0; j < rf->count; j++) {
			if (j)
				fputs(",\n", f);
			dump_test(f, &rf->tests[j], j);
		}
		fputs("\n]}\n", f);
		if (fclose(f)) {
			fprintf(stderr, "dump_raw_tests: cannot write %s\n",
				path);
			return 1;
		}
		total += rf->count;
	}
	printf("%zu\n", total);
	return 0;
}
