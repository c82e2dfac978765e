// EXPECT: count_syscalls accept
// Per-CPU syscall counters: raw_syscalls/sys_enter bumps a per-CPU array slot
// indexed by syscall number (no atomics needed, user space sums over CPUs).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_SYSCALLS 512

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, __u64);
} syscall_count SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscalls(struct trace_event_raw_sys_enter *ctx)
{
	long id = ctx->id;
	__u32 key;
	__u64 *cnt;

	if (id < 0 || id >= MAX_SYSCALLS)
		return 0;
	key = id;
	cnt = bpf_map_lookup_elem(&syscall_count, &key);
	if (cnt)
		(*cnt)++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
