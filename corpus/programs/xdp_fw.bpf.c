// EXPECT: xdp_fw accept
// XDP firewall: parse Ethernet (+ one VLAN tag), IPv4 and IPv6, drop packets whose
// source address is in a blocklist hash map, drop telnet, count verdicts per CPU.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define ETH_P_8021Q  0x8100
#define IPPROTO_TCP  6

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);              /* IPv4 source address, network order */
	__type(value, __u64);            /* hit count */
} blocked_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct in6_addr);
	__type(value, __u64);
} blocked_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);          /* 0 = pass, 1 = drop */
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int count(int verdict)
{
	__u32 key = verdict == XDP_DROP;
	__u64 *v = bpf_map_lookup_elem(&verdicts, &key);

	if (v)
		*v += 1;
	return verdict;
}

SEC("xdp")
int xdp_fw(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u16 proto;
	void *l3;
	__u8 l4proto;
	__u64 *hits;

	if ((void *)(eth + 1) > data_end)
		return count(XDP_DROP);
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > data_end)
			return count(XDP_DROP);
		proto = vh->h_vlan_encapsulated_proto;
		l3 = vh + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > data_end)
			return count(XDP_DROP);
		hits = bpf_map_lookup_elem(&blocked_v4, &ip->saddr);
		if (hits) {
			__sync_fetch_and_add(hits, 1);
			return count(XDP_DROP);
		}
		l4proto = ip->protocol;
		l3 = (void *)ip + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return count(XDP_DROP);
		hits = bpf_map_lookup_elem(&blocked_v6, &ip6->saddr);
		if (hits) {
			__sync_fetch_and_add(hits, 1);
			return count(XDP_DROP);
		}
		l4proto = ip6->nexthdr;
		l3 = ip6 + 1;
	} else {
		return count(XDP_PASS);
	}

	if (l4proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l3;

		if ((void *)(tcp + 1) > data_end)
			return count(XDP_DROP);
		if (tcp->dest == bpf_htons(23))     /* no telnet */
			return count(XDP_DROP);
	}
	return count(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
