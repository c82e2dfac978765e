//! `bpfproof check` as text, in the style of rustc: the code and the
//! kernel's message, the C source line with a caret under the column from
//! line_info (else the instruction in the kernel's syntax), the failed
//! access in words, the path of branch decisions as source lines, `note:`
//! lines and a `help:` line.

use crate::check::{CheckReport, CheckResult, Diagnostic, Verdict};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use bpfproof_analyzer::engine::obligation::{Bound, Obligation, ObligationKind};
use std::fmt::Write;

/// Renders the report; `color` uses ANSI styles.
pub fn render(r: &CheckReport, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for res in &r.results {
        let _ = writeln!(out, "{}: {}", who(res), res.verdict.as_str());
        if let Some(p) = &res.prove {
            // check --prove: the accepted program's obligations under Z3.
            let n = |k: &str| p[k].as_u64().unwrap_or(0);
            let refuted: Vec<&str> = p["refuted"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  prove: {} ctx/packet obligations proved by Z3, {} refuted, {} undecided",
                n("proved"),
                refuted.len(),
                n("unknown")
            );
            for x in refuted {
                let _ = writeln!(out, "  INTERNAL SOUNDNESS BUG (please report): {x}");
            }
        }
        if res.error.is_none() {
            continue;
        }
        // One block per diagnostic: the kernel's first error, then the
        // further ones, each standing on its own.
        for g in groups(res) {
            let text = renderer.render(&[g]);
            for l in text.lines() {
                let _ = writeln!(out, "{}", l.trim_end());
            }
            out.push('\n');
        }
    }
    let count = |v| r.results.iter().filter(|x| x.verdict == v).count();
    let _ = writeln!(
        out,
        "{} programs: {} accepted, {} rejected, {} unsupported, {} errors",
        r.results.len(),
        count(Verdict::Accept),
        count(Verdict::Reject),
        count(Verdict::Unsupported),
        count(Verdict::Error)
    );
    out
}

fn who(res: &CheckResult) -> String {
    match (&res.program, &res.prog_type) {
        (Some(p), Some(t)) => format!("{}: {p} ({t})", res.object),
        (Some(p), None) => format!("{}: {p}", res.object),
        _ => res.object.clone(),
    }
}

/// The diagnostics of one result: the recorded ones, or one made of the
/// error alone (unsupported, input errors).
fn diagnostics(res: &CheckResult) -> Vec<Diagnostic> {
    if !res.diagnostics.is_empty() {
        return res.diagnostics.clone();
    }
    let Some(e) = &res.error else {
        return Vec::new();
    };
    vec![Diagnostic {
        severity: match res.verdict {
            Verdict::Reject | Verdict::Error => "error",
            _ => "note",
        },
        detail: e.clone(),
        notes: Vec::new(),
        help: None,
        state: None,
        path: Vec::new(),
        obligation: None,
        counterexample: None,
        access: None,
        proof: None,
    }]
}

fn groups(res: &CheckResult) -> Vec<Group<'static>> {
    let mut out = Vec::new();
    for d in diagnostics(res) {
        let level = match d.severity {
            "error" => Level::ERROR,
            "warning" => Level::WARNING,
            _ => Level::NOTE,
        };
        let e = &d.detail;
        let label = d
            .access
            .clone()
            .or_else(|| e.more.first().cloned())
            .unwrap_or_default();
        let title = level.primary_title(e.message.clone()).id(e.code.clone());
        let mut g = match location(res, &d, label) {
            Some(snippet) => title.element(snippet),
            None => title.element(Level::NOTE.message(format!("in {}", res.object))),
        };
        for m in e.more.iter().skip(usize::from(d.access.is_none())) {
            g = g.element(Level::NOTE.message(format!("the kernel adds: {m}")));
        }
        if e.source.is_some()
            && let (Some(i), Some(dis)) = (e.insn, &e.disasm)
        {
            g = g.element(Level::NOTE.message(format!("at insn {i}: {dis}")));
        }
        if let Some(state) = &d.state {
            g = g.element(Level::NOTE.message(format!("state before the instruction: {state}")));
        }
        if !d.path.is_empty() {
            let mut p = String::from("the path that reaches it:");
            for s in &d.path {
                let what = if s.taken {
                    "jump taken"
                } else {
                    "falls through"
                };
                match (s.line, &s.text) {
                    (Some(l), Some(t)) => {
                        let _ =
                            write!(p, "\n  line {l}: `{}` → {what} (insn {})", t.trim(), s.insn);
                    }
                    _ => {
                        let _ = write!(p, "\n  insn {} → {what}", s.insn);
                    }
                }
            }
            g = g.element(Level::NOTE.message(p));
        }
        for n in &d.notes {
            g = g.element(Level::NOTE.message(n.clone()));
        }
        if let Some(c) = &d.counterexample {
            g = g.element(Level::NOTE.message(format!("counterexample: {c}")));
        }
        if let Some(h) = &d.help {
            g = g.element(Level::HELP.message(h.clone()));
        }
        if e.code.starts_with("BPF") {
            g = g.element(
                Level::NOTE.message(format!("`bpfproof explain {}` explains this code", e.code)),
            );
        }
        out.push(g);
    }
    out
}

