// EXPECT: loop_submit accept
// EXPECT: loop_hand_back accept
// References across bpf_loop callbacks: a record reserved and submitted in
// the callback, and one reserved in the callback and submitted by the
// caller (references belong to the whole program state, not to a frame).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

struct hand { __u64 *rec; };

static int emit_one(__u64 i, void *ctx)
{
	__u64 *rec = bpf_ringbuf_reserve(&rb, sizeof(*rec), 0);

	if (!rec)
		return 1;
	*rec = i;
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

static int reserve_one(__u64 i, struct hand *h)
{
	h->rec = bpf_ringbuf_reserve(&rb, sizeof(__u64), 0);
	return 1;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int loop_submit(void *ctx)
{
	bpf_loop(4, emit_one, NULL, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int loop_hand_back(void *ctx)
{
	struct hand h = {};

	bpf_loop(1, reserve_one, &h, 0);
	if (h.rec) {
		*h.rec = bpf_ktime_get_ns();
		bpf_ringbuf_submit(h.rec, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
