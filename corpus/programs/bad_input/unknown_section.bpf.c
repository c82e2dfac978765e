// BPF912: a section name libbpf's table does not know, so no program type.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("my_custom_section")
int custom(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
