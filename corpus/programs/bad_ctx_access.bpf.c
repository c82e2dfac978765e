// EXPECT: sock_bad_ctx reject "invalid bpf_context access"
// BROKEN: reads __sk_buff beyond the end of the structure (a stale/wrong struct
// layout, here simulated by indexing past the last field).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_bad_ctx(struct __sk_buff *skb)
{
	__u32 *raw = (__u32 *)skb;

	/* sizeof(struct __sk_buff) is well below 64 * 4 bytes */
	return raw[64] ? skb->len : 0;
}

char LICENSE[] SEC("license") = "GPL";
