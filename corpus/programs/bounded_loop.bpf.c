// EXPECT: xdp_ipv6_exthdr accept
// Bounded loop (no unrolling): walk up to 8 IPv6 extension headers to find the
// upper-layer protocol, then count it. The verifier must see the loop terminate.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IPV6 0x86DD
#define MAX_EXT    8

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} l4_count SEC(".maps");

static __always_inline bool is_ext_hdr(__u8 nh)
{
	return nh == 0 /* hop-by-hop */ || nh == 43 /* routing */ ||
	       nh == 60 /* dest opts */;
}

SEC("xdp")
int xdp_ipv6_exthdr(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct ipv6_opt_hdr *opt;
	void *cur;
	__u32 nexthdr;
	__u64 *cnt;
	int i;

	if ((void *)(ip6 + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	nexthdr = ip6->nexthdr;
	cur = ip6 + 1;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_EXT; i++) {
		if (!is_ext_hdr(nexthdr))
			break;
		opt = cur;
		if ((void *)(opt + 1) > data_end)
			return XDP_DROP;
		nexthdr = opt->nexthdr;
		cur += (opt->hdrlen + 1) * 8;
	}

	cnt = bpf_map_lookup_elem(&l4_count, &nexthdr);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
