/* A legacy object: no SEC() at all, the only code is in .text (as
 * `clang -target bpf -c` gives for a plain function). Loaders of that era
 * passed the program type themselves (bpfproof: --type). */
int filter(void *ctx)
{
	return 0;
}
