// EXPECT: tc_lock_helper reject "function calls are not allowed while holding a lock"
// BROKEN: calls a helper (bpf_ktime_get_ns) inside a bpf_spin_lock critical section.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct locked_flow_stats {
	struct bpf_spin_lock lock;
	__u64 bytes;
	__u64 last_seen_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked_flow_stats);
} stats SEC(".maps");

SEC("tc")
int tc_lock_helper(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct locked_flow_stats *s = bpf_map_lookup_elem(&stats, &zero);

	if (!s)
		return 0;
	bpf_spin_lock(&s->lock);
	s->bytes += skb->len;
	s->last_seen_ns = bpf_ktime_get_ns();    /* BUG: helper call under the lock */
	bpf_spin_unlock(&s->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
