#!/usr/bin/env python3
"""Measure what the running kernel's verifier says about every corpus object.

Run as root on a machine where bpf(BPF_PROG_LOAD) works, after
corpus/build-programs.sh:

    python3 corpus/programs/measure.py            # writes expected.jsonl, checks EXPECT lines
    python3 corpus/programs/measure.py --check    # only compare, do not rewrite expected.jsonl

For each NAME.bpf.o it runs `bpftool prog loadall NAME.bpf.o /sys/fs/bpf/bpfproof_tmp_NAME`
(pins are removed afterwards), takes the verifier log libbpf prints on failure and
extracts the kernel's first error line: the first line of the block that follows the
instruction trace and precedes the "processed N insns" summary.

Objects whose maps libbpf >= 1.0 refuses to parse (legacy SEC("maps") with struct
bpf_map_def) are loaded with a minimal raw bpf(2) loader instead (raw_load below),
so the kernel's verdict is still measured.

Annotations in each NAME.bpf.c (one line per program function):
    // EXPECT: <function> accept
    // EXPECT: <function> reject "<substring of the kernel's first error line>"
    // EXPECT: <function> not-measured "<reason>"
Optional, for verdicts that depend on privilege, measured with
`capsh --drop=cap_sys_admin,cap_perfmon` (CAP_BPF + CAP_NET_ADMIN kept):
    // EXPECT-NOPERFMON: <function> reject "<substring>"
"""
import ctypes
import json
import os
import re
import shlex
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PIN_ROOT = "/sys/fs/bpf"
BPFTOOL = os.environ.get("BPFTOOL", "bpftool")
CLANG = os.environ.get("CLANG", "clang-19")
OBJDUMP = os.environ.get("OBJDUMP", "llvm-objdump-19")

EXPECT_RE = re.compile(
    r'^//\s*(EXPECT|EXPECT-NOPERFMON):\s+(\S+)\s+(accept|reject|not-measured)(?:\s+"(.*)")?\s*$')
TRACE_RE = re.compile(r'^(\d+: |; |\d+: R|from \d+ to \d+|Func#|func#|Validating |Live regs|\s*$|mark_precise|Global function |caller:|callee:|returning from|last_idx|frame\d|arg#|regs=|parent )')


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def parse_expect(src):
    out = {}
    with open(src) as f:
        for line in f:
            m = EXPECT_RE.match(line.strip())
            if m:
                kind, fn, verdict, msg = m.groups()
                out.setdefault(kind, {})[fn] = (verdict, msg.replace('\\"', '"') if msg else None)
    return out


def programs(obj):
    """[(function, section)] for every program entry point (global FUNC outside .text)."""
    res = []
    for line in sh([OBJDUMP, "-t", obj]).stdout.splitlines():
        parts = line.split()
        # 0000000000000000 g     F xdp	0000000000000060 xdp_handle_ipv4
        if len(parts) >= 6 and parts[1] == "g" and parts[2] == "F" and parts[3] != ".text":
            res.append((parts[5], parts[3]))
    return res


def first_error_line(log_lines):
    """First line of the trailing error block in a verifier log."""
    end = len(log_lines)
    for i, l in enumerate(log_lines):
        if l.startswith("processed ") and " insns " in l:
            end = i
            break
    i = end
    while i > 0 and not TRACE_RE.match(log_lines[i - 1]):
        i -= 1
    if i < end:
        return log_lines[i].strip()
    return None


def bpftool_loadall(obj, name, prefix=()):
    pin = os.path.join(PIN_ROOT, "bpfproof_tmp_" + name)
    sh(["rm", "-rf", pin])
    cmd = list(prefix) + [BPFTOOL, "prog", "loadall", obj, pin]
    if prefix:  # capsh -- -c "<cmd>"
        cmd = list(prefix) + [" ".join(shlex.quote(c) for c in [BPFTOOL, "prog", "loadall", obj, pin])]
    r = sh(cmd)
    sh(["rm", "-rf", pin])
    return r.returncode, r.stderr


