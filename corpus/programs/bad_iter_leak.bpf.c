// EXPECT: count_no_destroy reject "Unreleased reference"
// BROKEN: an open-coded iterator holds a reference until bpf_iter_num_destroy();
// returning without destroying it leaks that reference.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

SEC("xdp")
int count_no_destroy(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int n = 0;

	bpf_iter_num_new(&it, 0, 16);
	while (bpf_iter_num_next(&it))
		n++;
	/* missing: bpf_iter_num_destroy(&it); */
	return n > 8 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
