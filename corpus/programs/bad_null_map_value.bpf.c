// EXPECT: count_no_null_check reject "invalid mem access 'map_value_or_null'"
// BROKEN: bpf_map_lookup_elem() on a hash map may return NULL, but the result is
// dereferenced without a NULL check.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} per_pid SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_write")
int count_no_null_check(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 *cnt = bpf_map_lookup_elem(&per_pid, &pid);

	/* missing: if (!cnt) return 0; */
	__sync_fetch_and_add(cnt, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
