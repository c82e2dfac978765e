// EXPECT: xdp_spin reject "infinite loop detected"
// BROKEN: the loop's exit condition depends on a value that never changes inside the
// loop, so the verifier sees the same state at the back-edge.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_spin(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;

	/* intended: wait until some condition on q changes, but nothing changes q */
	while (q != 7)
		barrier_var(q);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
