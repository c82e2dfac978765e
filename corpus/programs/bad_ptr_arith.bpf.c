// EXPECT: xdp_ptr_arith reject "math between map_value pointer and register with unbounded min value is not allowed"
// BROKEN (BPF203): a signed 64-bit index with no bound is added to a map value
// pointer; the kernel cannot bound the resulting pointer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[64]);
} bufs SEC(".maps");

SEC("xdp")
int xdp_ptr_arith(struct xdp_md *ctx)
{
	__u32 key = 0;
	char *v = bpf_map_lookup_elem(&bufs, &key);
	long i = (long)bpf_ktime_get_ns();     /* should be: __u32 i = ...; if (i >= 64) return ...; */

	if (!v)
		return XDP_PASS;
	return v[i] ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
