// EXPECT: legacy_count accept
// Pre-BTF (iproute2 / libbpf < 1.0 era) map definitions: struct bpf_map_def records
// in a SEC("maps") ELF section, no BTF for key/value types.
// Loader note: libbpf >= 1.0 (so bpftool 7.1 / libbpf 1.1 here) refuses the object
// before any bpf() call ("legacy map definitions in 'maps' section are not supported
// by libbpf v1.0+"); measure.py loads it with its own minimal bpf(2) loader instead.
// The array lookup uses constant key 0 < max_entries, which recent verifiers treat
// as non-NULL; the NULL check is still there, as older kernels require it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") pkt_counter = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1,
};

SEC("socket")
int legacy_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&pkt_counter, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
