// EXPECT: kprobe_copy_user reject "helper call might sleep in a non-sleepable prog"
// BROKEN (BPF404): bpf_copy_from_user may fault and sleep; a kprobe program is not
// sleepable (a uprobe.s program would be).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("kprobe/do_sys_openat2")
int kprobe_copy_user(struct pt_regs *ctx)
{
	char name[16];

	bpf_copy_from_user(name, sizeof(name), (void *)ctx->si);
	return name[0];
}

char LICENSE[] SEC("license") = "GPL";
