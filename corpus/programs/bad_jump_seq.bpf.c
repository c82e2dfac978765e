// EXPECT: sock_jump_seq reject "The sequence of 8193 jumps is too complex."
// BROKEN (BPF602): 8193 conditional jumps whose direction is unknown on one path
// (generated code: a call to bpf_get_prandom_u32, #7, then a branch on its
// result): each leaves a branch pending, and the kernel allows 8192.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_jump_seq(struct __sk_buff *skb)
{
	/* 8193 times: a random value, a branch on it (generated code) */
	asm volatile(".rept 8193\n call 7\n if r0 > 5 goto +1\n r0 = 0\n .endr"
		     ::: "r0", "r1", "r2", "r3", "r4", "r5");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
