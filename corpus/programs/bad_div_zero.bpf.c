// EXPECT: xdp_div_zero reject "div by zero"
// BROKEN (BPF101): a division by the constant zero, written in inline assembly
// (clang refuses it in C). The kernel rejects the instruction itself.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_div_zero(struct xdp_md *ctx)
{
	unsigned long q = ctx->rx_queue_index;

	asm volatile("%[q] /= 0" : [q] "+r"(q));
	return q ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
