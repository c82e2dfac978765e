// EXPECT: sock_store_bytes reject "program of this type cannot use helper bpf_skb_store_bytes#9"
// BROKEN (BPF402): socket filters may read the packet but not rewrite it;
// bpf_skb_store_bytes is for tc programs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_store_bytes(struct __sk_buff *skb)
{
	__u8 zero = 0;

	bpf_skb_store_bytes(skb, 0, &zero, 1, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