def analyse_bpftool(rc, stderr, progs):
    """-> {function: (kernel, message)}, loader_error"""
    res = {}
    if rc == 0:
        return {fn: ("accept", None) for fn, _ in progs}, None
    lines = stderr.splitlines()
    failed = None
    for i, l in enumerate(lines):
        m = re.match(r"libbpf: prog '([^']+)': -- BEGIN PROG LOAD LOG --", l)
        if m:
            failed = m.group(1)
            log = []
            for l2 in lines[i + 1:]:
                if l2.startswith("-- END PROG LOAD LOG --"):
                    break
                log.append(l2)
            res[failed] = ("reject", first_error_line(log))
            break
    if failed is None:
        # never reached the kernel (libbpf refused the object)
        err = next((l for l in lines if l.startswith("libbpf:")), lines[0] if lines else None)
        return {fn: ("not-run", err) for fn, _ in progs}, err
    for fn, _ in progs:
        res.setdefault(fn, ("not-run", "object load aborted at program %s" % failed))
    return res, None


# ---------------------------------------------------------------- raw bpf(2) loader
SYS_BPF = 321  # x86_64
BPF_MAP_CREATE, BPF_PROG_LOAD = 0, 5
PROG_TYPES = {"socket": 1, "kprobe": 2, "tc": 3, "classifier": 3, "tracepoint": 5, "xdp": 6}
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), 128)
    r = libc.syscall(SYS_BPF, cmd, buf, 128)
    return r, ctypes.get_errno()


def elf_sections(data):
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    secs = []
    for i in range(shnum):
        name, typ, flags, addr, off, size, link, info, align, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + i * shentsize)
        secs.append(dict(name_off=name, type=typ, off=off, size=size, link=link, info=info))
    strtab = secs[shstrndx]
    for s in secs:
        s["name"] = data[strtab["off"] + s["name_off"]:].split(b"\0", 1)[0].decode()
    return secs


