// EXPECT: xdp_map_oob reject "invalid access to map value, value_size=16 off=16 size=8"
// BROKEN (BPF302): the value holds two counters; the third is read past its end.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct counters {
	__u64 pkts;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} stats SEC(".maps");

SEC("xdp")
int xdp_map_oob(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *c = bpf_map_lookup_elem(&stats, &key);

	if (!c)
		return XDP_PASS;
	return c[2] ? XDP_PASS : XDP_DROP;   /* c[0] and c[1] exist */
}

char LICENSE[] SEC("license") = "GPL";
