// EXPECT: sock_fp_write reject "frame pointer is read only"
// BROKEN (BPF202): assembly that assigns R10, the read-only frame pointer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_fp_write(struct __sk_buff *skb)
{
	asm volatile("r10 = 0");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
