// CO-RE fixture with a hand-written (non-vmlinux.h) task_struct whose local
// layout differs from the kernel's, so every relocation changes a value.
// Build: clang-19 -O2 -g -target bpf -c btf_core_mini.c -o btf_core_mini.o
//        llvm-strip-19 --strip-debug btf_core_mini.o
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
	unsigned long long flags;	/* unsigned int in the kernel: load narrows */
	unsigned int in_execve:1;	/* a kernel bitfield */
} __attribute__((preserve_access_index));

enum bpf_map_type___x {
	BPF_MAP_TYPE_NOPE___x = 1000,	/* no such enumerator in the kernel */
};

long out[16];

SEC("kprobe/do_nanosleep")
int mini(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task_btf();

	out[0] = t->pid;
	out[1] = t->tgid;
	out[2] = (long)t->real_parent;
	out[3] = t->comm[2];
	out[4] = t->flags;
	out[5] = BPF_CORE_READ_BITFIELD(t, in_execve);
	out[6] = bpf_core_enum_value(enum bpf_map_type___x, BPF_MAP_TYPE_NOPE___x);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
