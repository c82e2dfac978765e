// EXPECT: xdp_stale_slice reject "invalid mem access 'scalar'"
// BROKEN: a slice of the packet taken through an XDP dynptr is used after
// bpf_xdp_adjust_head(), which may move the packet: the verifier invalidates
// every packet slice at that call.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern int bpf_dynptr_from_xdp(struct xdp_md *xdp, __u64 flags,
			       struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *ptr, __u32 offset,
			      void *buffer, __u32 buffer__szk) __ksym;

SEC("xdp")
int xdp_stale_slice(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	struct ethhdr buf;
	struct ethhdr *eth;

	if (bpf_dynptr_from_xdp(ctx, 0, &ptr))
		return XDP_PASS;
	eth = bpf_dynptr_slice(&ptr, 0, &buf, sizeof(buf));
	if (!eth)
		return XDP_PASS;
	if (bpf_xdp_adjust_head(ctx, 0))
		return XDP_DROP;
	return eth->h_proto == 0 ? XDP_DROP : XDP_PASS;   /* BUG: stale slice */
}

char LICENSE[] SEC("license") = "GPL";
