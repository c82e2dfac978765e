// EXPECT: loop_leak reject "Unreleased reference"
// BROKEN: the bpf_loop callback reserves a ring-buffer record and returns
// without submitting it; nobody releases it, and the main program's exit
// reports the leak.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

static int emit_one(__u64 i, void *ctx)
{
	__u64 *rec = bpf_ringbuf_reserve(&rb, sizeof(*rec), 0);

	if (!rec)
		return 1;
	*rec = i;
	return 0;                            /* BUG: no bpf_ringbuf_submit() */
}

SEC("tracepoint/syscalls/sys_enter_execve")
int loop_leak(void *ctx)
{
	bpf_loop(4, emit_one, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
