// EXPECT: exec_dynptr_event accept
// EXPECT: xdp_dynptr_parse accept
// Ring-buffer records through a dynptr (reserve, write, data slice, submit or
// discard on every path) and XDP parsing through bpf_dynptr_slice.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

extern int bpf_dynptr_from_xdp(struct xdp_md *xdp, __u64 flags,
			       struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *ptr, __u32 offset,
			      void *buffer, __u32 buffer__szk) __ksym;

struct event {
	__u32 pid;
	__u32 uid;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int exec_dynptr_event(void *ctx)
{
	struct bpf_dynptr ptr;
	struct event *e;
	__u64 ts = bpf_ktime_get_ns();

	if (bpf_ringbuf_reserve_dynptr(&rb, sizeof(struct event), 0, &ptr)) {
		/* A failed reservation is still released. */
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return 0;
	}
	e = bpf_dynptr_data(&ptr, 0, sizeof(*e));
	if (!e) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return 0;
	}
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_dynptr_write(&ptr, offsetof(struct event, ts), &ts, sizeof(ts), 0);
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return 0;
}

SEC("xdp")
int xdp_dynptr_parse(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	struct ethhdr eth_buf;
	struct iphdr ip_buf;
	struct ethhdr *eth;
	struct iphdr *ip;

	if (bpf_dynptr_from_xdp(ctx, 0, &ptr))
		return XDP_PASS;
	eth = bpf_dynptr_slice(&ptr, 0, &eth_buf, sizeof(eth_buf));
	if (!eth)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(0x0800))
		return XDP_PASS;
	ip = bpf_dynptr_slice(&ptr, sizeof(*eth), &ip_buf, sizeof(ip_buf));
	if (!ip)
		return XDP_PASS;
	return ip->ttl <= 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
