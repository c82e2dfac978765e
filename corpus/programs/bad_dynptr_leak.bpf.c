// EXPECT: exec_dynptr_leak reject "Unreleased reference"
// BROKEN: the ring-buffer dynptr is submitted on the main path, but when the
// data slice cannot be had the function returns without
// bpf_ringbuf_discard_dynptr() -- the reservation leaks.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int exec_dynptr_leak(void *ctx)
{
	struct bpf_dynptr ptr;
	__u32 *pid;

	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &ptr);
	pid = bpf_dynptr_data(&ptr, 0, sizeof(*pid));
	if (!pid)
		return 0;                    /* BUG: should discard the dynptr */
	*pid = bpf_get_current_pid_tgid() >> 32;
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
