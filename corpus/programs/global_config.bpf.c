// EXPECT: xdp_sampler accept
// Global variables: read-only configuration in .rodata (const volatile, set by the
// loader before load and frozen), mutable state in .data and counters in .bss.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 sample_every = 64;     /* .rodata */
const volatile __u32 max_len = 1500;        /* .rodata */
const volatile bool drop_oversize = false;  /* .rodata */

__u32 sample_seed = 0x5eed;                 /* .data */

__u64 packets;                              /* .bss */
__u64 sampled;                              /* .bss */
__u64 oversize;                             /* .bss */

SEC("xdp")
int xdp_sampler(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	__sync_fetch_and_add(&packets, 1);
	if (len > max_len) {
		__sync_fetch_and_add(&oversize, 1);
		if (drop_oversize)
			return XDP_DROP;
	}
	sample_seed = sample_seed * 1103515245 + 12345;
	if (sample_every && (sample_seed >> 16) % sample_every == 0)
		__sync_fetch_and_add(&sampled, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
