#!/usr/bin/env bash
# Build the project's own BPF C test programs in corpus/programs/.
#
#   corpus/build-programs.sh            # build every corpus/programs/*.bpf.c
#   BTF=/path/to/vmlinux.btf corpus/build-programs.sh
#   CLANG=clang-19 corpus/build-programs.sh foo.bpf.c bar.bpf.c
#
# Generates corpus/programs/include/vmlinux.h from the target kernel's BTF
# (default: ../shared/kernel/vmlinux-6.18.btf relative to the repo root).
# vmlinux.h is generated and large: it is not meant to be committed.
# The compiled .bpf.o files are committed so tests need no clang.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG_DIR="$REPO_ROOT/corpus/programs"
INC_DIR="$PROG_DIR/include"
BTF="${BTF:-$REPO_ROOT/../shared/kernel/vmlinux-6.18.btf}"
CLANG="${CLANG:-clang-19}"
BPFTOOL="${BPFTOOL:-bpftool}"
LIBBPF_INC="${LIBBPF_INC:-/usr/include}"

die() { echo "build-programs: $*" >&2; exit 1; }

command -v "$CLANG" >/dev/null || die "$CLANG not found"
command -v "$BPFTOOL" >/dev/null || die "$BPFTOOL not found"
[ -r "$BTF" ] || die "kernel BTF not readable: $BTF (set BTF=...)"

# libbpf headers (bpf_helpers.h & co). Debian bookworm: libbpf-dev (libbpf 1.1).
if [ ! -r "$LIBBPF_INC/bpf/bpf_helpers.h" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "build-programs: libbpf headers missing, installing libbpf-dev" >&2
        apt-get install -y libbpf-dev >/dev/null
    fi
    [ -r "$LIBBPF_INC/bpf/bpf_helpers.h" ] || die "libbpf headers not found in $LIBBPF_INC/bpf (apt-get install libbpf-dev)"
fi

mkdir -p "$INC_DIR"
tmp="$(mktemp "$INC_DIR/vmlinux.h.XXXXXX")"
"$BPFTOOL" btf dump file "$BTF" format c > "$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "$INC_DIR/vmlinux.h"

cd "$PROG_DIR"
if [ "$#" -gt 0 ]; then
    srcs=("$@")
else
    shopt -s nullglob
    srcs=(*.bpf.c)
fi
[ "${#srcs[@]}" -gt 0 ] || die "no *.bpf.c files in $PROG_DIR"

for src in "${srcs[@]}"; do
    src="$(basename "$src")"
    obj="${src%.c}.o"
    echo "  CC  $obj"
    "$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -mcpu=v3 \
        -I "$INC_DIR" -I "$LIBBPF_INC" \
        -c "$src" -o "$obj"
done
