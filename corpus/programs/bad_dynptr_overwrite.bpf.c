// EXPECT: exec_dynptr_overwrite reject "cannot overwrite referenced dynptr"
// BROKEN: the stack bytes of a live ring-buffer dynptr are overwritten (here
// by reusing the variable's storage as a scratch counter) before it is
// submitted.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int exec_dynptr_overwrite(void *ctx)
{
	struct bpf_dynptr ptr;

	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &ptr);
	*(volatile __u64 *)&ptr = bpf_ktime_get_ns();   /* BUG: clobbers the dynptr */
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
