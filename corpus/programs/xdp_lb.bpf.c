// EXPECT: xdp_lb accept
// XDP layer-4 load balancer: hash the IPv4/TCP|UDP 4-tuple, keep flow affinity in an
// LRU hash, pick a backend from an array, rewrite destination MAC + IP, fix the IP
// checksum incrementally and bounce the packet with XDP_TX.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP     0x0800
#define IPPROTO_TCP  6
#define IPPROTO_UDP  17
#define MAX_BACKENDS 16

struct flow_key {
	__u32 saddr, daddr;
	__u16 sport, dport;
};

struct backend {
	__u32 addr;                      /* network order */
	unsigned char mac[6];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, __u32);            /* backend index */
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

static __always_inline __u16 csum_fold(__u32 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return ~csum;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *l4;               /* ports sit at the same offsets for TCP */
	struct flow_key key = {};
	struct backend *be;
	__u32 idx, *cached;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5)
		return XDP_PASS;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	l4 = (void *)(ip + 1);
	if ((void *)(l4 + 1) > data_end)
		return XDP_PASS;

	key.saddr = ip->saddr;
	key.daddr = ip->daddr;
	key.sport = l4->source;
	key.dport = l4->dest;

	cached = bpf_map_lookup_elem(&flows, &key);
	if (cached) {
		idx = *cached;
	} else {
		idx = (key.saddr ^ key.sport ^ (key.dport << 16)) % MAX_BACKENDS;
		bpf_map_update_elem(&flows, &key, &idx, BPF_ANY);
	}
	be = bpf_map_lookup_elem(&backends, &idx);
	if (!be || !be->addr)
		return XDP_PASS;

	__builtin_memcpy(eth->h_source, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, be->mac, 6);
	ip->daddr = be->addr;
	ip->check = 0;
	ip->check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)ip, sizeof(*ip), 0));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
