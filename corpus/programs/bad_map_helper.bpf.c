// EXPECT: xdp_lookup_perf reject "cannot pass map_type 4 into func bpf_map_lookup_elem#1"
// BROKEN (BPF406): a perf event array has no values to look up; it is used through
// bpf_perf_event_output.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("xdp")
int xdp_lookup_perf(struct xdp_md *ctx)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&events, &key) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
