// EXPECT: exec_rb_oob reject "invalid access to memory, mem_size=16 off=16 size=8"
// BROKEN (BPF307): a 16-byte ring buffer record gets a third 8-byte field.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int exec_rb_oob(void *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&events, 16, 0);   /* should reserve 24 */

	if (!e)
		return 0;
	e[0] = bpf_get_current_pid_tgid();
	e[1] = bpf_ktime_get_ns();
	e[2] = 1;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
