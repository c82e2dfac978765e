// EXPECT: sum_histogram accept
// bpf_loop() helper: iterate a 64-bucket latency histogram with a callback instead
// of an open-coded loop; the callback gets a pointer to on-stack context.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define NR_BUCKETS 64

struct hist {
	__u64 slots[NR_BUCKETS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} total SEC(".maps");

struct loop_ctx {
	struct hist *h;
	__u64 sum;
	__u64 weighted;
};

static long sum_bucket(__u64 index, void *data)
{
	struct loop_ctx *lc = data;

	if (index >= NR_BUCKETS)
		return 1;                /* stop */
	lc->sum += lc->h->slots[index];
	lc->weighted += lc->h->slots[index] * index;
	return 0;                    /* continue */
}

SEC("tracepoint/sched/sched_switch")
int sum_histogram(void *ctx)
{
	struct loop_ctx lc = {};
	__u32 zero = 0;
	__u64 *out;

	lc.h = bpf_map_lookup_elem(&latency, &zero);
	if (!lc.h)
		return 0;
	bpf_loop(NR_BUCKETS, sum_bucket, &lc, 0);

	out = bpf_map_lookup_elem(&total, &zero);
	if (out)
		*out = lc.sum ? lc.weighted / lc.sum : 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
