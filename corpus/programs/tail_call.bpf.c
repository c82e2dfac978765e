// EXPECT: xdp_dispatch accept
// EXPECT: xdp_handle_ipv4 accept
// EXPECT: xdp_handle_ipv6 accept
// Tail calls through a BPF_MAP_TYPE_PROG_ARRAY: a dispatcher jumps to a per-protocol
// handler; the prog array is statically initialised so libbpf fills the slots.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP   0x0800
#define ETH_P_IPV6 0x86DD

enum { SLOT_IPV4 = 0, SLOT_IPV6 = 1 };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pkt_count SEC(".maps");

static __always_inline void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&pkt_count, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_handle_ipv4(struct xdp_md *ctx)
{
	bump(SLOT_IPV4);
	return XDP_PASS;
}

SEC("xdp")
int xdp_handle_ipv6(struct xdp_md *ctx)
{
	bump(SLOT_IPV6);
	return XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = {
		[SLOT_IPV4] = (void *)&xdp_handle_ipv4,
		[SLOT_IPV6] = (void *)&xdp_handle_ipv6,
	},
};

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		bpf_tail_call(ctx, &jmp_table, SLOT_IPV4);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		bpf_tail_call(ctx, &jmp_table, SLOT_IPV6);
	/* tail call failed (empty slot) or other protocol */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
