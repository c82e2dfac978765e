// EXPECT: sock_call_depth reject "the call stack of 9 frames is too deep"
// BROKEN (BPF407): nine nested bpf-to-bpf calls; the kernel allows eight frames.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define LEVEL(n, prev) \
	static __attribute__((noinline)) int n(int x) \
	{ \
		return prev(x ^ 1) + 1; \
	}

static __attribute__((noinline)) int f0(int x)
{
	return x;
}
LEVEL(f1, f0)
LEVEL(f2, f1)
LEVEL(f3, f2)
LEVEL(f4, f3)
LEVEL(f5, f4)
LEVEL(f6, f5)
LEVEL(f7, f6)
LEVEL(f8, f7)

SEC("socket")
int sock_call_depth(struct __sk_buff *skb)
{
	return f8(skb->len);
}

char LICENSE[] SEC("license") = "GPL";
