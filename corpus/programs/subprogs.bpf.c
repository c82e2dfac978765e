// EXPECT: tc_subprogs accept
// bpf-to-bpf calls: a static __noinline helper (verified in the caller's context)
// and a global function (verified once, on its own, against its BTF signature).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} ttl_hist SEC(".maps");

/* static subprogram: caller's register/stack state flows into it */
static __noinline int ttl_bucket(__u8 ttl)
{
	if (ttl <= 32)
		return 0;
	if (ttl <= 64)
		return 1;
	if (ttl <= 128)
		return 2;
	return 3;
}

/* global function: verified independently; it must check its own arguments */
__noinline int account_bucket(__u32 bucket, __u32 len)
{
	__u64 *v;

	if (bucket >= 8)
		return -1;
	v = bpf_map_lookup_elem(&ttl_hist, &bucket);
	if (!v)
		return -1;
	__sync_fetch_and_add(v, len);
	return 0;
}

SEC("tc")
int tc_subprogs(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	account_bucket(ttl_bucket(ip->ttl), skb->len);
	return 0;   /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
