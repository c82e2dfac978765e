// EXPECT: sock_stack_oob reject "invalid write to stack R10 off=8 size=8"
// BROKEN (BPF303): assembly that writes above the frame pointer, outside the
// program's 512-byte stack.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_stack_oob(struct __sk_buff *skb)
{
	asm volatile("*(u64 *)(r10 + 8) = r1");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