def raw_load(obj, progs):
    """Load legacy-map objects without libbpf: create maps from struct bpf_map_def,
    patch ld_imm64 map relocations with the fds, BPF_PROG_LOAD each program section."""
    data = open(obj, "rb").read()
    secs = elf_sections(data)
    symtab = next(s for s in secs if s["type"] == 2)
    strtab = secs[symtab["link"]]
    syms = []
    for i in range(symtab["size"] // 24):
        st_name, st_info, st_other, st_shndx, st_value, st_size = struct.unpack_from(
            "<IBBHQQ", data, symtab["off"] + i * 24)
        name = data[strtab["off"] + st_name:].split(b"\0", 1)[0].decode()
        syms.append((name, st_shndx, st_value))
    license = b"GPL"
    maps_idx = next((i for i, s in enumerate(secs) if s["name"] == "maps"), None)
    fds = {}
    for i, s in enumerate(secs):
        if s["name"] == "license":
            license = data[s["off"]:s["off"] + s["size"]].split(b"\0", 1)[0]
    for name, shndx, value in syms:
        if shndx == maps_idx and name:
            mtype, ks, vs, me, mf = struct.unpack_from("<5I", data, secs[maps_idx]["off"] + value)
            fd, err = bpf(BPF_MAP_CREATE, struct.pack("<5I", mtype, ks, vs, me, mf))
            if fd < 0:
                raise OSError(err, "BPF_MAP_CREATE %s" % name)
            fds[name] = fd
    results = {}
    try:
        for fn, sec in progs:
            idx = next(i for i, s in enumerate(secs) if s["name"] == sec)
            insns = bytearray(data[secs[idx]["off"]:secs[idx]["off"] + secs[idx]["size"]])
            for rs in secs:
                if rs["type"] == 9 and rs["info"] == idx:  # SHT_REL for this section
                    for k in range(rs["size"] // 16):
                        r_off, r_info = struct.unpack_from("<QQ", data, rs["off"] + k * 16)
                        sname = syms[r_info >> 32][0]
                        insns[r_off + 1] = (insns[r_off + 1] & 0x0F) | (1 << 4)  # src_reg = PSEUDO_MAP_FD
                        struct.pack_into("<i", insns, r_off + 4, fds[sname])
            ptype = PROG_TYPES[sec.split("/")[0]]
            ibuf = ctypes.create_string_buffer(bytes(insns), len(insns))
            lic = ctypes.create_string_buffer(license + b"\0")
            logbuf = ctypes.create_string_buffer(1 << 20)
            attr = struct.pack("<IIQQIIQII16s", ptype, len(insns) // 8, ctypes.addressof(ibuf),
                               ctypes.addressof(lic), 1, len(logbuf), ctypes.addressof(logbuf),
                               0, 0, fn.encode()[:15])
            fd, err = bpf(BPF_PROG_LOAD, attr)
            if fd >= 0:
                os.close(fd)
                results[fn] = ("accept", None)
            else:
                log = logbuf.value.decode(errors="replace").splitlines()
                results[fn] = ("reject", first_error_line(log) or os.strerror(err))
    finally:
        for fd in fds.values():
            os.close(fd)
    return results


# ---------------------------------------------------------------- main
def main():
    check_only = "--check" in sys.argv
    os.chdir(HERE)
    kver = os.uname().release
    clang = sh([CLANG, "--version"]).stdout.splitlines()[0]
    records, problems = [], []
    for src in sorted(f for f in os.listdir(".") if f.endswith(".bpf.c")):
        name = src[:-len(".bpf.c")]
        obj = name + ".bpf.o"
        exp = parse_expect(src)
        progs = programs(obj)
        rc, err = bpftool_loadall(obj, name)
        res, loader_err = analyse_bpftool(rc, err, progs)
        loader = "bpftool prog loadall"
        if loader_err and "legacy map definitions" in loader_err:
            res = raw_load(obj, progs)
            loader = "raw bpf(2) loader (measure.py); bpftool/libbpf refused: " + loader_err
        noperf = {}
        if "EXPECT-NOPERFMON" in exp:
            rc2, err2 = bpftool_loadall(obj, name, prefix=["capsh", "--drop=cap_sys_admin,cap_perfmon", "--", "-c"])
            noperf, _ = analyse_bpftool(rc2, err2, progs)
        for fn, sec in progs:
            kernel, msg = res[fn]
            rec = {"object": obj, "program": fn, "section": sec, "kernel": kernel,
                   "message": msg, "kernel_version": kver, "clang": clang, "loader": loader}
            if fn in noperf:
                rec["kernel_without_perfmon"] = noperf[fn][0]
                rec["message_without_perfmon"] = noperf[fn][1]
            records.append(rec)
            # compare with the annotation
            e = exp.get("EXPECT", {}).get(fn)
            if e is None:
                problems.append("%s: %s has no EXPECT line" % (src, fn))
            elif e[0] == "not-measured":
                if kernel != "not-run":
                    problems.append("%s: %s marked not-measured but kernel said %s" % (src, fn, kernel))
            elif e[0] != kernel or (e[1] and (msg is None or e[1] not in msg)):
                problems.append("%s: %s EXPECT %s %r, kernel %s %r" % (src, fn, e[0], e[1], kernel, msg))
            e2 = exp.get("EXPECT-NOPERFMON", {}).get(fn)
            if e2 and (e2[0] != noperf.get(fn, ("?",))[0] or (e2[1] and e2[1] not in (noperf[fn][1] or ""))):
                problems.append("%s: %s EXPECT-NOPERFMON %s, kernel %s" % (src, fn, e2, noperf.get(fn)))
        for fn in exp.get("EXPECT", {}):
            if fn not in dict(progs):
                problems.append("%s: EXPECT for unknown program %s" % (src, fn))
        for fn, _ in progs:
            k, m = res[fn]
            print("%-26s %-24s %-7s %s" % (obj, fn, k, m or ""))
    if not check_only:
        with open("expected.jsonl", "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
    for p in problems:
        print("MISMATCH:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
