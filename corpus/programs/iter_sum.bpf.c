// EXPECT: sum_words accept
// Open-coded iterator (bpf_iter_num_*, what libbpf's bpf_for() expands to):
// sum the first eight 16-bit words of the packet, each read bounds checked.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} word_sum SEC(".maps");

SEC("xdp")
int sum_words(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_iter_num it;
	__u32 zero = 0;
	__u64 sum = 0, *out;
	int *i;

	bpf_iter_num_new(&it, 0, 8);
	while ((i = bpf_iter_num_next(&it))) {
		__u16 *w = data + (*i & 7) * 2;

		if ((void *)(w + 1) > data_end)
			break;
		sum += *w;
	}
	bpf_iter_num_destroy(&it);
	out = bpf_map_lookup_elem(&word_sum, &zero);
	if (out)
		*out = sum;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
