// EXPECT: lookup_task accept
// kfunc calls from a BPF_PROG_TYPE_SYSCALL program (run with BPF_PROG_TEST_RUN):
// bpf_task_from_pid() returns an acquired (refcounted) task_struct pointer that
// must be released with bpf_task_release() on every path.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct task_query {
	int pid;                 /* in */
	int tgid;                /* out */
	int ppid;                /* out */
	char comm[16];           /* out */
};

SEC("syscall")
int lookup_task(struct task_query *q)
{
	struct task_struct *t;
	char comm[16];

	t = bpf_task_from_pid(q->pid);
	if (!t)
		return -1;           /* ESRCH */
	q->tgid = t->tgid;
	q->ppid = BPF_CORE_READ(t, real_parent, tgid);
	/* the syscall ctx is not a valid helper memory argument: go via the stack */
	bpf_probe_read_kernel_str(comm, sizeof(comm), t->comm);
	__builtin_memcpy(q->comm, comm, sizeof(comm));
	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
