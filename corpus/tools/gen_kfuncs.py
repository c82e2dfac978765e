#!/usr/bin/env python3
"""Generate analyzer/src/platform/kfuncs_data.rs from a Linux source tree.

Extracts, from the kernel sources (no hand-typed data):

* the ``KF_*`` kfunc flag constants of ``include/linux/btf.h`` (with their
  kernel comments);
* every kfunc set of the tree: ``BTF_KFUNCS_START(set)`` (or the older
  ``BTF_SET8_START(set)``) ... ``BTF_ID_FLAGS(func, name[, KF_A | KF_B])``
  ... ``BTF_KFUNCS_END(set)``.  Macros used inside a set (e.g. the
  ``XDP_METADATA_KFUNC_xxx`` X-macro of ``net/core/xdp.c``) are expanded
  with the ``#define``\\ s of the file and of the headers it includes.
  ``#if`` blocks inside a set are kept and recorded as the entry's
  condition (C text, e.g. ``CONFIG_CGROUPS``; ``#ifndef X`` gives ``!X``);
  the ``#if`` blocks around the set definition are recorded on the set;
* every ``struct btf_kfunc_id_set NAME = { .owner, .set = &SET, .filter }``
  and every ``register_btf_kfunc_id_set(BPF_PROG_TYPE_X, &NAME)`` call,
  giving for each id set the program types it is registered for
  (``UNSPEC`` is the common hook, allowed for every program type) and its
  filter function.  Names are resolved per file (the id sets are
  ``static``).  ``register_btf_fmodret_id_set`` sets are not kfunc sets:
  their entries are left out and listed in the trailer;
  ``register_btf_id_dtor_kfuncs`` is ignored;
* ``BTF_ID_LIST(special_kfunc_list)`` of ``kernel/bpf/verifier.c`` in
  order, checked against its ``enum special_kfunc_type``.

Usage (from the workspace root):

    python3 corpus/tools/gen_kfuncs.py \\
        --linux /var/cache/bpfproof/linux-source-6.12 \\
        --out analyzer/src/platform/kfuncs_data.rs

``--check`` compares instead of writing (exit 1 when stale).  Python 3.11,
stdlib only; the output is run through ``rustfmt --edition 2024``.
Structural surprises raise; registrations that cannot be resolved to a
constant program type and a known id set are listed at the end of the
generated file and on stderr.  ``tools/``, ``samples/`` and the other
non-kernel top-level directories are not scanned (the selftest modules
under ``tools/testing`` define kfuncs of their own).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# Lexing
# --------------------------------------------------------------------------


# The comment stripper and the error type are gen_helper_protos.py's.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_helper_protos import ParseError, strip_comments, write_rust  # noqa: E402


def logical_lines(src: str) -> list[tuple[int, str]]:
    """(first line number, text) of each line, backslash continuations joined."""
    lines = strip_comments(src).split("\n")
    out = []
    i = 0
    while i < len(lines):
        text = lines[i]
        start = i + 1
        while text.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text.rstrip()[:-1] + " " + lines[i]
        i += 1
        out.append((start, text))
    return out


TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<ident>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<num>(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)
  | (?P<str>"(?:\\.|[^"\\])*")
  | (?P<chr>'(?:\\.|[^'\\])*')
  | (?P<punct>\.\.\.|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\?:|\#\#|[{}()\[\];,.?:~!%^&*+\-=/<>|\#])
    """,
    re.VERBOSE,
)


@dataclass
class Tok:
    kind: str  # ident, num, str, chr, punct
    text: str
    line: int
    cond: tuple[str, ...] = ()


def lex_line(text: str, line: int, where: str, cond: tuple[str, ...] = ()) -> list[Tok]:
    toks = []
    pos = 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise ParseError(f"{where}:{line}: cannot lex {text[pos:pos + 20]!r}")
        if m.lastgroup != "ws":
            toks.append(Tok(m.lastgroup, m.group(), line, cond))
        pos = m.end()
    return toks


def split_args(toks: list[Tok], i: int, where: str) -> tuple[list[list[Tok]], int]:
    """`toks[i]` is `(` or `{`: the top-level comma-separated arguments and
    the index after the matching `)` or `}`."""
    assert toks[i].text in ("(", "{")
    depth = 0
    args: list[list[Tok]] = [[]]
    j = i
    while j < len(toks):
        t = toks[j]
        if t.text in "([{" and t.kind == "punct":
            depth += 1
            if depth > 1:
                args[-1].append(t)
        elif t.text in ")]}" and t.kind == "punct":
            depth -= 1
            if depth == 0:
                return ([] if args == [[]] else args), j + 1
            args[-1].append(t)
        elif t.text == "," and depth == 1:
            args.append([])
        else:
            args[-1].append(t)
        j += 1
    raise ParseError(f"{where}:{toks[i].line}: unbalanced parentheses")


