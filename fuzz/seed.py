#!/usr/bin/env python3
"""Seeds the fuzz corpora from the committed objects (corpus/programs):
load_object gets the object files whole; engine_insns gets, per program
section, a program-type byte followed by the section's instructions."""
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "corpus", "programs")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# Index into engine_insns.rs's TYPES by section prefix.
TYPES = {"socket": 0, "kprobe": 1, "tc": 2, "classifier": 2, "tracepoint": 3,
         "tp/": 3, "xdp": 4, "cgroup_skb": 5, "raw_tp": 6, "raw_tracepoint": 6,
         "perf_event": 7}


def sections(data):
    """(name, bytes, is_exec) of every section of a 64-bit little-endian ELF."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = hdrs[shstrndx]
    out = []
    for h in hdrs:
        name_off, typ, flags, _, off, size = h[:6]
        start = strtab[4] + name_off
        name = data[start:data.index(b"\0", start)].decode()
        out.append((name, data[off:off + size] if typ != 8 else b"", bool(flags & 4)))
    return out


def main():
    os.makedirs(os.path.join(OUT, "load_object"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "engine_insns"), exist_ok=True)
    n_obj = n_prog = 0
    for f in sorted(os.listdir(SRC)):
        if not f.endswith(".bpf.o"):
            continue
        data = open(os.path.join(SRC, f), "rb").read()
        open(os.path.join(OUT, "load_object", f), "wb").write(data)
        n_obj += 1
        for name, body, is_exec in sections(data):
            if not is_exec or not body or name == ".text":
                continue
            t = next((v for k, v in TYPES.items() if name.startswith(k)), 0)
            seed = bytes([t]) + body
            safe = name.replace("/", "_")
            open(os.path.join(OUT, "engine_insns", f"{f}.{safe}"), "wb").write(seed)
            n_prog += 1
    print(f"seeded {n_obj} objects, {n_prog} program sections", file=sys.stderr)


if __name__ == "__main__":
    main()
