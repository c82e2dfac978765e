// EXPECT: task_comm_to_ctx reject "R1 type=ctx expected=fp"
// BROKEN: passes a pointer into the BPF_PROG_TYPE_SYSCALL context straight to a
// helper as the destination buffer; ctx is not an accepted helper memory argument
// (copy through the stack instead, as kfunc_task.bpf.c does).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct comm_query {
	int pid;
	char comm[16];
};

SEC("syscall")
int task_comm_to_ctx(struct comm_query *q)
{
	struct task_struct *t = bpf_task_from_pid(q->pid);

	if (!t)
		return -1;
	bpf_probe_read_kernel_str(q->comm, sizeof(q->comm), t->comm);
	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
