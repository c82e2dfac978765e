// EXPECT: sock_unknown_helper reject "invalid func unknown#999"
// BROKEN (BPF401): a call to helper number 999, which no kernel has.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

static long (*bpf_future_helper)(void) = (void *)999;

SEC("socket")
int sock_unknown_helper(struct __sk_buff *skb)
{
	return bpf_future_helper();
}

char LICENSE[] SEC("license") = "GPL";
