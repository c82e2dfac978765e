// EXPECT: sock_ptr_cmp accept
// EXPECT-NOPERFMON: sock_ptr_cmp reject "pointer comparison prohibited"
// BROKEN (BPF204) for loaders without CAP_PERFMON: two map value pointers are
// compared, which reveals kernel addresses. Root may do it. bpfproof: --unprivileged.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("socket")
int sock_ptr_cmp(struct __sk_buff *skb)
{
	__u32 k0 = 0, k1 = 1;
	__u64 *a = bpf_map_lookup_elem(&vals, &k0);
	__u64 *b = bpf_map_lookup_elem(&vals, &k1);

	if (a && b && a < b)    /* should compare *a and *b */
		return 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
