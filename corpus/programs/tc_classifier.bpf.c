// EXPECT: tc_classifier accept
// tc (cls_bpf, direct-action) classifier on __sk_buff: put SSH and DNS into their own
// classes, mark bulk traffic, and account bytes per class in an array map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP     0x0800
#define IPPROTO_TCP  6
#define IPPROTO_UDP  17
#define TC_ACT_OK    0
#define TC_H_MAKE(maj, min) (((maj) & 0xFFFF0000U) | ((min) & 0x0000FFFFU))

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} class_bytes SEC(".maps");

SEC("tc")
int tc_classifier(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u16 dport = 0;
	__u32 class = 3;
	__u64 *bytes;

	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;

	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		/* ports are the first 4 bytes of both headers; IP options allowed */
		__u32 off = sizeof(*eth) + ip->ihl * 4;
		__be16 ports[2];

		if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)) == 0)
			dport = bpf_ntohs(ports[1]);
	}

	if (dport == 22)
		class = 1;
	else if (dport == 53)
		class = 2;
	else if (skb->len > 1000)
		skb->mark = 0xb01c;

	skb->tc_classid = TC_H_MAKE(1 << 16, class + 10);
	bytes = bpf_map_lookup_elem(&class_bytes, &class);
	if (bytes)
		__sync_fetch_and_add(bytes, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
