#!/usr/bin/env python3
"""Generate the crafted invalid inputs of the BPF9xx input-error codes.

    python3 corpus/programs/bad_input/make_bad_inputs.py

Each output is derived from an object committed in corpus/programs/ (byte
surgery on its ELF, BTF or BTF.ext), or compiled from a small C file here
with clang-19 (-target bpf) when the input error is one the compiler can
produce. The outputs are committed, so tests need neither Python nor clang.
"""
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROGS = os.path.dirname(HERE)
CLANG = os.environ.get("CLANG", "clang-19")


def read(name):
    with open(os.path.join(PROGS, name), "rb") as f:
        return bytearray(f.read())


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(bytes(data))
    print("  GEN", name)


def sections(elf):
    """(name, header offset, sh_offset, sh_size, sh_type) of each section."""
    e_shoff, = struct.unpack_from("<Q", elf, 0x28)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    def hdr(i):
        return e_shoff + i * e_shentsize
    str_off, = struct.unpack_from("<Q", elf, hdr(e_shstrndx) + 0x18)
    out = []
    for i in range(e_shnum):
        h = hdr(i)
        name_off, sh_type = struct.unpack_from("<II", elf, h)
        off, size = struct.unpack_from("<QQ", elf, h + 0x18)
        end = elf.index(b"\0", str_off + name_off)
        out.append((elf[str_off + name_off:end].decode(), h, off, size, sh_type))
    return out


def section(elf, name):
    for s in sections(elf):
        if s[0] == name:
            return s
    sys.exit(f"no section {name}")


def clang(src, out):
    subprocess.run([CLANG, "-O2", "-g", "-target", "bpf", "-D__TARGET_ARCH_x86", "-mcpu=v3",
                    "-I", os.path.join(PROGS, "include"), "-I", "/usr/include",
                    "-c", os.path.join(HERE, src), "-o", os.path.join(HERE, out)], check=True)
    print("  CC ", out)


def main():
    # BPF901: a directory where an object is expected (read fails: EISDIR).
    d = os.path.join(HERE, "directory.bpf.o")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "README"), "w") as f:
        f.write("A directory named like an object: reading it fails (BPF901).\n")

    base = read("xdp_fw.bpf.o")

    # BPF902: the first 100 bytes of a real object (truncated ELF).
    write("truncated.bpf.o", base[:100])

    # BPF903: an ELF object for x86-64 (e_machine 62) instead of BPF (247).
    elf = bytearray(base)
    struct.pack_into("<H", elf, 0x12, 62)
    write("not_bpf.bpf.o", elf)

    # BPF904: the code section "xdp" is 3 bytes shorter than its instructions.
    elf = bytearray(base)
    _, h, _, size, _ = section(elf, "xdp")
    struct.pack_into("<Q", elf, h + 0x20, size - 3)
    write("bad_code_size.bpf.o", elf)

    # BPF905: the first relocation of "xdp" points in the middle of an instruction.
    elf = bytearray(base)
    _, _, off, _, _ = section(elf, ".relxdp")
    r_offset, = struct.unpack_from("<Q", elf, off)
    struct.pack_into("<Q", elf, off, r_offset + 4)
    write("bad_reloc.bpf.o", elf)

    # BPF906: the .BTF header's magic is wrong.
    elf = bytearray(base)
    _, _, off, _, _ = section(elf, ".BTF")
    struct.pack_into("<H", elf, off, 0xdead)
    write("bad_btf.bpf.o", elf)

    # BPF907: the .BTF.ext header's magic is wrong.
    elf = bytearray(base)
    _, _, off, _, _ = section(elf, ".BTF.ext")
    struct.pack_into("<H", elf, off, 0xdead)
    write("bad_btf_ext.bpf.o", elf)

    # BPF910: a CO-RE relocation record whose instruction offset lies far
    # outside its section (kprobe_openat.bpf.o reads task fields with CO-RE).
    elf = read("kprobe_openat.bpf.o")
    _, _, off, _, _ = section(elf, ".BTF.ext")
    hdr_len, = struct.unpack_from("<I", elf, off + 4)
    core_off, core_len = struct.unpack_from("<II", elf, off + 24)
    assert core_len > 0, "no CO-RE relocations"
    sub = off + hdr_len + core_off
    # record size, then per section: sec_name_off, num_info, records of
    # (insn_off, type_id, access_str_off, kind)
    first = sub + 4 + 8
    struct.pack_into("<I", elf, first, 0x7ffffff8)
    write("bad_core_relo.bpf.o", elf)

    # BPF913: a target BTF that is not BTF.
    with open(os.path.join(HERE, "not_btf.btf"), "w") as f:
        f.write("struct task_struct { int pid; };  /* a header, not a BTF blob */\n")
    print("  GEN not_btf.btf")

    # BPF908, BPF909, BPF912: compiled from C.
    clang("bad_map_def.bpf.c", "bad_map_def.bpf.o")
    clang("unresolved_extern.bpf.c", "unresolved_extern.bpf.o")
    clang("unknown_section.bpf.c", "unknown_section.bpf.o")


if __name__ == "__main__":
    main()
