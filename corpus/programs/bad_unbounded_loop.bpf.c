// EXPECT: sum_unbounded reject "BPF program is too large"
// BROKEN: the loop bound comes from a map value (any u32), so the verifier has to
// walk up to 2^32 iterations and gives up at the 1M-instruction complexity limit.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} loop_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} result SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int sum_unbounded(void *ctx)
{
	__u32 zero = 0, n, i;
	__u32 *np = bpf_map_lookup_elem(&loop_cfg, &zero);
	__u64 *out, sum = 0;

	if (!np)
		return 0;
	n = *np;                     /* missing: if (n > 64) n = 64; */
	for (i = 0; i < n; i++)
		sum += i * i;
	out = bpf_map_lookup_elem(&result, &zero);
	if (out)
		*out = sum;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
