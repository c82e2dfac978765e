// EXPECT: cg_ret_range reject "At program exit the register R0 has"
// BROKEN (BPF205): a cgroup_skb program must return 0 (drop) or 1 (allow); this
// one may return 0..3.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int cg_ret_range(struct __sk_buff *skb)
{
	return skb->len & 3;    /* should be: (skb->len & 3) == 0 */
}

char LICENSE[] SEC("license") = "GPL";
