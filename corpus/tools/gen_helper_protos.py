#!/usr/bin/env python3
"""Generate analyzer/src/platform/protos_data.rs from a Linux source tree.

Extracts, from the kernel sources (no hand-typed data):

* ``enum bpf_type_flag``, ``enum bpf_arg_type`` and ``enum bpf_return_type``
  of ``include/linux/bpf.h``;
* the helper ids of ``___BPF_FUNC_MAPPER`` (``include/uapi/linux/bpf.h``);
* every ``struct bpf_func_proto NAME = { ... }`` definition in the tree;
* every ``const struct bpf_func_proto *f(enum bpf_func_id, const struct
  bpf_prog *)`` dispatcher (``*_func_proto``) and the ``(void)`` getters
  they call, which are symbolically executed for every helper id;
* the program type -> ``bpf_verifier_ops`` mapping of
  ``include/linux/bpf_types.h`` and each ops' ``.get_func_proto``
  (struct_ops programs: every ``struct bpf_struct_ops`` and its
  ``.verifier_ops``; iterators: every ``struct bpf_iter_reg`` with a
  ``.get_func_proto``).

For every (program type, helper id) it records the reachable protos with the
conditions along the path (C condition text, e.g.
``bpf_token_capable(prog->aux->token, CAP_PERFMON)``, ``CONFIG_INET`` for an
``#ifdef``) and the chain of dispatchers.  Paths that end in ``NULL`` are
dropped; ``#if`` blocks inside dispatchers are assumed enabled and recorded
as conditions.

Usage (from the workspace root):

    python3 corpus/tools/gen_helper_protos.py \
        --linux /var/cache/bpfproof/linux-source-6.12 \
        --out analyzer/src/platform/protos_data.rs

``--check`` compares instead of writing (exit 1 when stale).  Python 3.11,
stdlib only; the output is run through ``rustfmt --edition 2024``.
Structural surprises raise; statements the interpreter cannot model are
listed at the end of the generated file and on stderr.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# Lexing
# --------------------------------------------------------------------------


class ParseError(Exception):
    pass


PUNCT = [
    "...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=",
    "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##",
]
TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<ident>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<num>(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?)[uUlL]*)
  | (?P<str>"(?:\\.|[^"\\\n])*")
  | (?P<chr>'(?:\\.|[^'\\\n])*')
  | (?P<punct>"""
    + "|".join(re.escape(p) for p in PUNCT)
    + r"""|[{}()\[\];,.?:~!%^&*+\-=/<>|#@$\\])
    """,
    re.VERBOSE,
)


@dataclass
class Tok:
    kind: str  # ident, num, str, chr, punct, pp
    text: str
    line: int


