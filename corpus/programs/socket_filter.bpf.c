// EXPECT: socket_filter accept
// Classic socket filter (SO_ATTACH_BPF on a raw/packet socket): keep only IPv4 TCP
// segments, truncate them to the first 128 bytes, and count packets per IP protocol.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

SEC("socket")
int socket_filter(struct __sk_buff *skb)
{
	__u16 h_proto;
	__u8 proto;
	__u32 key;
	__u64 *cnt;

	if (bpf_skb_load_bytes(skb, 12, &h_proto, sizeof(h_proto)) < 0)
		return 0;
	if (h_proto != __builtin_bswap16(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol),
			       &proto, sizeof(proto)) < 0)
		return 0;

	key = proto;
	cnt = bpf_map_lookup_elem(&proto_count, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);

	if (proto != 6)          /* IPPROTO_TCP */
		return 0;            /* drop */
	return skb->len < 128 ? skb->len : 128;
}

char LICENSE[] SEC("license") = "GPL";