/// The snippet the error points at: the C line at its column, else the
/// instruction; `None` when the error is about the whole object.
fn location(
    res: &CheckResult,
    d: &Diagnostic,
    label: String,
) -> Option<Snippet<'static, annotate_snippets::Annotation<'static>>> {
    let e = &d.detail;
    if let Some(src) = &e.source {
        let text = src.text.trim_end().to_string();
        let (start, end) = token_span(&text, src.column as usize);
        return Some(
            Snippet::source(text)
                .line_start(src.line as usize)
                .path(display_path(&res.object, &src.file))
                .annotation(AnnotationKind::Primary.span(start..end).label(label)),
        );
    }
    if let (Some(i), Some(dis)) = (e.insn, &e.disasm) {
        let text = format!("{i}: {dis}");
        let len = text.len();
        return Some(
            Snippet::source(text)
                .line_numbering(false)
                .path(format!("{} (insn {i}, no line info)", res.object))
                .annotation(AnnotationKind::Primary.span(0..len).label(label)),
        );
    }
    None
}

/// The byte span of the token at a 1-based character column (the
/// identifier or the single character there).
fn token_span(text: &str, column: usize) -> (usize, usize) {
    let Some((start, first)) = text.char_indices().nth(column.saturating_sub(1)) else {
        return (0, text.len());
    };
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if !ident(first) {
        return (start, start + first.len_utf8());
    }
    let end = text[start..]
        .char_indices()
        .find(|&(_, c)| !ident(c))
        .map_or(text.len(), |(i, _)| start + i);
    (start, end)
}

/// The source file as the user knows it: next to the object when it is
/// there (`corpus/programs/x.bpf.c` for `corpus/programs/x.bpf.o`), else
/// as line_info records it.
fn display_path(object: &str, file: &str) -> String {
    let path = std::path::Path::new(file);
    if let (Some(name), Some(dir)) = (path.file_name(), std::path::Path::new(object).parent()) {
        let near = dir.join(name);
        if near.is_file() {
            return near.display().to_string();
        }
    }
    file.to_string()
}

/// The failed access in words: the pointer, the proven bound, the bytes
/// the access touches.
pub fn describe_access(o: &Obligation) -> String {
    let v = &o.var_off;
    let (lo, hi) = if v.is_const() {
        let c = v.const_value(false) as i64;
        (c, c)
    } else if v.smin >= 0 || v.umax <= i64::MAX as u64 {
        (
            v.umin.min(i64::MAX as u64) as i64,
            v.umax.min(i64::MAX as u64) as i64,
        )
    } else {
        (v.smin, v.smax)
    };
    let mut ptr = format!("r{} = {}", o.regno, o.base);
    let fixed = o.fixed_off;
    if lo == hi {
        let off = fixed.saturating_add(lo);
        if off >= 0 {
            let _ = write!(ptr, " + {off}");
        } else {
            let _ = write!(ptr, " - {}", off.unsigned_abs());
        }
    } else {
        if fixed != 0 {
            let _ = write!(
                ptr,
                " {} {}",
                if fixed < 0 { '-' } else { '+' },
                fixed.unsigned_abs()
            );
        }
        let _ = write!(ptr, " + a value in {lo}..={hi}");
    }
    let bound = match &o.bound {
        Bound::Packet { range } => format!(", checked range {range} bytes"),
        Bound::Region { size } if o.base.starts_with("map_value") => format!(", value size {size}"),
        Bound::Region { size } if o.base.starts_with("map_key") => format!(", key size {size}"),
        Bound::Region { size } => format!(", memory size {size}"),
        Bound::Stack => ", the frame is fp-512..fp".to_string(),
        Bound::Ctx | Bound::Other => String::new(),
    };
    let verb = match o.kind {
        ObligationKind::Read => "read",
        ObligationKind::Write => "write",
        ObligationKind::HelperMem => "helper access",
    };
    let first = fixed.saturating_add(lo);
    let last = fixed.saturating_add(hi).saturating_add(o.size as i64);
    let bytes = if first == last - o.size as i64 {
        format!("bytes {first}..{last}")
    } else {
        format!(
            "bytes from {first}..{} up to ..{last}",
            first.saturating_add(o.size as i64)
        )
    };
    format!("{ptr}{bound}; the {}-byte {verb} covers {bytes}", o.size)
}