def strip_comments(src: str) -> str:
    """Replace comments by spaces (keeping newlines), leave strings alone."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "/" and i + 1 < n and src[i + 1] == "*":
            j = src.find("*/", i + 2)
            if j < 0:
                raise ParseError("unterminated comment")
            out.append("".join("\n" if ch == "\n" else " " for ch in src[i : j + 2]))
            i = j + 2
        elif c == "/" and i + 1 < n and src[i + 1] == "/":
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i : j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def lex(src: str, path: str) -> list[Tok]:
    src = strip_comments(src)
    toks: list[Tok] = []
    line = 1
    lines = src.split("\n")
    i = 0
    while i < len(lines):
        text = lines[i]
        start = i + 1
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i]
        i += 1
        if text.lstrip().startswith("#"):
            toks.append(Tok("pp", " ".join(text.strip()[1:].split()), start))
            continue
        pos = 0
        line = start
        while pos < len(text):
            m = TOKEN_RE.match(text, pos)
            if not m:
                raise ParseError(f"{path}:{line}: cannot lex {text[pos:pos + 20]!r}")
            kind = m.lastgroup
            if kind not in ("ws", "nl"):
                toks.append(Tok(kind, m.group(), line))
            pos = m.end()
    return toks


UNARY_BEFORE = {None, "(", "[", ",", "=", "?", ":", "!", "return", "||", "&&", "|", "==", "!="}


def join_tokens(toks: list[Tok]) -> str:
    """C-ish text of a token span, normalised whitespace."""
    out = ""
    prev = None
    prev_unary = False
    for t in toks:
        s = t.text
        if prev is None:
            out = s
        else:
            no_space = (
                prev in ("(", "[", "!", "~", "->", ".")
                or prev_unary
                or s in (")", "]", ",", "->", ".", ";")
                or (s in ("(", "[") and (prev[0].isalnum() or prev[0] == "_" or prev in (")", "]")))
            )
            out += s if no_space else " " + s
        prev_unary = s in ("&", "-") and prev in UNARY_BEFORE
        prev = s
    return out


def match_close(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing toks[i]."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    open_ = toks[i].text
    close = pairs[open_]
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind != "punct":
            continue
        if t.text == open_:
            depth += 1
        elif t.text == close:
            depth -= 1
            if depth == 0:
                return j
    raise ParseError(f"unbalanced {open_!r} at line {toks[i].line}")


def split_top(toks: list[Tok], sep: str) -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "punct" and t.text in "([{":
            depth += 1
        elif t.kind == "punct" and t.text in ")]}":
            depth -= 1
        if depth == 0 and t.kind == "punct" and t.text == sep:
            parts.append([])
        else:
            parts[-1].append(t)
    if parts and not parts[-1]:
        parts.pop()
    return parts


# --------------------------------------------------------------------------
# include/linux/bpf.h enums, helper ids, bpf_types.h
# --------------------------------------------------------------------------


def enum_body(toks: list[Tok], name: str) -> list[Tok]:
    for i in range(len(toks) - 2):
        if (
            toks[i].text == "enum"
            and toks[i + 1].text == name
            and toks[i + 2].text == "{"
        ):
            j = match_close(toks, i + 2)
            return [t for t in toks[i + 3 : j] if t.kind != "pp"]
    raise ParseError(f"enum {name} not found")


def parse_type_flags(bpf_h: list[Tok]) -> tuple[int, list[tuple[str, int]]]:
    base_bits = None
    for t in bpf_h:
        if t.kind == "pp":
            m = re.fullmatch(r"define BPF_BASE_TYPE_BITS (\d+)", t.text)
            if m:
                base_bits = int(m.group(1))
    if base_bits is None:
        raise ParseError("BPF_BASE_TYPE_BITS not found")
    flags = []
    for part in split_top(enum_body(bpf_h, "bpf_type_flag"), ","):
        name = part[0].text
        if name.startswith("__"):
            continue
        text = join_tokens(part[2:])
        m = re.fullmatch(r"BIT\((\d+) \+ BPF_BASE_TYPE_BITS\)", text)
        if not m:
            raise ParseError(f"bpf_type_flag {name}: unexpected value {text!r}")
        flags.append((name, int(m.group(1))))
    return base_bits, flags


def parse_typed_enum(bpf_h, name, flag_names):
    """Base enumerators (implicit values) and aliases (flags | base)."""
    bases: list[str] = []
    aliases: list[tuple[str, str, list[str]]] = []
    for part in split_top(enum_body(bpf_h, name), ","):
        ename = part[0].text
        if ename.startswith("__"):
            continue
        if len(part) == 1:
            bases.append(ename)
            continue
        if len(part) == 3 and part[1].text == "=" and part[2].kind == "num":
            if int(part[2].text, 0) != len(bases):
                raise ParseError(f"{name}: {ename} = {part[2].text} out of sequence")
            bases.append(ename)
            continue
        if part[1].text != "=":
            raise ParseError(f"{name}: cannot parse {join_tokens(part)!r}")
        names = [join_tokens(p) for p in split_top(part[2:], "|")]
        base = [n for n in names if n in bases]
        fl = [n for n in names if n in flag_names]
        if len(base) != 1 or len(base) + len(fl) != len(names):
            raise ParseError(f"{name}: alias {ename} = {names}")
        aliases.append((ename, base[0], fl))
    return bases, aliases


def parse_helper_ids(uapi: str) -> list[tuple[str, int]]:
    m = re.search(r"#define ___BPF_FUNC_MAPPER\(FN, ctx\.\.\.\)(.*?)\n\s*/\* \*/", uapi, re.S)
    if not m:
        raise ParseError("___BPF_FUNC_MAPPER not found")
    ids = [(n, int(v)) for n, v in re.findall(r"FN\((\w+), (\d+), ##ctx\)", m.group(1))]
    for i, (_, v) in enumerate(ids):
        if v != i:
            raise ParseError("helper ids not dense")
    return ids


def parse_bpf_types(path: str) -> list[tuple[str, str]]:
    out = []
    text = open(path).read()
    for m in re.finditer(r"^BPF_PROG_TYPE\((BPF_PROG_TYPE_\w+),\s*(\w+),", text, re.M):
        out.append((m.group(1), m.group(2)))
    if len(out) < 25:
        raise ParseError("bpf_types.h: too few BPF_PROG_TYPE entries")
    return out


def parse_prog_types_rs(path: str) -> list[tuple[str, str, int]]:
    """(RustVariant, c-suffix-lowercase, value) of crate::platform::ProgType."""
    text = open(path).read()
    m = re.search(r"pub enum ProgType, prefix \"BPF_PROG_TYPE_\" \{(.*?)\n    \}", text, re.S)
    if not m:
        raise ParseError("ProgType not found in prog_types.rs")
    return [
        (v, s, int(n))
        for v, n, s in re.findall(r"(\w+) = (\d+) => \"(\w+)\",", m.group(1))
    ]


# --------------------------------------------------------------------------
# Top-level scanning of .c files
# --------------------------------------------------------------------------


@dataclass
class Proto:
    name: str
    path: str
    line: int
    fields: dict[str, str]


@dataclass
class Func:
    name: str
    path: str
    line: int
    params: list[str]  # parameter names ([] for (void))
    body: list[Tok]


@dataclass
class Initializer:
    type_name: str
    name: str
    path: str
    fields: dict[str, str]


def drop_else_branches(toks: list[Tok]) -> list[Tok]:
    """Keep the first branch of every #if (the #else branch of `#if 0`);
    configuration-dependent definitions are assumed enabled."""
    out = []
    stack: list[bool] = []  # per #if: currently keeping tokens?
    for t in toks:
        if t.kind == "pp":
            d = t.text
            if d.startswith(("if ", "ifdef ", "ifndef ")):
                keep = d != "if 0"
                stack.append(keep)
                if all(stack[:-1]):
                    out.append(t)
                continue
            if d.startswith(("else", "elif")):
                stack[-1] = not stack[-1] if d.startswith("else") and stack[-1] is False else False
                continue
            if d.startswith("endif"):
                stack.pop()
                if all(stack):
                    out.append(t)
                continue
        if all(stack):
            out.append(t)
    if stack:
        raise ParseError("unbalanced #if")
    return out


def top_level_items(toks: list[Tok], path: str, protos, funcs, inits):
    toks = drop_else_branches(toks)
    depth = 0
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "pp":
            i += 1
            continue
        if t.kind == "punct" and t.text == "{":
            depth += 1
        elif t.kind == "punct" and t.text == "}":
            depth -= 1
        if depth != 0 or t.text != "struct" or i + 2 >= n:
            i += 1
            continue
        sname = toks[i + 1].text
        # struct X NAME [attrs] = { ... }
        j = i + 2
        if toks[j].kind == "ident":
            name = toks[j].text
            k = j + 1
            while k < n and toks[k].kind == "ident" and toks[k].text.startswith("__"):
                k += 1  # __weak, __ro_after_init, ...
            if k + 1 < n and toks[k].text == "=" and toks[k + 1].text == "{":
                end = match_close(toks, k + 1)
                fields = parse_designated(toks[k + 2 : end], path, name)
                if sname == "bpf_func_proto":
                    protos.append(Proto(name, path, toks[j].line, fields))
                else:
                    inits.append(Initializer(sname, name, path, fields))
                i = end + 1
                continue
        # const struct bpf_func_proto * NAME ( params ) {
        if (
            sname == "bpf_func_proto"
            and toks[j].text == "*"
            and j + 2 < n
            and toks[j + 1].kind == "ident"
            and toks[j + 2].text == "("
        ):
            name = toks[j + 1].text
            pend = match_close(toks, j + 2)
            if pend + 1 < n and toks[pend + 1].text == "{":
                bend = match_close(toks, pend + 1)
                params = parse_params(toks[j + 3 : pend], path, name)
                funcs.append(Func(name, path, toks[j + 1].line, params, toks[pend + 2 : bend]))
                i = bend + 1
                continue
        i += 1
    if depth != 0:
        raise ParseError(f"{path}: unbalanced braces at top level ({depth})")


def parse_params(toks: list[Tok], path: str, name: str) -> list[str]:
    text = join_tokens(toks)
    if text == "void":
        return []
    parts = [join_tokens(p) for p in split_top(toks, ",")]
    if (
        len(parts) == 2
        and re.fullmatch(r"enum bpf_func_id \w+", parts[0])
        and re.fullmatch(r"const struct bpf_prog \* ?\w+", parts[1])
    ):
        return [parts[0].split()[-1], parts[1].split("*")[-1].strip()]
    if len(parts) == 1 and re.fullmatch(r"enum bpf_func_id \w+", parts[0]):
        return [parts[0].split()[-1]]
    raise ParseError(f"{path}: {name}: unexpected parameters {text!r}")


def parse_designated(toks: list[Tok], path: str, name: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in split_top([t for t in toks if t.kind != "pp"], ","):
        if len(part) >= 3 and part[0].text == "." and part[2].text == "=":
            fields[part[1].text] = join_tokens(part[3:])
        elif len(part) >= 6 and part[0].text == "." and part[2].text == "[":
            # .arg_type[N] = ... is not used; keep it visible
            fields[join_tokens(part[1:5])] = join_tokens(part[6:])
        else:
            fields.setdefault("?", "")
            fields["?"] += join_tokens(part) + "; "
    return fields


# --------------------------------------------------------------------------
# Statement parsing of dispatcher bodies
# --------------------------------------------------------------------------


@dataclass
class Stmt:
    kind: str  # block, switch, case, default, if, return, break, assign, decl, expr, unknown
    pp: tuple[str, ...]
    line: int
    expr: list[Tok] = field(default_factory=list)
    target: str = ""
    body: list["Stmt"] = field(default_factory=list)
    then: "Stmt | None" = None
    els: "Stmt | None" = None


class BodyParser:
    def __init__(self, toks: list[Tok], where: str):
        self.toks = toks
        self.i = 0
        self.pp: list[str] = []
        self.where = where

    def peek(self) -> Tok | None:
        self.skip_pp()
        return self.toks[self.i] if self.i < len(self.toks) else None

    def skip_pp(self):
        while self.i < len(self.toks) and self.toks[self.i].kind == "pp":
            d = self.toks[self.i].text
            if d.startswith("ifdef "):
                self.pp.append(d[6:].strip())
            elif d.startswith("ifndef "):
                self.pp.append("!" + d[7:].strip())
            elif d.startswith("if "):
                self.pp.append(d[3:].strip())
            elif d.startswith("else"):
                self.pp[-1] = negate_text(self.pp[-1])
            elif d.startswith("endif"):
                self.pp.pop()
            else:
                raise ParseError(f"{self.where}: preprocessor {d!r} in function body")
            self.i += 1

    def expect(self, text: str):
        t = self.peek()
        if t is None or t.text != text:
            raise ParseError(f"{self.where}: expected {text!r} at {t.line if t else 'EOF'}")
        self.i += 1

    def until(self, text: str) -> list[Tok]:
        """Tokens up to the top-level `text` (consumed, not returned)."""
        start = self.i
        depth = 0
        while self.i < len(self.toks):
            t = self.toks[self.i]
            if t.kind == "pp":
                raise ParseError(f"{self.where}:{t.line}: preprocessor inside a statement")
            if depth == 0 and t.text == text:
                out = self.toks[start : self.i]
                self.i += 1
                return out
            if t.kind == "punct" and t.text in "([{":
                depth += 1
            elif t.kind == "punct" and t.text in ")]}":
                depth -= 1
            self.i += 1
        raise ParseError(f"{self.where}: missing {text!r}")

    def paren(self) -> list[Tok]:
        self.expect("(")
        return self.until(")")

    def parse_list(self) -> list[Stmt]:
        out = []
        while True:
            t = self.peek()
            if t is None or t.text == "}":
                return out
            out.append(self.statement())

    def statement(self) -> Stmt:
        t = self.peek()
        pp = tuple(self.pp)
        line = t.line
        w = t.text
        if w == "{":
            self.i += 1
            body = self.parse_list()
            self.expect("}")
            return Stmt("block", pp, line, body=body)
        if w == "switch":
            self.i += 1
            e = self.paren()
            self.expect("{")
            body = self.parse_list()
            self.expect("}")
            return Stmt("switch", pp, line, expr=e, body=body)
        if w == "case":
            self.i += 1
            e = self.until(":")
            return Stmt("case", pp, line, expr=e)
        if w == "default":
            self.i += 1
            self.expect(":")
            return Stmt("default", pp, line)
        if w == "if":
            self.i += 1
            e = self.paren()
            then = self.statement()
            els = None
            nt = self.peek()
            if nt is not None and nt.text == "else":
                self.i += 1
                els = self.statement()
            return Stmt("if", pp, line, expr=e, then=then, els=els)
        if w == "return":
            self.i += 1
            return Stmt("return", pp, line, expr=self.until(";"))
        if w == "break":
            self.i += 1
            self.expect(";")
            return Stmt("break", pp, line)
        if w in ("for", "while", "do", "goto") or (
            t.kind == "ident" and re.fullmatch(r"\w*for_each\w*", w)
        ):
            self.i += 1
            if self.peek() is not None and self.peek().text == "(":
                self.paren()
            inner = self.statement()
            return Stmt("unknown", pp, line, expr=[t], body=[inner])
        toks = self.until(";")
        text = join_tokens(toks)
        if text == "fallthrough":
            return Stmt("decl", pp, line, expr=toks)
        if toks and toks[0].text in ("const", "struct", "int", "u32", "bool", "unsigned"):
            # declaration, possibly initialised
            eq = [k for k, x in enumerate(toks) if x.text == "="]
            if eq:
                name = toks[eq[0] - 1].text
                return Stmt("assign", pp, line, target=name, expr=toks[eq[0] + 1 :])
            return Stmt("decl", pp, line, expr=toks)
        if len(toks) >= 3 and toks[0].kind == "ident" and toks[1].text == "=":
            return Stmt("assign", pp, line, target=toks[0].text, expr=toks[2:])
        if re.fullmatch(r"[\w>-]+\(.*\)", text):
            return Stmt("expr", pp, line, expr=toks)
        return Stmt("unknown", pp, line, expr=toks)


CMP_FLIP = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def flip_comparison(s: str) -> str | None:
    """`a == b` -> `a != b` etc. for a single top-level comparison."""
    if "&&" in s or "||" in s or "?" in s:
        return None
    ops = list(re.finditer(r" (==|!=|<=|>=|<|>) ", s))
    if len(ops) != 1 or not balanced(s[: ops[0].start()]):
        return None
    m = ops[0]
    return f"{s[: m.start()]} {CMP_FLIP[m.group(1)]} {s[m.end():]}"


def negate_text(s: str) -> str:
    flipped = flip_comparison(s)
    if flipped is not None:
        return flipped
    if s.startswith("!") and re.fullmatch(r"![\w>.-]+(\(.*\))?", s) and balanced(s[1:]):
        return s[1:]
    if re.fullmatch(r"[\w>.-]+(\(.*\))?", s) and balanced(s):
        return "!" + s
    if s.startswith("!(") and s.endswith(")") and balanced(s[2:-1]):
        return s[2:-1]
    return "!(" + s + ")"


def balanced(s: str) -> bool:
    d = 0
    for c in s:
        d += c == "("
        d -= c == ")"
        if d < 0:
            return False
    return d == 0


# --------------------------------------------------------------------------
# Symbolic conditions
# --------------------------------------------------------------------------
# A formula is True, False, ("atom", text), ("not", f), ("and", [f]), ("or", [f]).


def f_not(f):
    if f is True:
        return False
    if f is False:
        return True
    if f[0] == "not":
        return f[1]
    if f[0] == "atom":
        flipped = flip_comparison(f[1])
        if flipped is not None:
            return ("atom", flipped) + tuple(f[2:])
    if f[0] == "and":
        return f_or([f_not(x) for x in f[1]])
    if f[0] == "or":
        return f_and([f_not(x) for x in f[1]])
    return ("not", f)


def f_and(fs):
    out = []
    for f in fs:
        if f is False:
            return False
        if f is True:
            continue
        out.append(f)
    if not out:
        return True
    return out[0] if len(out) == 1 else ("and", out)


def f_or(fs):
    out = []
    for f in fs:
        if f is True:
            return True
        if f is False:
            continue
        out.append(f)
    if not out:
        return False
    return out[0] if len(out) == 1 else ("or", out)


def f_text(f, parent="") -> str:
    if f[0] == "atom":
        s = f[1]
        simple = re.fullmatch(r"[\w>.-]+(\(.*\))?", s) and balanced(s)
        return s if simple or not parent else f"({s})"
    if f[0] == "not":
        inner = f_text(f[1], "not")
        return "!" + inner if inner.startswith("(") or re.fullmatch(r"[\w>.-]+(\(.*\))?", inner) else f"!({inner})"
    op = " && " if f[0] == "and" else " || "
    s = op.join(f_text(x, f[0]) for x in f[1])
    return f"({s})" if parent else s


def f_has_local(f) -> bool:
    if f[0] == "atom":
        return len(f) > 2
    if f[0] == "not":
        return f_has_local(f[1])
    return any(f_has_local(x) for x in f[1])


def f_conjuncts(f) -> list[str]:
    """Condition strings of a formula; conditions on local non-proto
    variables (allocation results and the like) are not recorded."""
    if f is True:
        return []
    parts = f[1] if f[0] == "and" else [f]
    return [f_text(x) for x in parts if not f_has_local(x)]


# --------------------------------------------------------------------------
# Symbolic execution
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    conds: tuple[str, ...]
    via: tuple[str, ...]
    env: tuple[tuple[str, object], ...]  # var -> value

    def add(self, cs) -> "State | None":
        """Add path conditions; None when they contradict the path."""
        new = list(self.conds)
        for c in cs:
            if c in new:
                continue
            if negate_text(c) in new:
                return None
            m = re.fullmatch(r"(\S+) (==|!=) (\w+)", c)
            if m:
                same = [re.fullmatch(r"(\S+) (==|!=) (\w+)", x) for x in new]
                same = [x for x in same if x and x.group(1) == m.group(1)]
                if m.group(2) == "==":
                    if any(x.group(2) == "==" and x.group(3) != m.group(3) for x in same):
                        return None
                    new = [x for x in new if not any(x == y.group() and y.group(2) == "!="
                                                      for y in same)]
                elif any(x.group(2) == "==" for x in same):
                    continue  # implied by an equality already on the path
            new.append(c)
        return State(tuple(new), self.via, self.env)

    def set(self, var, val) -> "State":
        env = dict(self.env)
        env[var] = val
        return State(self.conds, self.via, tuple(sorted(env.items(), key=lambda kv: kv[0])))

    def get(self, var):
        return dict(self.env).get(var, "UNSET")


NULL = None  # a NULL proto pointer; a proto is (name, dispatcher chain)


class Opaque:
    """A local variable holding something other than a proto pointer."""

    def __repr__(self):
        return "Opaque"

    def __eq__(self, other):
        return isinstance(other, Opaque)

    def __hash__(self):
        return 7


OPAQUE = Opaque()


class Interp:
    def __init__(self, funcs: dict[str, Func], protos: set[str], helper_enum: dict[str, int],
                 iter_regs: list[tuple[str, str]]):
        self.funcs = funcs
        self.protos = protos
        self.helper_enum = helper_enum
        self.iter_regs = iter_regs
        self.parsed: dict[str, list[Stmt]] = {}
        self.problems: dict[str, str] = {}
        self.used_funcs: set[str] = set()
        self.prog_type: str | None = None  # program type being resolved

    def problem(self, where: str, msg: str):
        self.problems.setdefault(f"{where}: {msg}", "")

    def body(self, fname: str) -> list[Stmt]:
        if fname not in self.parsed:
            f = self.funcs[fname]
            p = BodyParser(f.body, f"{f.path}:{f.name}")
            stmts = p.parse_list()
            if p.i != len(f.body) or p.pp:
                raise ParseError(f"{f.path}:{f.name}: trailing tokens in body")
            self.parsed[fname] = stmts
        return self.parsed[fname]

    # ---- calls -----------------------------------------------------------

    def call(self, fname: str, func_id: str, st: State):
        """Outcomes (State, value) of calling dispatcher/getter `fname`."""
        if fname not in self.funcs:
            raise ParseError(f"call of unknown func_proto function {fname}")
        if fname in st.via:
            raise ParseError(f"recursion through {fname}")
        self.used_funcs.add(fname)
        f = self.funcs[fname]
        inner = State(st.conds, st.via + (fname,), ())
        ctx = {"func": f, "func_id": func_id}
        out = []
        for kind, s2, val in self.exec_list(self.body(fname), 0, inner, ctx):
            if kind == "return":
                out.append((State(s2.conds, st.via, st.env), val))
            elif kind == "fall":
                self.problem(f"{f.path}:{fname}", "end of function reached without return")
            else:
                self.problem(f"{f.path}:{fname}", f"stray {kind}")
        return out

    # ---- expressions -----------------------------------------------------

    def cond(self, toks: list[Tok], st: State, ctx):
        """Formula of a C condition, concrete parts evaluated."""
        parts = split_top(toks, "||" if False else "?")  # no ternaries in conditions
        if len(parts) != 1:
            raise ParseError(f"ternary in condition {join_tokens(toks)!r}")
        return self._or(toks, st, ctx)

    def _or(self, toks, st, ctx):
        ps = split_op(toks, "||")
        if len(ps) > 1:
            return f_or([self._and(p, st, ctx) for p in ps])
        return self._and(toks, st, ctx)

    def _and(self, toks, st, ctx):
        ps = split_op(toks, "&&")
        if len(ps) > 1:
            return f_and([self._unary(p, st, ctx) for p in ps])
        return self._unary(toks, st, ctx)

    def _unary(self, toks, st, ctx):
        if toks and toks[0].text == "!":
            return f_not(self._unary(toks[1:], st, ctx))
        if toks and toks[0].text == "(" and match_close(toks, 0) == len(toks) - 1:
            return self._or(toks[1:-1], st, ctx)
        text = join_tokens(toks)
        fid = ctx["func"].params[0] if ctx["func"].params else None
        if len(toks) == 1 and toks[0].kind == "ident":
            v = st.get(toks[0].text)
            if v == OPAQUE:
                return ("atom", text, "local")
            if v != "UNSET":
                return v is not None
        m = re.fullmatch(r"prog->type (==|!=) (BPF_PROG_TYPE_\w+)", text)
        if m and self.prog_type:
            eq = self.prog_type == m.group(2)
            return eq if m.group(1) == "==" else not eq
        m = re.fullmatch(r"(\w+) (==|!=) (BPF_FUNC_\w+)", text)
        if m and m.group(1) == fid:
            eq = ctx["func_id"] == m.group(3)
            return eq if m.group(2) == "==" else not eq
        if fid and re.search(rf"\b{fid}\b", text):
            self.problem(ctx["func"].name, f"condition on func_id not understood: {text}")
        return ("atom", text)

    def value(self, toks: list[Tok], st: State, ctx):
        """Outcomes (State, value) of a pointer-valued expression."""
        where = f"{ctx['func'].path}:{ctx['func'].name}"
        q = split_op(toks, "?")
        if len(q) > 1:
            rest = toks[len(q[0]) + 1 :]
            colon = split_op(rest, ":")
            if len(colon) != 2:
                raise ParseError(f"{where}: cannot parse ternary {join_tokens(toks)!r}")
            f = self.cond(q[0], st, ctx)
            out = []
            for branch, sub in ((f, colon[0]), (f_not(f), colon[1])):
                if branch is False:
                    continue
                st2 = st.add(f_conjuncts(branch))
                if st2 is not None:
                    out += self.value(sub, st2, ctx)
            return out
        text = join_tokens(toks)
        if text == "NULL":
            return [(st, NULL)]
        m = re.fullmatch(r"&(\w+)", text)
        if m:
            if m.group(1) not in self.protos:
                raise ParseError(f"{where}: unknown proto {m.group(1)}")
            return [(st, (m.group(1), st.via))]
        m = re.fullmatch(r"(\w+)\((.*)\)", text)
        if m and m.group(1) == "bpf_iter_get_func_proto":
            self.used_funcs.add(m.group(1))
            return self.iter_dispatch(st, ctx)
        if m and m.group(1) in self.funcs:
            callee = self.funcs[m.group(1)]
            args = m.group(2)
            if callee.params and args == ", ".join(ctx["func"].params[: len(callee.params)]):
                return self.call(m.group(1), ctx["func_id"], st)
            if not callee.params and args == "":
                return self.call(m.group(1), ctx["func_id"], st)
            raise ParseError(f"{where}: unexpected call {text!r}")
        if len(toks) == 1 and toks[0].kind == "ident":
            v = st.get(toks[0].text)
            if v == "UNSET":
                raise ParseError(f"{where}: read of unset variable {text}")
            return [(st, v)]
        return [(st, OPAQUE)]

    def iter_dispatch(self, st: State, ctx):
        """bpf_iter_get_func_proto(): the iterator target's .get_func_proto."""
        out = []
        for target, fn in self.iter_regs:
            out += self.call(fn, ctx["func_id"], st.add([f"iter target == {target}"]))
        return out

    # ---- statements ------------------------------------------------------

    def exec_list(self, stmts: list[Stmt], start: int, st: State, ctx):
        """Yields (kind, state, value); kind: return / break / fall."""
        states = [st]
        for idx in range(start, len(stmts)):
            s = stmts[idx]
            nxt = []
            for cur in states:
                if s.kind in ("case", "default", "decl", "expr"):
                    nxt.append(cur)
                    continue
                cur = cur.add(s.pp)
                if cur is None:
                    continue
                for kind, s2, val in self.exec_stmt(s, cur, ctx):
                    if kind == "fall":
                        nxt.append(s2)
                    else:
                        yield kind, s2, val
            states = dedup(nxt)
            if not states:
                return
        for cur in states:
            yield "fall", cur, None

    def exec_stmt(self, s: Stmt, st: State, ctx):
        where = f"{ctx['func'].path}:{ctx['func'].name}"
        if s.kind == "block":
            yield from self.exec_list(s.body, 0, st, ctx)
        elif s.kind == "return":
            for s2, v in self.value(s.expr, st, ctx):
                if v == OPAQUE:
                    self.problem(where, f"line {s.line}: return value not understood, "
                                 f"treated as NULL: {join_tokens(s.expr)}")
                    v = NULL
                yield "return", s2, v
        elif s.kind == "break":
            yield "break", st, None
        elif s.kind == "assign":
            for s2, v in self.value(s.expr, st, ctx):
                yield "fall", s2.set(s.target, v), None
        elif s.kind == "if":
            f = self.cond(s.expr, st, ctx)
            st1 = st.add(f_conjuncts(f)) if f is not False else None
            if st1 is not None:
                yield from self.exec_stmt(s.then, st1, ctx)
            nf = f_not(f)
            st2 = st.add(f_conjuncts(nf)) if nf is not False else None
            if st2 is not None:
                if s.els is not None:
                    yield from self.exec_stmt(s.els, st2, ctx)
                else:
                    yield "fall", st2, None
        elif s.kind == "switch":
            yield from self.exec_switch(s, st, ctx)
        elif s.kind in ("expr", "decl"):
            yield "fall", st, None
        elif s.kind == "unknown":
            self.problem(where, f"line {s.line}: statement not understood, skipped: "
                         f"{join_tokens(s.expr)[:80]}")
            yield "fall", st, None
        else:
            raise ParseError(f"{where}: unexpected {s.kind}")

    def exec_switch(self, s: Stmt, st: State, ctx):
        where = f"{ctx['func'].path}:{ctx['func'].name}"
        e = join_tokens(s.expr)
        labels = [(k, x) for k, x in enumerate(s.body) if x.kind in ("case", "default")]
        default = [k for k, x in labels if x.kind == "default"]
        starts: list[tuple[int, State]] = []
        fid = ctx["func"].params[0] if ctx["func"].params else None
        if e == fid:
            hits = [k for k, x in labels if x.kind == "case" and join_tokens(x.expr) == ctx["func_id"]]
            for k, x in labels:
                if x.kind == "case" and not re.fullmatch(r"BPF_FUNC_\w+", join_tokens(x.expr)):
                    raise ParseError(f"{where}: case {join_tokens(x.expr)}")
                if x.kind == "case" and join_tokens(x.expr)[9:] not in self.helper_enum:
                    raise ParseError(f"{where}: unknown helper {join_tokens(x.expr)}")
            if len(hits) > 1:
                self.problem(where, f"duplicate case {ctx['func_id']}")
            if hits:
                starts.append((hits[0], st.add(s.body[hits[0]].pp)))
                if starts[-1][1] is None:
                    starts.pop()
            elif default:
                starts.append((default[0], st))
        else:
            # opaque switch: group consecutive labels
            groups: list[tuple[int, list[str], bool]] = []
            for k, x in labels:
                if groups and all(s.body[j].kind in ("case", "default") for j in range(groups[-1][0], k)):
                    groups[-1][1].extend([join_tokens(x.expr)] if x.kind == "case" else [])
                    if x.kind == "default":
                        groups[-1] = (groups[-1][0], groups[-1][1], True)
                else:
                    groups.append((k, [join_tokens(x.expr)] if x.kind == "case" else [], x.kind == "default"))
            all_vals = [v for _, vs, _ in groups for v in vs]
            none_match = f_not(f_or([("atom", f"{e} == {v}") for v in all_vals]))
            for k, vs, is_def in groups:
                f = f_or([("atom", f"{e} == {v}") for v in vs])
                if is_def:
                    f = f_or([f, none_match]) if vs else none_match
                st2 = st.add(f_conjuncts(f))
                if st2 is not None:
                    starts.append((k, st2))
            if not default:
                st2 = st.add(f_conjuncts(none_match))
                if st2 is not None:
                    yield "fall", st2, None
        for k, st0 in starts:
            for kind, s2, v in self.exec_list(s.body, k, st0, ctx):
                if kind == "break":
                    yield "fall", s2, None
                else:
                    yield kind, s2, v
        if e == fid and not starts:
            yield "fall", st, None


