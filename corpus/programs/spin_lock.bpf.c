// EXPECT: tc_rate_meter accept
// bpf_spin_lock in a map value: a per-mark token bucket updated under the lock
// (several fields must change together, so atomics alone are not enough).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
#define NSEC_PER_SEC 1000000000ULL

struct meter_state {
	struct bpf_spin_lock lock;
	__u64 tokens;                    /* bytes */
	__u64 last_ns;
	__u64 rate;                      /* bytes per second */
	__u64 burst;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);              /* skb->mark */
	__type(value, struct meter_state);
} buckets SEC(".maps");

SEC("tc")
int tc_rate_meter(struct __sk_buff *skb)
{
	__u32 mark = skb->mark;
	__u64 now = bpf_ktime_get_ns();
	struct meter_state *b;
	__u64 elapsed, refill;
	int verdict = TC_ACT_OK;

	b = bpf_map_lookup_elem(&buckets, &mark);
	if (!b)
		return TC_ACT_OK;

	bpf_spin_lock(&b->lock);
	elapsed = now - b->last_ns;
	refill = elapsed * b->rate / NSEC_PER_SEC;
	b->tokens += refill;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last_ns = now;
	if (b->tokens >= skb->len)
		b->tokens -= skb->len;
	else
		verdict = TC_ACT_SHOT;
	bpf_spin_unlock(&b->lock);
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
