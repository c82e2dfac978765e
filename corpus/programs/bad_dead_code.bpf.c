// EXPECT: sock_dead_code reject "unreachable insn"
// BROKEN (BPF102): hand-written assembly jumps over an instruction that no path
// reaches; check_cfg refuses unreachable instructions.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_dead_code(struct __sk_buff *skb)
{
	asm volatile("goto +1; r0 = 1;" ::: "r0");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
