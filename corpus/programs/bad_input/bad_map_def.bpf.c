// BPF908: a BTF-defined map whose max_entries is a plain integer member, not
// the __uint() pointer-to-array encoding libbpf reads the value from.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__u32 max_entries;           /* should be __uint(max_entries, 16) */
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int xdp_bad_map(struct xdp_md *ctx)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&counts, &k) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
