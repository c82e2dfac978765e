// EXPECT: xdp_key_write reject "write to change key R2 not allowed"
// BROKEN (BPF306): a bpf_for_each_map_elem callback writes to the key it is given.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

static long zero_key(struct bpf_map *map, __u32 *key, __u64 *val, void *data)
{
	*key = 0;               /* should be: *val = 0; */
	return 0;
}

SEC("xdp")
int xdp_key_write(struct xdp_md *ctx)
{
	bpf_for_each_map_elem(&vals, zero_key, NULL, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
