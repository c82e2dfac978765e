// EXPECT: sock_uninit_reg reject "R2 !read_ok"
// BROKEN: hand-written BPF assembly assumes r2 carries something at program entry,
// but only r1 (ctx) and r10 (frame pointer) are initialised. Unlike uninitialised
// stack (allowed for CAP_PERFMON since 6.x), an uninitialised register read is
// rejected for every privilege level.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_uninit_reg(struct __sk_buff *skb)
{
	__u64 snaplen;

	asm volatile("%[out] = r2" : [out] "=r"(snaplen));
	return snaplen & 0xffff;
}

char LICENSE[] SEC("license") = "GPL";
