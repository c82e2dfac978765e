// BTF-defined maps and func_info/line_info fixture.
// Build: clang-19 -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c btf_maps.c -o btf_maps.o
//        llvm-strip-19 --strip-debug btf_maps.o
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val {
	__u64 a;
	__u32 b[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} hmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 100);
	__type(value, __u64);
	__uint(map_extra, 3);
} bloom SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, int);
} inner1 SEC(".maps"), inner2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, int);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner1, [2] = &inner2 },
};

int tail(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp SEC(".maps") = {
	.values = { [1] = (void *)&tail },
};

static __attribute__((noinline)) int helper(int x)
{
	return x * 3 + 1;
}

SEC("tc")
int tail(void *ctx)
{
	return 7;
}

SEC("tc")
int entry(void *ctx)
{
	__u32 k = 0;
	struct val *v = bpf_map_lookup_elem(&hmap, &k);

	if (!v)
		return helper(2);
	bpf_tail_call(ctx, &jmp, 1);
	return helper((int)v->a);
}

char LICENSE[] SEC("license") = "GPL";