def text_of(toks: list[Tok]) -> str:
    out = ""
    for t in toks:
        if out and t.kind in ("ident", "num") and (out[-1].isalnum() or out[-1] == "_"):
            out += " "
        out += t.text
    return out


# --------------------------------------------------------------------------
# Preprocessor conditions
# --------------------------------------------------------------------------

CMP_FLIP = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def balanced(s: str) -> bool:
    d = 0
    for c in s:
        d += c == "("
        d -= c == ")"
        if d < 0:
            return False
    return d == 0


def negate_text(s: str) -> str:
    if "&&" not in s and "||" not in s and "?" not in s:
        ops = list(re.finditer(r" (==|!=|<=|>=|<|>) ", s))
        if len(ops) == 1 and balanced(s[: ops[0].start()]):
            m = ops[0]
            return f"{s[: m.start()]} {CMP_FLIP[m.group(1)]} {s[m.end():]}"
    if s.startswith("!") and re.fullmatch(r"![\w]+(\(.*\))?", s) and balanced(s[1:]):
        return s[1:]
    if re.fullmatch(r"[\w]+(\(.*\))?", s) and balanced(s):
        return "!" + s
    if s.startswith("!(") and s.endswith(")") and balanced(s[2:-1]):
        return s[2:-1]
    return "!(" + s + ")"


def conj(parts: list[str] | tuple[str, ...]) -> str | None:
    """`a && b` of condition texts (parenthesising `||`), None when empty."""
    out = []
    for p in parts:
        if p in out:
            continue
        out.append(p)
    if not out:
        return None
    if len(out) == 1:
        return out[0]
    return " && ".join(f"({p})" if "||" in p or "?" in p else p for p in out)


class CondStack:
    """`#if` nesting; each level is the list of its branch conditions so far."""

    def __init__(self, where: str):
        self.levels: list[list[str]] = []
        self.where = where

    def directive(self, d: str, line: int) -> bool:
        """Apply a conditional directive (text after `#`); False if `d` is not one."""
        word = re.match(r"\s*(\w*)", d).group(1)
        rest = " ".join(d.strip()[len(word) :].split())
        if word == "ifdef":
            self.levels.append([rest])
        elif word == "ifndef":
            self.levels.append(["!" + rest])
        elif word == "if":
            self.levels.append([rest])
        elif word in ("elif", "else", "endif"):
            if not self.levels:
                raise ParseError(f"{self.where}:{line}: #{word} without #if")
            if word == "elif":
                self.levels[-1].append(rest)
            elif word == "else":
                self.levels[-1].append("")
            else:
                self.levels.pop()
        else:
            return False
        return True

    def current(self) -> tuple[str, ...]:
        """One condition text per open level (the active branch)."""
        out = []
        for branches in self.levels:
            prior = [negate_text(b) for b in branches[:-1]]
            last = branches[-1]
            out.append(conj(prior + ([last] if last else [])) or "1")
        return tuple(out)


# --------------------------------------------------------------------------
# Macro expansion (only used inside kfunc sets)
# --------------------------------------------------------------------------


@dataclass
class Macro:
    name: str
    params: list[str] | None  # None: object-like
    body: list[Tok]


DEFINE_RE = re.compile(r"\s*#\s*define\s+(\w+)(\(([^)]*)\))?(.*)$", re.S)
INCLUDE_RE = re.compile(r'\s*#\s*include\s*([<"])([^>"]+)[>"]')

# Names handled by the set parser itself, never expanded (the arguments of
# BTF_ID_FLAGS are not expanded either, see `expand`).
PRIMITIVES = {"BTF_ID_FLAGS"}


def parse_define(text: str, line: int, where: str) -> Macro:
    m = DEFINE_RE.match(text)
    if not m:
        raise ParseError(f"{where}:{line}: bad #define {text!r}")
    params = None
    if m.group(2) is not None:
        params = [p.strip() for p in m.group(3).split(",") if p.strip()]
    return Macro(m.group(1), params, lex_line(m.group(4), line, where))


class HeaderMacros:
    """`#define`s of headers, looked up through a file's `#include`s."""

    def __init__(self, root: str):
        self.root = root
        self.cache: dict[str, tuple[dict[str, tuple[str, int]], list[str]]] = {}

    def _load(self, rel: str) -> tuple[dict[str, tuple[str, int]], list[str]]:
        if rel in self.cache:
            return self.cache[rel]
        self.cache[rel] = ({}, [])  # cycles
        path = os.path.join(self.root, rel)
        with open(path, encoding="utf-8", errors="replace") as fh:
            src = fh.read()
        macros: dict[str, tuple[str, int]] = {}  # name -> (#define text, line), lexed on use
        incs: list[str] = []
        for line, text in logical_lines(src):
            m = DEFINE_RE.match(text)
            if m:
                macros.setdefault(m.group(1), (text, line))
            m = INCLUDE_RE.match(text)
            if m:
                inc = self.resolve(rel, m.group(1), m.group(2))
                if inc:
                    incs.append(inc)
        self.cache[rel] = (macros, incs)
        return self.cache[rel]

    def resolve(self, from_rel: str, kind: str, name: str) -> str | None:
        cands = []
        if kind == '"':
            cands.append(os.path.normpath(os.path.join(os.path.dirname(from_rel), name)))
        cands += [os.path.join("include", name), os.path.join("include/uapi", name)]
        for c in cands:
            if os.path.isfile(os.path.join(self.root, c)):
                return c
        return None

    def lookup(self, includes: list[str], name: str) -> Macro | None:
        """Breadth-first through the include graph of `includes`."""
        seen = set()
        queue = list(includes)
        while queue:
            rel = queue.pop(0)
            if rel in seen:
                continue
            seen.add(rel)
            macros, incs = self._load(rel)
            if name in macros:
                text, line = macros[name]
                return parse_define(text, line, rel)
            queue += incs
        return None


