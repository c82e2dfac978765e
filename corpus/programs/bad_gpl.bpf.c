// EXPECT: kprobe_not_gpl reject "cannot call GPL-restricted function from non-GPL compatible program"
// BROKEN (BPF403): bpf_probe_read_kernel is GPL-only and the license is not GPL.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("kprobe/do_sys_openat2")
int kprobe_not_gpl(struct pt_regs *ctx)
{
	char buf[8];

	bpf_probe_read_kernel(buf, sizeof(buf), (void *)ctx->di);
	return buf[0];
}

char LICENSE[] SEC("license") = "Proprietary";    /* should be "GPL" */
