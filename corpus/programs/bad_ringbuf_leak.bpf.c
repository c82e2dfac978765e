// EXPECT: exec_rb_leak reject "Unreleased reference"
// BROKEN: a ring buffer record is reserved but, when reading the filename fails,
// the function returns without bpf_ringbuf_submit()/bpf_ringbuf_discard().
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event {
	__u32 pid;
	char filename[124];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int exec_rb_leak(struct trace_event_raw_sys_enter *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename),
				    (const char *)ctx->args[0]) < 0)
		return 0;                    /* BUG: should bpf_ringbuf_discard(e, 0) */
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
