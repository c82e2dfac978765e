// EXPECT: sock_ptr_leak accept
// EXPECT-NOPERFMON: sock_ptr_leak reject "R0 leaks addr as return value"
// BROKEN (BPF206) for loaders without CAP_PERFMON: the context's address is
// returned, leaking a kernel address. bpfproof: --unprivileged.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_ptr_leak(struct __sk_buff *skb)
{
	return (long)skb;
}

char LICENSE[] SEC("license") = "GPL";