def expand(toks: list[Tok], find, where: str, hide: frozenset = frozenset()) -> list[Tok]:
    """Expand macros of `toks`; `find(name)` gives a Macro or None."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.text == "BTF_ID_FLAGS" and i + 1 < len(toks) and toks[i + 1].text == "(":
            # its arguments are pasted with ##, hence never macro-expanded
            _, j = split_args(toks, i + 1, where)
            out += toks[i:j]
            i = j
            continue
        mac = None
        if t.kind == "ident" and t.text not in hide and t.text not in PRIMITIVES:
            mac = find(t.text)
        if mac is None:
            out.append(t)
            i += 1
            continue
        if any(b.text in ("#", "##") for b in mac.body):
            raise ParseError(f"{where}:{t.line}: macro {mac.name} uses # or ##")
        if mac.params is None:
            body = [Tok(b.kind, b.text, t.line, t.cond) for b in mac.body]
            out += expand(body, find, where, hide | {mac.name})
            i += 1
            continue
        if i + 1 >= len(toks) or toks[i + 1].text != "(":
            out.append(t)
            i += 1
            continue
        args, j = split_args(toks, i + 1, where)
        if len(args) != len(mac.params) and not (not mac.params and not args):
            raise ParseError(f"{where}:{t.line}: {mac.name} takes {len(mac.params)} args, got {len(args)}")
        sub = dict(zip(mac.params, args))
        body = []
        for b in mac.body:
            if b.kind == "ident" and b.text in sub:
                body += sub[b.text]
            else:
                body.append(Tok(b.kind, b.text, t.line, t.cond))
        out += expand(body, find, where, hide | {mac.name})
        i = j
    return out


# --------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------

SKIP_DIRS = {"tools", "Documentation", "samples", "scripts", "debian", "usr", "LICENSES"}
MARKERS = (b"BTF_KFUNCS_START", b"BTF_SET8_START", b"btf_kfunc_id_set", b"register_btf_")
SET_START = {"BTF_KFUNCS_START": "BTF_KFUNCS_END", "BTF_SET8_START": "BTF_SET8_END"}
IGNORED_REGISTER = {"register_btf_id_dtor_kfuncs"}


def source_files(root: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        dirnames.sort()
        for fn in sorted(filenames):
            if fn.endswith((".c", ".h")):
                p = os.path.join(dirpath, fn)
                with open(p, "rb") as fh:
                    data = fh.read()
                if any(m in data for m in MARKERS):
                    out.append(os.path.relpath(p, root))
    return sorted(out)


@dataclass
class KSet:
    name: str
    file: str
    line: int
    macro: str  # BTF_KFUNCS_START / BTF_SET8_START
    cond: tuple[str, ...]
    entries: list[tuple[str, list[str], str | None]] = field(default_factory=list)


@dataclass
class IdSet:
    name: str
    file: str
    line: int
    set: str
    filter: str | None
    cond: tuple[str, ...]
    prog_types: list[str] = field(default_factory=list)
    reg_conds: list[tuple[str, ...]] = field(default_factory=list)
    fmodret: bool = False


def parse_kf_flags(root: str) -> list[tuple[str, int, str, list[str]]]:
    """(name, bit, value text, doc lines) of `#define KF_X (1 << N)`."""
    rel = "include/linux/btf.h"
    with open(os.path.join(root, rel)) as fh:
        lines = fh.read().split("\n")
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"#define\s+(KF_\w+)\s+(.*)$", line)
        if not m:
            continue
        name, rest = m.group(1), m.group(2)
        same = None
        cm = re.search(r"/\*(.*?)\*/\s*$", rest)
        if cm:
            same = cm.group(1).strip()
            rest = rest[: cm.start()]
        elif "//" in rest:
            same = rest.split("//", 1)[1].strip()
            rest = rest.split("//", 1)[0]
        value = rest.strip()
        vm = re.fullmatch(r"\(\s*1\s*<<\s*(\d+)\s*\)|1\s*<<\s*(\d+)", value)
        if vm:
            bit = int(vm.group(1) or vm.group(2))
            vtext = f"1 << {bit}"
        elif re.fullmatch(r"\d+|0x[0-9a-fA-F]+", value) and int(value, 0) and not int(value, 0) & (int(value, 0) - 1):
            bit = int(value, 0).bit_length() - 1
            vtext = f"1 << {bit}"
        else:
            raise ParseError(f"{rel}:{i + 1}: unexpected value of {name}: {value!r}")
        # comment directly above (no blank line in between)
        above: list[str] = []
        j = i - 1
        if j >= 0 and lines[j].rstrip().endswith("*/") and lines[j].lstrip().startswith(("/*", "*")):
            k = j
            while k >= 0 and "/*" not in lines[k]:
                k -= 1
            if k < 0 or not lines[k].lstrip().startswith("/*"):
                raise ParseError(f"{rel}:{j + 1}: cannot find start of comment")
            block = lines[k : j + 1]
            block[0] = block[0].lstrip()[2:]
            block[-1] = block[-1].rstrip()[:-2]
            for b in block:
                b = b.rstrip()
                s = b.lstrip()
                if s.startswith("*"):
                    s = s[1:]
                    s = s[1:] if s.startswith(" ") else s
                above.append(s.rstrip().replace("\t", "    ") if s.strip() else "")
            while above and not above[0].strip():
                above.pop(0)
            while above and not above[-1].strip():
                above.pop()
        doc: list[str] = []
        if same:
            doc.append(same)
        if above:
            if doc:
                doc.append("")
            if len(above) == 1:
                doc.append(above[0].strip())
            else:
                doc += ["```text"] + above + ["```"]
        out.append((name, bit, vtext, doc))
    if not out:
        raise ParseError(f"{rel}: no KF_* flags")
    bits = [b for _, b, _, _ in out]
    if len(set(bits)) != len(bits):
        raise ParseError(f"{rel}: duplicate KF_* bits")
    return out


def parse_file(root: str, rel: str, headers: HeaderMacros, kf_names: set[str], problems: list[str]):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
        src = fh.read()
    lines = logical_lines(src)
    conds = CondStack(rel)
    includes: list[str] = []
    local: dict[str, tuple[str, int]] = {}  # #defines of the file so far, lexed on use
    toks: list[Tok] = []  # tokens outside kfunc sets (with their #if conditions)
    sets: list[KSet] = []
    cur: KSet | None = None
    cur_depth = 0
    buf: list[Tok] = []

    def find(name: str) -> Macro | None:
        if name in local:
            return parse_define(local[name][0], local[name][1], rel)
        return headers.lookup(includes, name)

    def flush():
        if cur is None or not buf:
            buf.clear()
            return
        ex = expand(list(buf), find, rel)
        buf.clear()
        i = 0
        while i < len(ex):
            t = ex[i]
            if t.text == ";":
                i += 1
                continue
            if t.text != "BTF_ID_FLAGS" or i + 1 >= len(ex) or ex[i + 1].text != "(":
                raise ParseError(f"{rel}:{t.line}: unexpected {t.text!r} in set {cur.name}")
            args, i = split_args(ex, i + 1, rel)
            if len(args) not in (2, 3) or text_of(args[0]) != "func" or len(args[1]) != 1:
                raise ParseError(f"{rel}:{t.line}: unexpected BTF_ID_FLAGS({', '.join(map(text_of, args))})")
            flags: list[str] = []
            if len(args) == 3:
                ft = args[2]
                for k, f in enumerate(ft):
                    if k % 2 == 0:
                        if f.text not in kf_names:
                            raise ParseError(f"{rel}:{t.line}: unknown kfunc flag {f.text!r}")
                        flags.append(f.text)
                    elif f.text != "|":
                        raise ParseError(f"{rel}:{t.line}: unexpected flags {text_of(ft)!r}")
                if len(ft) % 2 == 0:
                    raise ParseError(f"{rel}:{t.line}: unexpected flags {text_of(ft)!r}")
            cur.entries.append((args[1][0].text, flags, conj(t.cond[cur_depth:])))

    for line, text in lines:
        s = text.strip()
        if s.startswith("#"):
            d = s[1:].strip()
            if cur is not None:
                flush()
            if conds.directive(d, line):
                continue
            if d.startswith("define"):
                m = DEFINE_RE.match(text)
                if not m:
                    raise ParseError(f"{rel}:{line}: bad #define")
                local[m.group(1)] = (text, line)
            elif d.startswith("undef"):
                local.pop(d.split()[1], None)
            elif d.startswith("include"):
                m = INCLUDE_RE.match(text)
                if m:
                    inc = headers.resolve(rel, m.group(1), m.group(2))
                    if inc:
                        includes.append(inc)
            continue
        lt = lex_line(text, line, rel, conds.current())
        if cur is None:
            for k, t in enumerate(lt):
                if t.text in SET_START and k + 1 < len(lt) and lt[k + 1].text == "(":
                    if k != 0:
                        raise ParseError(f"{rel}:{line}: {t.text} not at line start")
                    args, e = split_args(lt, 1, rel)
                    if len(args) != 1 or len(args[0]) != 1 or e != len(lt):
                        raise ParseError(f"{rel}:{line}: unexpected {text.strip()!r}")
                    cur = KSet(args[0][0].text, rel, line, t.text, conds.current())
                    cur_depth = len(conds.levels)
                    break
            else:
                toks += lt
            continue
        end = SET_START[cur.macro]
        if lt and lt[0].text == end:
            flush()
            args, e = split_args(lt, 1, rel)
            if len(args) != 1 or text_of(args[0]) != cur.name or e != len(lt):
                raise ParseError(f"{rel}:{line}: {end} does not close {cur.name}")
            if len(conds.levels) != cur_depth:
                raise ParseError(f"{rel}:{line}: unbalanced #if in set {cur.name}")
            sets.append(cur)
            cur = None
            continue
        buf += lt
    if cur is not None:
        raise ParseError(f"{rel}: set {cur.name} not closed")
    if conds.levels:
        raise ParseError(f"{rel}: unbalanced #if")

    # struct btf_kfunc_id_set NAME = { ... } and registrations
    id_sets: dict[str, IdSet] = {}
    regs: list[tuple[str, list[list[Tok]], Tok]] = []  # (function, arguments, call token)
    i = 0
    while i < len(toks):
        t = toks[i]
        if (t.text == "struct" and i + 4 < len(toks) and toks[i + 1].text == "btf_kfunc_id_set"
                and toks[i + 2].kind == "ident" and toks[i + 3].text == "="):
            name = toks[i + 2].text
            if toks[i + 4].text != "{":
                raise ParseError(f"{rel}:{t.line}: unexpected initializer of {name}")
            fields, j = split_args(toks, i + 4, rel)
            fields = [f for f in fields if f]  # trailing comma
            vals: dict[str, list[Tok]] = {}
            for f in fields:
                if len(f) < 4 or f[0].text != "." or f[2].text != "=":
                    raise ParseError(f"{rel}:{t.line}: unexpected field {text_of(f)!r} in {name}")
                vals[f[1].text] = f[3:]
            unknown = set(vals) - {"owner", "set", "filter"}
            if unknown:
                raise ParseError(f"{rel}:{t.line}: unknown fields {sorted(unknown)} in {name}")
            st = vals.get("set")
            if not st or len(st) != 2 or st[0].text != "&":
                raise ParseError(f"{rel}:{t.line}: unexpected .set of {name}")
            flt = vals.get("filter")
            if flt is not None and (len(flt) != 1 or flt[0].kind != "ident"):
                raise ParseError(f"{rel}:{t.line}: unexpected .filter of {name}")
            if name in id_sets:
                raise ParseError(f"{rel}:{t.line}: {name} defined twice")
            id_sets[name] = IdSet(name, rel, t.line, st[1].text, flt[0].text if flt else None, t.cond)
            i = j
            continue
        if (t.kind == "ident" and t.text.startswith("register_btf_") and t.text not in IGNORED_REGISTER
                and i + 1 < len(toks) and toks[i + 1].text == "("):
            args, j = split_args(toks, i + 1, rel)
            prev = toks[i - 1].text if i else ""
            decl = prev in ("int", "void") or any(
                a and a[0].text in ("enum", "const", "struct") for a in args
            )
            if not decl:
                regs.append((t.text, args, t))
            i = j
            continue
        i += 1

    out_regs = []
    for fn, args, t in regs:
        where = f"{rel}:{t.line}"
        call = f"{fn}({', '.join(text_of(a) for a in args)})"
        if fn == "register_btf_kfunc_id_set":
            ok = (len(args) == 2 and len(args[0]) == 1 and args[0][0].text.startswith("BPF_PROG_TYPE_")
                  and len(args[1]) == 2 and args[1][0].text == "&" and args[1][1].text in id_sets)
            if not ok:
                problems.append(f"{where}: unresolved {call}")
                continue
            out_regs.append((fn, args[0][0].text[len("BPF_PROG_TYPE_"):], args[1][1].text, t.cond, where))
        elif fn == "register_btf_fmodret_id_set":
            if len(args) == 1 and len(args[0]) == 2 and args[0][0].text == "&" and args[0][1].text in id_sets:
                out_regs.append((fn, None, args[0][1].text, t.cond, where))
            else:
                problems.append(f"{where}: unresolved {call}")
        else:
            # other register_btf_* functions (not kfunc related) are ignored
            continue
    return sets, id_sets, out_regs


def parse_special_kfuncs(root: str) -> list[tuple[str, str | None]]:
    """`special_kfunc_list` of verifier.c in order: (name, #if condition)."""
    rel = "kernel/bpf/verifier.c"
    with open(os.path.join(root, rel)) as fh:
        src = fh.read()
    lines = logical_lines(src)
    start = next((k for k, (_, t) in enumerate(lines) if t.strip() == "BTF_ID_LIST(special_kfunc_list)"), None)
    if start is None:
        raise ParseError(f"{rel}: no BTF_ID_LIST(special_kfunc_list)")
    # groups: list of branches; each branch is a list of items (name or None)
    items: list[tuple[str | None, str | None]] = []
    stack: list[tuple[list[list[str | None]], list[str]]] = []
    for line, text in lines[start + 1 :]:
        s = text.strip()
        if not s:
            if stack:
                raise ParseError(f"{rel}:{line}: blank line inside #if of special_kfunc_list")
            break
        if s.startswith("#"):
            d = s[1:].strip()
            word = d.split()[0]
            rest = " ".join(d.split()[1:])
            if word in ("ifdef", "if", "ifndef"):
                stack.append(([[]], ["!" + rest if word == "ifndef" else rest]))
            elif word in ("else", "elif"):
                stack[-1][0].append([])
                stack[-1][1].append("" if word == "else" else rest)
            elif word == "endif":
                branches, bconds = stack.pop()
                if stack:
                    raise ParseError(f"{rel}:{line}: nested #if in special_kfunc_list")
                if len({len(b) for b in branches}) != 1:
                    raise ParseError(f"{rel}:{line}: #if branches of different length")
                for pos in range(len(branches[0])):
                    named = [(b[pos], k) for k, b in enumerate(branches) if b[pos] is not None]
                    if len(named) != 1:
                        raise ParseError(f"{rel}:{line}: ambiguous special kfunc at #if position {pos}")
                    name, k = named[0]
                    prior = [negate_text(c) for c in bconds[:k]]
                    items.append((name, conj(prior + ([bconds[k]] if bconds[k] else []))))
            else:
                raise ParseError(f"{rel}:{line}: unexpected #{word} in special_kfunc_list")
            continue
        m = re.fullmatch(r"BTF_ID\(\s*func\s*,\s*(\w+)\s*\)|(BTF_ID_UNUSED)", s)
        if not m:
            raise ParseError(f"{rel}:{line}: unexpected {s!r} in special_kfunc_list")
        name = m.group(1)
        if stack:
            stack[-1][0][-1].append(name)
        elif name is None:
            raise ParseError(f"{rel}:{line}: BTF_ID_UNUSED outside #if")
        else:
            items.append((name, None))
    # cross-check with enum special_kfunc_type
    em = re.search(r"enum special_kfunc_type\s*\{(.*?)\};", strip_comments(src), re.S)
    if not em:
        raise ParseError(f"{rel}: no enum special_kfunc_type")
    enum = [e.strip() for e in em.group(1).split(",") if e.strip()]
    expect = ["KF_" + n for n, _ in items]
    if enum != expect:
        raise ParseError(f"{rel}: enum special_kfunc_type does not match special_kfunc_list")
    return items


def generate(root: str) -> dict:
    with open(os.path.join(root, "Makefile")) as fh:
        mk = fh.read()
    ver = ".".join(
        re.search(rf"^{k} = (\d+)", mk, re.M).group(1) for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL")
    )
    flags = parse_kf_flags(root)
    kf_names = {n for n, _, _, _ in flags}
    headers = HeaderMacros(root)
    problems: list[str] = []
    files = source_files(root)
    all_sets: dict[str, KSet] = {}
    all_ids: list[IdSet] = []
    n_regs = 0
    for rel in files:
        sets, id_sets, regs = parse_file(root, rel, headers, kf_names, problems)
        local_sets = {s.name: s for s in sets}
        for s in sets:
            if s.name in all_sets:
                raise ParseError(f"{rel}:{s.line}: set {s.name} also defined in {all_sets[s.name].file}")
            all_sets[s.name] = s
        for ids in id_sets.values():
            if ids.set not in local_sets:
                raise ParseError(f"{rel}:{ids.line}: {ids.name}.set = &{ids.set} is not a set of this file")
        for fn, pt, idn, cond, where in regs:
            ids = id_sets[idn]
            if fn == "register_btf_fmodret_id_set":
                ids.fmodret = True
                continue
            n_regs += 1
            if pt not in ids.prog_types:
                ids.prog_types.append(pt)
            ids.reg_conds.append(cond)
        all_ids += sorted(id_sets.values(), key=lambda x: x.line)

    registered = [x for x in all_ids if x.prog_types]
    used_sets = {x.set for x in registered}
    notes: list[str] = []
    for x in all_ids:
        if not x.prog_types:
            why = "fmodret set (register_btf_fmodret_id_set)" if x.fmodret else "never registered"
            notes.append(f"{x.file}: id set {x.name} (&{x.set}): {why}; its kfuncs are left out")
        elif x.fmodret:
            notes.append(f"{x.file}: id set {x.name} is also registered as fmodret set")
    for s in all_sets.values():
        if s.name not in used_sets and not any(x.set == s.name for x in all_ids):
            notes.append(f"{s.file}: set {s.name} is not used by any btf_kfunc_id_set; left out")
    for x in registered:
        set_cond = all_sets[x.set].cond
        distinct = {c for c in x.reg_conds}
        if len(distinct) > 1:
            problems.append(f"{x.file}: registrations of {x.name} are under different #if conditions: "
                            + "; ".join(conj(c) or "always" for c in sorted(distinct)))
        x.reg_conds = [set_cond + x.cond + c for c in x.reg_conds]

    kfuncs = []
    for s in sorted(all_sets.values(), key=lambda s: (s.file, s.line)):
        if s.name not in used_sets:
            continue
        if not s.entries:
            raise ParseError(f"{s.file}:{s.line}: set {s.name} is empty")
        for name, fl, cond in s.entries:
            kfuncs.append((name, fl, s.name, cond))
    special = parse_special_kfuncs(root)
    return dict(
        version=ver, flags=flags, sets=all_sets, registered=registered, kfuncs=kfuncs,
        special=special, problems=problems, notes=notes, files=files, n_regs=n_regs,
    )


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def rust_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def opt(v: str | None) -> str:
    return "None" if v is None else f"Some({rust_str(v)})"


def emit(d, argv_cmd: str) -> str:
    L: list[str] = []
    w = L.append
    w(f"// @generated by corpus/tools/gen_kfuncs.py from Linux {d['version']}")
    w("// (Debian linux-source-6.12). Do not edit by hand; regenerate with:")
    w(f"//     {argv_cmd}")
    w("//")
    w("// Facts are from include/linux/btf.h (KF_* flags), the BTF_KFUNCS_START")
    w("// sets, `struct btf_kfunc_id_set` definitions and register_btf_kfunc_id_set()")
    w("// calls of the kernel tree, and special_kfunc_list of kernel/bpf/verifier.c.")
    w("")
    w(f"//! kfunc tables of Linux {d['version']}: the `KF_*` flags, every kfunc of")
    w("//! the registered `BTF_KFUNCS_START` sets with its flags, the program types")
    w("//! each set is registered for, and the verifier's special kfuncs.")
    w("")
    w("/// Linux version the tables were generated from.")
    w(f"pub const SOURCE_VERSION: &str = {rust_str(d['version'])};")
    w("")
    for name, bit, vtext, doc in d["flags"]:
        if doc:
            for line in doc:
                w(f"/// {line}".rstrip())
        else:
            w(f"/// `{name}`.")
        w(f"pub const {name}: u32 = {vtext};")
        w("")
    w("/// `(name, value)` of every `KF_*` flag, in kernel order.")
    w("pub const KF_FLAG_NAMES: &[(&str, u32)] = &[")
    for name, _, _, _ in d["flags"]:
        w(f"    ({rust_str(name)}, {name}),")
    w("];")
    w("")
    w("/// One kfunc of a `BTF_KFUNCS_START` set (one entry per (set, kfunc)).")
    w("#[derive(Clone, Copy, Debug, PartialEq, Eq)]")
    w("pub struct KfuncEntry {")
    w("    /// Kernel function name.")
    w("    pub name: &'static str,")
    w("    /// OR of the `KF_*` flags of its `BTF_ID_FLAGS`.")
    w("    pub flags: u32,")
    w("    /// Name of the `BTF_KFUNCS_START` set (see [`KFUNC_SETS`]).")
    w("    pub set: &'static str,")
    w("    /// `#if` condition inside the set (C text), `None` when unconditional;")
    w("    /// the condition around the whole set is [`KfuncSetReg::cond`].")
    w("    pub cond: Option<&'static str>,")
    w("}")
    w("")
    w("/// Every kfunc of every set registered with `register_btf_kfunc_id_set`,")
    w("/// by source file, set and position.")
    w("pub const KFUNCS: &[KfuncEntry] = &[")
    for name, fl, sname, cond in d["kfuncs"]:
        fe = " | ".join(fl) if fl else "0"
        w(f"    KfuncEntry {{ name: {rust_str(name)}, flags: {fe}, set: {rust_str(sname)}, cond: {opt(cond)} }},")
    w("];")
    w("")
    w("/// A `struct btf_kfunc_id_set` and the program types it is registered for.")
    w("#[derive(Clone, Copy, Debug, PartialEq, Eq)]")
    w("pub struct KfuncSetReg {")
    w("    /// Name of the `BTF_KFUNCS_START` set (`.set`).")
    w("    pub set: &'static str,")
    w("    /// Name of the `struct btf_kfunc_id_set` (static, unique only per file).")
    w("    pub id_set: &'static str,")
    w("    /// `BPF_PROG_TYPE_*` names without prefix, in registration order;")
    w("    /// `UNSPEC` is the common hook (every program type).")
    w("    pub prog_types: &'static [&'static str],")
    w("    /// The `.filter` function, if any.")
    w("    pub filter: Option<&'static str>,")
    w("    /// `#if` condition around the set, the id set and its registration")
    w("    /// (C text), `None` when unconditional.")
    w("    pub cond: Option<&'static str>,")
    w("    /// Source file, relative to the top of the Linux tree.")
    w("    pub file: &'static str,")
    w("}")
    w("")
    w("/// Every registered kfunc id set, by source file and position.")
    w("pub const KFUNC_SETS: &[KfuncSetReg] = &[")
    for x in d["registered"]:
        pts = ", ".join(rust_str(p) for p in x.prog_types)
        conds = []
        for c in x.reg_conds:
            for p in c:
                if p not in conds:
                    conds.append(p)
        w("    KfuncSetReg {")
        w(f"        set: {rust_str(x.set)},")
        w(f"        id_set: {rust_str(x.name)},")
        w(f"        prog_types: &[{pts}],")
        w(f"        filter: {opt(x.filter)},")
        w(f"        cond: {opt(conj(conds))},")
        w(f"        file: {rust_str(x.file)},")
        w("    },")
    w("];")
    w("")
    w("/// `special_kfunc_list` of kernel/bpf/verifier.c, indexed by")
    w("/// `enum special_kfunc_type` (`KF_bpf_obj_new_impl` = 0, ...).")
    w("pub const SPECIAL_KFUNCS: &[&str] = &[")
    for name, cond in d["special"]:
        w(f"    {rust_str(name)}," + (f" // #if {cond}" if cond else ""))
    w("];")
    w("")
    w(f"// Source files with kfunc set markers: {len(d['files'])}.")
    w("// Left out:")
    if not d["notes"]:
        w("// - nothing")
    for n in d["notes"]:
        w(f"// - {n}")
    w("//")
    w("// Not resolved:")
    if not d["problems"]:
        w("// - nothing")
    for p in d["problems"]:
        w(f"// - {p}")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--linux", default="/var/cache/bpfproof/linux-source-6.12")
    ap.add_argument("--out", default="analyzer/src/platform/kfuncs_data.rs")
    ap.add_argument("--check", action="store_true", help="fail if --out is stale")
    args = ap.parse_args()
    try:
        d = generate(args.linux)
    except ParseError as e:
        print(f"gen_kfuncs: parse error: {e}", file=sys.stderr)
        sys.exit(2)
    if len(d["kfuncs"]) < 100:
        print(f"gen_kfuncs: only {len(d['kfuncs'])} kfuncs parsed", file=sys.stderr)
        sys.exit(2)
    cmd = f"python3 corpus/tools/gen_kfuncs.py --linux {args.linux} --out {args.out}"
    write_rust(emit(d, cmd), args.out, args.check, "gen_kfuncs")
    sets_used = {k[2] for k in d["kfuncs"]}
    names = {k[0] for k in d["kfuncs"]}
    print(f"gen_kfuncs: Linux {d['version']}: {len(d['flags'])} KF_* flags, "
          f"{len(sets_used)} sets ({len(d['sets'])} defined), {len(d['kfuncs'])} kfunc entries "
          f"({len(names)} distinct names), {len(d['registered'])} registered id sets, "
          f"{d['n_regs']} registrations, {len(d['special'])} special kfuncs", file=sys.stderr)
    for n in d["notes"]:
        print(f"gen_kfuncs: left out: {n}", file=sys.stderr)
    for p in d["problems"]:
        print(f"gen_kfuncs: not resolved: {p}", file=sys.stderr)
    sanity(d)


def sanity(d):
    """A few spot checks of well-known kfuncs (stderr only)."""
    by_set = {x.set: x for x in d["registered"]}

    def show(name):
        rows = [k for k in d["kfuncs"] if k[0] == name]
        if not rows:
            print(f"gen_kfuncs: check: {name}: MISSING", file=sys.stderr)
        for n, fl, s, cond in rows:
            regs = [x for x in d["registered"] if x.set == s]
            pts = sorted({p for x in regs for p in x.prog_types})
            print(f"gen_kfuncs: check: {n}: {' | '.join(fl) or '0'} in {s} "
                  f"[{', '.join(pts)}]" + (f" if {cond}" if cond else ""), file=sys.stderr)
        return rows

    ok = True
    r = show("bpf_task_from_pid")
    ok &= any(set(fl) >= {"KF_ACQUIRE", "KF_RET_NULL"} and {"SYSCALL", "TRACING", "SCHED_CLS"}
              <= {p for x in d["registered"] if x.set == s for p in x.prog_types} for _, fl, s, _ in r)
    ok &= any("KF_RELEASE" in fl for _, fl, _, _ in show("bpf_task_release"))
    ok &= any("KF_ITER_NEW" in fl for _, fl, _, _ in show("bpf_iter_num_new"))
    ok &= any("UNSPEC" in by_set[s].prog_types for _, _, s, _ in show("bpf_rcu_read_lock"))
    print(f"gen_kfuncs: spot checks {'passed' if ok else 'FAILED'}", file=sys.stderr)
    if not ok:
        sys.exit(3)


if __name__ == "__main__":
    main()
