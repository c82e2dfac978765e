// EXPECT: sock_stack_depth reject "combined stack size of 2 calls is"
// BROKEN (BPF604): two frames of 320 bytes each on one call chain; together they
// exceed the 512-byte stack.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int leaf(struct __sk_buff *skb)
{
	char buf[320];

	if (bpf_skb_load_bytes(skb, 0, buf, sizeof(buf)))
		return 0;
	return buf[0] + buf[319];
}

SEC("socket")
int sock_stack_depth(struct __sk_buff *skb)
{
	char buf[320];              /* should live in a per-CPU array map */

	if (bpf_skb_load_bytes(skb, 0, buf, sizeof(buf)))
		return 0;
	return leaf(skb) + buf[0] + buf[319];
}

char LICENSE[] SEC("license") = "GPL";
