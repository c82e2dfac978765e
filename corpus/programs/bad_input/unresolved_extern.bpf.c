// BPF909: a kfunc no kernel has, declared as a strong (not __weak) extern.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern void bpf_no_such_kfunc(void) __ksym;

SEC("syscall")
int call_missing_kfunc(void *ctx)
{
	bpf_no_such_kfunc();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
