// EXPECT: xdp_no_bounds reject "invalid access to packet"
// BROKEN: like xdp_fw, but the Ethernet header is read without first comparing
// data + sizeof(struct ethhdr) against data_end. The verifier rejects any packet
// access whose range has not been proven.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800

SEC("xdp")
int xdp_no_bounds(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;

	/* missing: if ((void *)(eth + 1) > (void *)(long)ctx->data_end) return XDP_DROP; */
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
