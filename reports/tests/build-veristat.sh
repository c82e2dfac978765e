#!/usr/bin/env bash
# Builds veristat (tools/testing/selftests/bpf/veristat.c of the kernel
# source) against the system libbpf, for the `veristat -C` comparison test.
#   usage: build-veristat.sh OUT [LINUX_SRC]
#   LINUX_SRC defaults to $BPFPROOF_LINUX_SRC, then
#   /var/cache/bpfproof/linux-source-6.12 (what `bpfproof corpus build` unpacks).
# Needs gcc, libbpf-dev, libelf-dev, zlib1g-dev (.ci/setup-debian installs them).
# Exits 0 after building OUT, non-zero with a reason on standard error.
set -euo pipefail
out=${1:?usage: build-veristat.sh OUT [LINUX_SRC]}
src=${2:-${BPFPROOF_LINUX_SRC:-/var/cache/bpfproof/linux-source-6.12}}
c="$src/tools/testing/selftests/bpf/veristat.c"
[ -f "$c" ] || { echo "no $c" >&2; exit 1; }
# veristat uses UAPI flags newer than Debian 12's linux-libc-dev
# (BPF_F_TEST_REG_INVARIANTS): take the kernel's own linux/bpf.h, alone, so
# the rest of the system headers stay as they are.
inc=$(mktemp -d)
trap 'rm -rf "$inc"' EXIT
mkdir -p "$inc/linux"
for h in "$src/tools/include/uapi/linux/bpf.h" "$src/include/uapi/linux/bpf.h"; do
    if [ -f "$h" ]; then cp "$h" "$inc/linux/bpf.h"; break; fi
done
mkdir -p "$(dirname "$out")"
gcc -O1 -w -I "$inc" -o "$out.tmp" "$c" -lbpf -lelf -lz -lm
mv "$out.tmp" "$out"
