// CO-RE fixture for analyzer/tests/btf_all.rs.
// Build: bpftool btf dump file vmlinux-6.18.btf format c > vmlinux.h
//        clang-19 -O2 -g -target bpf -D__TARGET_ARCH_x86 -I. -c btf_core.c -o btf_core.o
//        llvm-strip-19 --strip-debug btf_core.o   (keeps .BTF/.BTF.ext)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* a flavor of task_struct with a field no kernel has */
struct task_struct___x {
	int nonexistent_field;
} __attribute__((preserve_access_index));

/* a flavor whose pid has the wrong (64-bit signed) size */
struct task_struct___badsz {
	long pid;
} __attribute__((preserve_access_index));

/* a type no kernel has at all */
struct no_such_type___x {
	int a;
} __attribute__((preserve_access_index));

char comm_out[16];
long out[16];

SEC("kprobe/do_nanosleep")
int core_reads(struct pt_regs *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	out[0] = BPF_CORE_READ(task, pid);
	out[1] = BPF_CORE_READ(task, tgid);
	out[2] = BPF_CORE_READ(task, real_parent, pid);
	bpf_core_read_str(comm_out, sizeof(comm_out), &task->comm);
	return 0;
}

SEC("kprobe/do_nanosleep")
int core_direct(struct pt_regs *ctx)
{
	/* direct (BTF-pointer style) loads: LDX offsets get relocated */
	struct task_struct *task = bpf_get_current_task_btf();

	out[3] = task->pid;
	out[4] = task->tgid;
	out[5] = (long)task->real_parent;
	return 0;
}

SEC("kprobe/do_nanosleep")
int core_missing(struct pt_regs *ctx)
{
	struct task_struct___x *t = (void *)bpf_get_current_task_btf();

	out[6] = t->nonexistent_field;
	return 0;
}

SEC("kprobe/do_nanosleep")
int core_badsz(struct pt_regs *ctx)
{
	struct task_struct___badsz *t = (void *)bpf_get_current_task_btf();

	out[7] = t->pid;
	return 0;
}

SEC("kprobe/do_nanosleep")
int core_kinds(struct pt_regs *ctx)
{
	out[8] = bpf_core_field_exists(struct task_struct___x, nonexistent_field);
	out[9] = bpf_core_field_exists(struct task_struct, pid);
	out[10] = bpf_core_type_size(struct task_struct);
	out[11] = bpf_core_type_exists(struct no_such_type___x);
	out[12] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	out[13] = bpf_core_field_size(struct task_struct, comm);
	out[14] = bpf_core_type_id_kernel(struct task_struct);
	out[15] = bpf_core_type_matches(struct task_struct);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