def merge_alts(alts):
    """Merge alternatives with the same proto and dispatcher chain whose
    conditions differ in one complementary pair (c / !c)."""
    alts = list(alts)
    changed = True
    while changed:
        changed = False
        for i in range(len(alts)):
            for j in range(i + 1, len(alts)):
                (v1, c1, w1), (v2, c2, w2) = alts[i], alts[j]
                if v1 != v2 or w1 != w2 or len(c1) != len(c2):
                    continue
                d1 = [c for c in c1 if c not in c2]
                d2 = [c for c in c2 if c not in c1]
                if len(d1) == 1 and len(d2) == 1 and negate_text(d1[0]) == d2[0]:
                    alts[i] = (v1, [c for c in c1 if c != d1[0]], w1)
                    del alts[j]
                    changed = True
                    break
            if changed:
                break
    return alts


def split_op(toks: list[Tok], op: str) -> list[list[Tok]]:
    """Split at top-level operator `op` (for '?', only the first one)."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "punct" and t.text in "([{":
            depth += 1
        elif t.kind == "punct" and t.text in ")]}":
            depth -= 1
        if depth == 0 and t.kind == "punct" and t.text == op and (op != "?" or len(parts) == 1):
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def dedup(states):
    seen = set()
    out = []
    for s in states:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


# --------------------------------------------------------------------------
# Main extraction
# --------------------------------------------------------------------------

SKIP_DIRS = {"tools", "Documentation", "samples", "scripts", "debian", "usr", "LICENSES"}


def source_files(root: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        dirnames.sort()
        for fn in sorted(filenames):
            if fn.endswith(".c"):
                p = os.path.join(dirpath, fn)
                with open(p, "rb") as fh:
                    data = fh.read()
                if b"bpf_func_proto" in data or b"bpf_verifier_ops" in data or b"bpf_struct_ops" in data \
                        or b"bpf_iter_reg" in data:
                    out.append(os.path.relpath(p, root))
    return sorted(out)


def rust_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def camel(name: str, prefix: str) -> str:
    assert name.startswith(prefix), (name, prefix)
    return "".join(p.capitalize() for p in name[len(prefix) :].lower().split("_"))


def generate(root: str, prog_types_rs: str):
    with open(os.path.join(root, "Makefile")) as fh:
        mk = fh.read()
    ver = ".".join(
        re.search(rf"^{k} = (\d+)", mk, re.M).group(1) for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL")
    )
    bpf_h = lex(open(os.path.join(root, "include/linux/bpf.h")).read(), "bpf.h")
    base_bits, flags = parse_type_flags(bpf_h)
    flag_names = {n for n, _ in flags}
    arg_bases, arg_aliases = parse_typed_enum(bpf_h, "bpf_arg_type", flag_names)
    ret_bases, ret_aliases = parse_typed_enum(bpf_h, "bpf_return_type", flag_names)
    helpers = parse_helper_ids(open(os.path.join(root, "include/uapi/linux/bpf.h")).read())
    helper_enum = {n: i for n, i in helpers}
    bpf_types = parse_bpf_types(os.path.join(root, "include/linux/bpf_types.h"))
    rust_pt = parse_prog_types_rs(prog_types_rs)

    protos: list[Proto] = []
    funcs: list[Func] = []
    inits: list[Initializer] = []
    files = source_files(root)
    for rel in files:
        toks = lex(open(os.path.join(root, rel), encoding="utf-8", errors="replace").read(), rel)
        top_level_items(toks, rel, protos, funcs, inits)

    problems: list[str] = []
    proto_by: dict[str, Proto] = {}
    for p in protos:
        if p.name in proto_by:
            problems.append(f"{p.path}:{p.line}: duplicate proto {p.name} (first in "
                            f"{proto_by[p.name].path}:{proto_by[p.name].line} kept)")
            continue
        proto_by[p.name] = p
    func_by: dict[str, Func] = {}
    for f in funcs:
        if f.name in func_by:
            problems.append(f"{f.path}:{f.line}: duplicate function {f.name} (first kept)")
            continue
        func_by[f.name] = f

    # ---- protos -> typed records
    arg_alias = {a: (b, fl) for a, b, fl in arg_aliases}
    ret_alias = {a: (b, fl) for a, b, fl in ret_aliases}

    def typed(text: str, bases, alias, what) -> tuple[str, list[str]]:
        names = [x.strip() for x in text.split("|")]
        base = None
        fl: list[str] = []
        for nm in names:
            if nm in bases or nm in alias:
                if base is not None:
                    raise ParseError(f"{what}: two base types in {text!r}")
                base, extra = (nm, []) if nm in bases else alias[nm]
                fl += extra
            elif nm in flag_names:
                fl.append(nm)
            else:
                raise ParseError(f"{what}: unknown type name {nm!r} in {text!r}")
        if base is None:
            raise ParseError(f"{what}: no base type in {text!r}")
        order = [n for n, _ in flags]
        return base, sorted(set(fl), key=order.index)

    known_fields = {"func", "gpl_only", "pkt_access", "might_sleep", "allow_fastcall", "ret_type",
                    "ret_btf_id", "allowed"} | {f"arg{i}_{k}" for i in range(1, 6)
                                                 for k in ("type", "btf_id", "size")}
    records = {}
    for name in sorted(proto_by):
        p = proto_by[name]
        what = f"{p.path}:{p.line}: {name}"
        unknown = set(p.fields) - known_fields
        if unknown:
            raise ParseError(f"{what}: unknown fields {sorted(unknown)}")
        for b in ("gpl_only", "pkt_access", "might_sleep", "allow_fastcall"):
            if p.fields.get(b, "false") not in ("true", "false"):
                raise ParseError(f"{what}: {b} = {p.fields[b]!r}")
        if "ret_type" not in p.fields:
            # zero-initialised: the enum's value 0
            problems.append(f"{what}: no .ret_type (zero-initialised, i.e. {ret_bases[0]})")
            p.fields["ret_type"] = ret_bases[0]
        rec = {
            "name": name,
            "path": p.path,
            "func": p.fields.get("func"),
            "gpl_only": p.fields.get("gpl_only") == "true",
            "pkt_access": p.fields.get("pkt_access") == "true",
            "might_sleep": p.fields.get("might_sleep") == "true",
            "allow_fastcall": p.fields.get("allow_fastcall") == "true",
            "allowed": p.fields.get("allowed"),
            "ret": typed(p.fields["ret_type"], ret_bases, ret_alias, what),
            "ret_btf_id": p.fields.get("ret_btf_id"),
            "args": [],
            "sizes": [],
            "btf_ids": [],
        }
        for i in range(1, 6):
            t = p.fields.get(f"arg{i}_type")
            rec["args"].append(typed(t, arg_bases, arg_alias, what) if t else ("ARG_DONTCARE", []))
            rec["sizes"].append(p.fields.get(f"arg{i}_size"))
            rec["btf_ids"].append(p.fields.get(f"arg{i}_btf_id"))
        records[name] = rec

    # ---- verifier ops, struct_ops, iterators
    ops = {i.name: i for i in inits if i.type_name == "bpf_verifier_ops"}
    st_ops = sorted(
        (i for i in inits if i.type_name == "bpf_struct_ops"), key=lambda i: (i.path, i.name)
    )
    iter_regs = []
    for i in sorted((i for i in inits if i.type_name == "bpf_iter_reg"), key=lambda i: (i.path, i.name)):
        if "get_func_proto" in i.fields:
            iter_regs.append((i.fields["target"].strip('"'), i.fields["get_func_proto"]))
    iter_regs.sort()

    interp = Interp(func_by, set(records), helper_enum, iter_regs)

    def dispatcher_for_ops(ops_name: str) -> str | None:
        if ops_name not in ops:
            raise ParseError(f"bpf_verifier_ops {ops_name} not found")
        return ops[ops_name].fields.get("get_func_proto")

    c_to_rust = {f"BPF_PROG_TYPE_{s.upper()}": v for v, s, _ in rust_pt}
    entries: dict[str, list[tuple[str, list[tuple[str, list[str]]]]]] = {}
    roots: dict[str, list[tuple[str, str]]] = {}  # prog type -> [(cond, dispatcher)]
    notes: dict[str, str] = {}
    for ctype, opsname in bpf_types:
        if ctype not in c_to_rust:
            raise ParseError(f"bpf_types.h: {ctype} not in ProgType")
        if ctype in roots:
            continue
        d = dispatcher_for_ops(f"{opsname}_verifier_ops")
        if d is not None:
            roots[ctype] = [("", d)]
        elif ctype == "BPF_PROG_TYPE_STRUCT_OPS":
            lst = []
            for so in st_ops:
                vo = so.fields.get("verifier_ops", "")
                m = re.fullmatch(r"&(\w+)", vo)
                if not m:
                    problems.append(f"{so.path}: struct_ops {so.name}: verifier_ops {vo!r}")
                    continue
                d2 = dispatcher_for_ops(m.group(1))
                sname = so.fields.get("name", so.name).strip('"')
                if d2 is None:
                    notes[f"st_ops {sname}"] = f"{m.group(1)} has no .get_func_proto (no helpers)"
                    continue
                lst.append((f"st_ops->name == {sname}", d2))
            roots[ctype] = lst
            notes[ctype] = ("bpf_struct_ops_verifier_ops has no .get_func_proto; the struct_ops "
                            "type's own verifier_ops is used (one condition per struct_ops)")
        else:
            roots[ctype] = []
            notes[ctype] = (f"{opsname}_verifier_ops has no .get_func_proto"
                            + ("; the verifier uses the target program's ops"
                               if ctype == "BPF_PROG_TYPE_EXT" else ""))

    for ctype, rlist in roots.items():
        interp.prog_type = ctype
        rows = []
        for hname, hid in helpers:
            if hid == 0:
                continue
            alts: list[tuple[str, list[str], list[str]]] = []
            for rcond, d in rlist:
                st = State(tuple([rcond] if rcond else []), (), ())
                for s2, v in interp.call(d, f"BPF_FUNC_{hname}", st):
                    if v is None:
                        continue
                    alt = (v[0], list(s2.conds), list(v[1]))
                    if alt not in alts:
                        alts.append(alt)
            alts = merge_alts(alts)
            if alts:
                rows.append((hid, alts))
        entries[ctype] = rows

    # helper id of each proto: the ids it is returned for
    proto_ids: dict[str, set[int]] = {}
    for rows in entries.values():
        for hid, alts in rows:
            for v, _, _ in alts:
                proto_ids.setdefault(v, set()).add(hid)
    for name, ids in proto_ids.items():
        if len(ids) > 1:
            problems.append(f"proto {name} returned for several helper ids {sorted(ids)}")

    unused = sorted(set(func_by) - interp.used_funcs)
    problems += sorted(interp.problems)
    return dict(
        version=ver, base_bits=base_bits, flags=flags, arg_bases=arg_bases,
        arg_aliases=arg_aliases, ret_bases=ret_bases, ret_aliases=ret_aliases, helpers=helpers,
        records=records, proto_ids=proto_ids, entries=entries, rust_pt=rust_pt,
        c_to_rust=c_to_rust, notes=notes, problems=problems, unused=unused, files=files,
        func_by=func_by,
    )


# --------------------------------------------------------------------------
# Rust output
# --------------------------------------------------------------------------


def emit(d, argv_cmd: str) -> str:
    L: list[str] = []
    w = L.append
    w(f"// @generated by corpus/tools/gen_helper_protos.py from Linux {d['version']}")
    w("// (Debian linux-source-6.12). Do not edit by hand; regenerate with:")
    w(f"//     {argv_cmd}")
    w("//")
    w("// Facts are from include/linux/bpf.h, include/linux/bpf_types.h,")
    w("// include/uapi/linux/bpf.h and the `struct bpf_func_proto` definitions and")
    w("// `*_func_proto()` dispatchers of the kernel tree.")
    w("")
    w("use super::protos::{Alt, ArgType, FuncProto, HelperRow, RetType, TypeFlags};")
    w("")
    w(f"/// Linux version the tables were generated from.")
    w(f"pub const SOURCE_VERSION: &str = {rust_str(d['version'])};")
    w("")
    w("/// `BPF_BASE_TYPE_BITS`: type flags start at this bit.")
    w(f"pub const BPF_BASE_TYPE_BITS: u32 = {d['base_bits']};")
    w("")
    # flags
    w("/// `enum bpf_type_flag` (bit values as in the kernel).")
    w("impl TypeFlags {")
    for n, b in d["flags"]:
        w(f"    /// `{n}`.")
        w(f"    pub const {n}: TypeFlags = TypeFlags(1 << {b + d['base_bits']});")
    w("}")
    w("")
    w("/// `(name, flag)` of every `enum bpf_type_flag` member, in kernel order.")
    w("pub static TYPE_FLAG_NAMES: &[(&str, TypeFlags)] = &[")
    for n, _ in d["flags"]:
        w(f"    ({rust_str(n)}, TypeFlags::{n}),")
    w("];")
    w("")
    for ename, bases, aliases, prefix, kind in (
        ("ArgBase", d["arg_bases"], d["arg_aliases"], "ARG_", "bpf_arg_type"),
        ("RetBase", d["ret_bases"], d["ret_aliases"], "RET_", "bpf_return_type"),
    ):
        w(f"/// Base values of `enum {kind}` (without type flags).")
        w("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]")
        w("#[repr(u32)]")
        w(f"pub enum {ename} {{")
        for i, b in enumerate(bases):
            w(f"    /// `{b}` = {i}.")
            w(f"    {camel(b, prefix)} = {i},")
        w("}")
        w("")
        w(f"impl {ename} {{")
        w(f"    /// Every base value, in kernel order.")
        w(f"    pub const ALL: &'static [{ename}] = &[")
        for b in bases:
            w(f"        {ename}::{camel(b, prefix)},")
        w("    ];")
        w("")
        w("    /// The C enumerator name.")
        w("    pub const fn c_name(self) -> &'static str {")
        w("        match self {")
        for b in bases:
            w(f"            {ename}::{camel(b, prefix)} => {rust_str(b)},")
        w("        }")
        w("    }")
        w("}")
        w("")
        ty = "ArgType" if ename == "ArgBase" else "RetType"
        up = "ARG" if ename == "ArgBase" else "RET"
        w(f"/// Named combinations of `enum {kind}` (e.g. `{prefix}..._OR_NULL`).")
        w(f"pub static {up}_ALIASES: &[(&str, {ty})] = &[")
        for a, b, fl in aliases:
            w(f"    ({rust_str(a)}, {ty}::new({ename}::{camel(b, prefix)}, {flags_expr(fl)})),")
        w("];")
        w("")

    w("/// Helper names of `___BPF_FUNC_MAPPER` (without `bpf_`), indexed by id.")
    w(f"pub static HELPER_IDS: [&str; {len(d['helpers'])}] = [")
    for n, _ in d["helpers"]:
        w(f"    {rust_str(n)},")
    w("];")
    w("")

    recs = d["records"]
    names = sorted(recs)
    index = {n: i for i, n in enumerate(names)}
    w(f"/// Every `struct bpf_func_proto` definition, sorted by name.")
    w(f"pub static PROTOS: [FuncProto; {len(names)}] = [")
    for n in names:
        r = recs[n]
        ids = d["proto_ids"].get(n, set())
        hid = f"Some({min(ids)})" if len(ids) == 1 else "None"

        def opt(v):
            return "None" if v is None else f"Some({rust_str(v)})"

        w("    FuncProto {")
        w(f"        name: {rust_str(n)},")
        w(f"        source: {rust_str(r['path'])},")
        w(f"        func: {opt(r['func'])},")
        w(f"        helper_id: {hid},")
        w(f"        gpl_only: {str(r['gpl_only']).lower()},")
        w(f"        pkt_access: {str(r['pkt_access']).lower()},")
        w(f"        might_sleep: {str(r['might_sleep']).lower()},")
        w(f"        allow_fastcall: {str(r['allow_fastcall']).lower()},")
        w(f"        allowed: {opt(r['allowed'])},")
        b, fl = r["ret"]
        w(f"        ret: RetType::new(RetBase::{camel(b, 'RET_')}, {flags_expr(fl)}),")
        w(f"        ret_btf_id: {opt(r['ret_btf_id'])},")
        w("        args: [")
        for b, fl in r["args"]:
            w(f"            ArgType::new(ArgBase::{camel(b, 'ARG_')}, {flags_expr(fl)}),")
        w("        ],")
        w(f"        arg_sizes: [{', '.join(opt(x) for x in r['sizes'])}],")
        w(f"        arg_btf_ids: [{', '.join(opt(x) for x in r['btf_ids'])}],")
        w("    },")
    w("];")
    w("")

    pt = sorted(d["rust_pt"], key=lambda x: x[2])
    rust_to_c = {v: c for c, v in d["c_to_rust"].items()}
    slices: dict[tuple[str, ...], str] = {}
    for rows in d["entries"].values():
        for _, alts in rows:
            for _, conds, via in alts:
                for kind, lst in (("C", conds), ("V", via)):
                    key = (kind,) + tuple(lst)
                    if key not in slices:
                        slices[key] = f"{kind}{sum(1 for k in slices if k[0] == kind)}"
    for key, name in slices.items():
        what = "Path conditions" if key[0] == "C" else "Dispatcher chain"
        w(f"/// {what} shared by table entries.")
        w(f"static {name}: &[&str] = &[{', '.join(rust_str(x) for x in key[1:])}];")
    w("")
    w("/// `alt!(proto index, conditions, dispatchers)`.")
    w("macro_rules! alt {")
    w("    ($p:expr, $c:expr, $v:expr) => {")
    w("        Alt { proto: &PROTOS[$p], conds: $c, via: $v }")
    w("    };")
    w("}")
    w("")
    w("/// `row!(helper id, [alternatives])`.")
    w("macro_rules! row {")
    w("    ($id:expr, [$($a:expr),* $(,)?]) => {")
    w("        HelperRow { helper_id: $id, alts: &[$($a),*] }")
    w("    };")
    w("}")
    w("")
    w("/// Per program type (indexed by `ProgType as usize`): helpers the type's")
    w("/// `get_func_proto` can return a proto for, sorted by helper id.")
    w(f"pub static PROG_TYPE_HELPERS: [&[HelperRow]; {len(pt)}] = [")
    for variant, sname, val in pt:
        ctype = rust_to_c[variant]
        rows = d["entries"].get(ctype)
        note = d["notes"].get(ctype)
        if rows is None:
            w(f"    // {ctype}: not in include/linux/bpf_types.h")
            w("    &[],")
            continue
        w(f"    // {ctype}" + (f": {note}" if note else ""))
        w("    &[")
        for hid, alts in rows:
            items = ", ".join(
                f"alt!({index[v]}, {slices[('C',) + tuple(c)]}, {slices[('V',) + tuple(via)]})"
                for v, c, via in alts
            )
            w(f"        row!({hid}, [{items}]),")
        w("    ],")
    w("];")
    w("")
    w("/// Every (program type, helper) pair with at least one proto.")
    w(f"pub const PAIR_COUNT: usize = {sum(len(r) for r in d['entries'].values())};")
    w("")
    w("// Notes:")
    for k in sorted(d["notes"]):
        w(f"// - {k}: {d['notes'][k]}")
    w("//")
    w(f"// Source files scanned: {len(d['files'])}.")
    w("// Dispatchers never reached from a program type (not in the tables):")
    for u in d["unused"]:
        f = d["func_by"][u]
        w(f"// - {u} ({f.path})")
    w("//")
    w("// Not parsed / not modelled:")
    if not d["problems"]:
        w("// - nothing")
    for p in d["problems"]:
        w(f"// - {p}")
    return "\n".join(L) + "\n"


def flags_expr(fl: list[str]) -> str:
    if not fl:
        return "TypeFlags::NONE"
    e = f"TypeFlags::{fl[0]}"
    for f in fl[1:]:
        e += f".union(TypeFlags::{f})"
    return e


def write_rust(text: str, out: str, check: bool, tool: str) -> None:
    """Formats `text` with rustfmt, then writes it to `out`, or with `check`
    exits 1 when `out` differs."""
    with tempfile.NamedTemporaryFile("w", suffix=".rs", delete=False) as tf:
        tf.write(text)
        tmp = tf.name
    try:
        subprocess.run(["rustfmt", "--edition", "2024", tmp], check=True)
        text = open(tmp).read()
    finally:
        os.unlink(tmp)
    if check:
        old = open(out).read() if os.path.exists(out) else ""
        if old != text:
            print(f"{tool}: {out} is stale", file=sys.stderr)
            sys.exit(1)
    else:
        with open(out, "w") as fh:
            fh.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--linux", default="/var/cache/bpfproof/linux-source-6.12")
    ap.add_argument("--out", default="analyzer/src/platform/protos_data.rs")
    ap.add_argument("--prog-types", default="analyzer/src/platform/prog_types.rs")
    ap.add_argument("--check", action="store_true", help="fail if --out is stale")
    args = ap.parse_args()
    try:
        d = generate(args.linux, args.prog_types)
    except ParseError as e:
        print(f"gen_helper_protos: parse error: {e}", file=sys.stderr)
        sys.exit(2)
    n_protos = len(d["records"])
    if n_protos < 200:
        print(f"gen_helper_protos: only {n_protos} protos parsed", file=sys.stderr)
        sys.exit(2)
    cmd = ("python3 corpus/tools/gen_helper_protos.py --linux "
           f"{args.linux} --out {args.out}")
    write_rust(emit(d, cmd), args.out, args.check, "gen_helper_protos")
    pairs = sum(len(r) for r in d["entries"].values())
    print(f"gen_helper_protos: Linux {d['version']}: {n_protos} protos, "
          f"{len(d['entries'])} program types, {pairs} (type, helper) pairs", file=sys.stderr)
    for p in d["problems"]:
        print(f"gen_helper_protos: not parsed: {p}", file=sys.stderr)


if __name__ == "__main__":
    main()
