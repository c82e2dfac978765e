// EXPECT: xdp_map_ptr_write reject "only read from bpf_array is supported"
// BROKEN (BPF308): the map's kernel struct is reachable through BTF for reading
// (map->max_entries), but not for writing.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int xdp_map_ptr_write(struct xdp_md *ctx)
{
	struct bpf_array *a = (void *)&vals;

	a->map.max_entries = 8;      /* read-only */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
