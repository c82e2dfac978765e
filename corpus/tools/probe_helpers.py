#!/usr/bin/env python3
"""Record which helpers the running kernel offers to each program type.

For every program type and helper id, loads `call <id>; r0 = 0; exit` with
BPF_PROG_LOAD (root needed) and records the helper as unavailable when the
verifier log says "program of this type cannot use helper" (or "unknown
func"/"invalid func"); any other outcome (the helper's argument checks
failing, or an accept) means the type's get_func_proto returned a proto.
Program types that cannot be loaded this way (they need an attach target,
or are sleepable only) are left out. Writes JSON to stdout:

    corpus/tools/probe_helpers.py > corpus/outcomes/<kernel>/helper_availability.json
"""
import ctypes
import json
import os
import platform
import struct

NR_BPF = 321  # x86_64
BPF_PROG_LOAD = 5
# Program type -> expected_attach_type needed to load it at all.
ATTACH = {18: 10, 25: 21, 30: 36, 32: 45}
MAX_HELPER = 211

libc = ctypes.CDLL(None, use_errno=True)


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def load(prog_type, insns, attach):
    prog = ctypes.create_string_buffer(b"".join(insns))
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(1 << 16)
    attr = struct.pack("=IIQQIIQII16sII", prog_type, len(insns), ctypes.addressof(prog),
                       ctypes.addressof(lic), 1, len(log), ctypes.addressof(log), 0, 0,
                       b"", 0, attach)
    attr += b"\0" * (144 - len(attr))
    a = ctypes.create_string_buffer(attr)
    fd = libc.syscall(NR_BPF, BPF_PROG_LOAD, a, len(attr))
    if fd >= 0:
        os.close(fd)
    return log.value.decode(errors="replace")


def main():
    out = {"kernel": platform.release(), "max_helper": MAX_HELPER, "prog_types": {}}
    for pt in range(1, 33):
        attach = ATTACH.get(pt, 0)
        allowed = []
        for h in range(1, MAX_HELPER + 1):
            log = load(pt, [insn(0x85, imm=h), insn(0xB7), insn(0x95)], attach)
            if not any(m in log for m in ("cannot use helper", "unknown func", "invalid func")):
                allowed.append(h)
        if len(allowed) == MAX_HELPER:
            continue  # not loadable like this: every load failed before the helper check
        out["prog_types"][str(pt)] = {"expected_attach_type": attach, "allowed": allowed}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
