// EXPECT: xdp_route_acl accept
// Longest-prefix-match ACL: look up the IPv4 source address in an LPM trie keyed by
// (prefixlen, addr); the matched rule says drop or pass and carries a hit counter.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800

struct lpm_v4_key {
	__u32 prefixlen;
	__u32 addr;                      /* network order */
};

struct acl_rule {
	__u32 action;                    /* XDP_DROP or XDP_PASS */
	__u32 pad;
	__u64 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, struct acl_rule);
} acl SEC(".maps");

SEC("xdp")
int xdp_route_acl(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct lpm_v4_key key;
	struct acl_rule *rule;

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	key.prefixlen = 32;
	key.addr = ip->saddr;
	rule = bpf_map_lookup_elem(&acl, &key);
	if (!rule)
		return XDP_PASS;
	__sync_fetch_and_add(&rule->hits, 1);
	return rule->action == XDP_DROP ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
