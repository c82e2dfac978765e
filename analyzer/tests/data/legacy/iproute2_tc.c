/* An iproute2-era tc object: struct bpf_elf_map (36 bytes) in "maps",
 * program in section "classifier", helpers called by number. */
#define SEC(n) __attribute__((section(n), used))
struct bpf_elf_map {
	unsigned int type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx;
};
struct bpf_elf_map SEC("maps") acc_map = {
	.type = 2, .size_key = 4, .size_value = 8, .max_elem = 2, .pinning = 2,
};
static void *(*map_lookup)(void *map, const void *key) = (void *)1;
SEC("classifier") int cls_main(void *skb)
{
	unsigned int key = 0;
	unsigned long long *v = map_lookup(&acc_map, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return -1;
}
SEC("action") int act_main(void *skb)
{
	return 0;
}
char __license[] SEC("license") = "GPL";
