// EXPECT: tc_release_borrowed reject "must be referenced when passed to release function"
// BROKEN (BPF502): skb->sk is borrowed from the skb, not acquired with
// bpf_sk_lookup_*; releasing it would drop a reference the program does not own.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_release_borrowed(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (sk)
		bpf_sk_release(sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
