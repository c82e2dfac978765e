// EXPECT: xdp_uninit_key accept
// EXPECT-NOPERFMON: xdp_uninit_key reject "invalid read from stack"
// BROKEN: the map key struct has a padding hole (u8 then u32) and only the named
// fields are written, so the helper reads uninitialised stack bytes.
// Privilege-dependent: since Linux 6.x the verifier lets CAP_PERFMON (or root) read
// uninitialised stack, so as root this loads (and hashes garbage padding!); with only
// CAP_BPF + CAP_NET_ADMIN it is rejected. The unprivileged verdict is the bug.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct conn_key {
	__u8 proto;
	/* 3 bytes of padding, never written */
	__u32 addr;
	__u16 port;
	/* 2 bytes of tail padding, never written */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct conn_key);
	__type(value, __u64);
} conns SEC(".maps");

SEC("xdp")
int xdp_uninit_key(struct xdp_md *ctx)
{
	struct conn_key key;         /* should be: struct conn_key key = {}; */
	__u64 *v;

	key.proto = 6;
	key.addr = ctx->rx_queue_index;
	key.port = 80;
	v = bpf_map_lookup_elem(&conns, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
