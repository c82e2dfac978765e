// EXPECT: xdp_two_errors reject "invalid access to packet"
// BROKEN twice, on two paths: the kernel reports only the first error it meets
// (the packet read without a data_end check, BPF301); the other path also
// dereferences a map lookup result without a NULL check (BPF305), which
// bpfproof reports as a further error.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} per_queue SEC(".maps");

SEC("xdp")
int xdp_two_errors(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	__u32 q = ctx->rx_queue_index;
	__u64 *cnt;

	if (q == 0) {
		struct ethhdr *eth = data;
		return eth->h_proto == 8 ? XDP_PASS : XDP_DROP;  /* no data_end check */
	}
	cnt = bpf_map_lookup_elem(&per_queue, &q);
	*cnt += 1;                                          /* no NULL check */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
