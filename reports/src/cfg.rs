//! `bpfproof cfg`: a program's control-flow graph as text (blocks, edges,
//! loops, with C source lines) or as Graphviz DOT (`--dot`), with loop
//! back-edges and unreachable code visibly marked.

use crate::disasm::ObjectNames;
use bpfproof_analyzer::cfg::{CfgInfo, EdgeKind};
use bpfproof_analyzer::isa::print_bpf_insn;
use bpfproof_analyzer::object::{Object, Program};
use std::collections::BTreeSet;
use std::fmt::Write;

fn edge_label(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::Fallthrough => "fallthrough",
        EdgeKind::Jump => "goto",
        EdgeKind::Taken => "taken",
    }
}

fn subprog_name(prog: &Program, info: &CfgInfo, k: usize) -> String {
    info.subprogs
        .get(k)
        .and_then(|s| s.name.clone())
        .unwrap_or_else(|| {
            if k == 0 {
                prog.name.clone()
            } else {
                format!("subprog#{k}")
            }
        })
}

/// Back-edges as (from block, to block).
fn back_edge_set(info: &CfgInfo) -> BTreeSet<(usize, usize)> {
    info.funcs
        .iter()
        .flat_map(|f| f.loops.iter().flat_map(|l| l.back_edges.iter().copied()))
        .collect()
}

/// Out-going intra-procedural edges of each block: (target block, kind).
fn block_edges(info: &CfgInfo) -> Vec<Vec<(usize, EdgeKind)>> {
    let mut out = vec![Vec::new(); info.blocks.len()];
    for f in &info.funcs {
        for e in f.graph.raw_edges() {
            let (Some(&a), Some(&b)) = (
                f.graph.node_weight(e.source()),
                f.graph.node_weight(e.target()),
            ) else {
                continue;
            };
            if let Some(v) = out.get_mut(a) {
                v.push((b, e.weight));
            }
        }
    }
    out
}

/// The source line starting at `insn`, unless it is the line `last` already printed.
fn source_line(prog: &Program, insn: usize, last: &mut Option<(String, u32)>) -> Option<String> {
    let l = prog.line_info.iter().find(|l| l.insn == insn)?;
    let key = (l.file.clone(), l.line);
    if last.as_ref() == Some(&key) {
        return None;
    }
    *last = Some(key);
    let file = l.file.rsplit('/').next().unwrap_or(&l.file);
    Some(format!("{file}:{}: {}", l.line, l.text.trim()))
}

fn loop_line(prog: &Program, insn: usize) -> String {
    match prog.line_for(insn) {
        Some(l) => format!(
            "line {} ({})",
            l.line,
            l.file.rsplit('/').next().unwrap_or(&l.file)
        ),
        None => format!("insn {insn}"),
    }
}

/// Renders the CFG as text.
pub fn render_text(path: &str, obj: &Object, prog: &Program, info: &CfgInfo) -> String {
    let ctx = ObjectNames { obj, prog };
    let mut out = String::new();
    let ty = prog.prog_type.map_or("unknown type", |t| t.name());
    let _ = writeln!(
        out,
        "{path}: {} (section {}, {}): {} insns, {} subprograms, {} blocks",
        prog.name,
        prog.section,
        ty,
        prog.insns.len(),
        info.subprogs.len(),
        info.blocks.len()
    );
    let edges = block_edges(info);
    let back = back_edge_set(info);
    for (k, s) in info.subprogs.iter().enumerate() {
        let mut tags = Vec::new();
        if k == 0 {
            tags.push("main");
        }
        if s.called {
            tags.push("called");
        }
        if s.is_cb {
            tags.push("callback");
        }
        if s.is_exception_cb {
            tags.push("exception callback");
        }
        if s.has_tail_call {
            tags.push("tail call");
        }
        if s.changes_pkt_data {
            tags.push("changes packet data");
        }
        let _ = writeln!(
            out,
            "\nsubprog {k} {} insns {}..{} [{}]",
            subprog_name(prog, info, k),
            s.start,
            s.end,
            tags.join(", ")
        );
        for (b, bb) in info
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.subprog == k)
        {
            let mut succ: Vec<String> = edges
                .get(b)
                .map(|v| {
                    v.iter()
                        .map(|&(t, kind)| {
                            let mark = if back.contains(&(b, t)) {
                                ", back-edge"
                            } else {
                                ""
                            };
                            format!("B{t} ({}{mark})", edge_label(kind))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if let Some(c) = bb.callee {
                succ.push(format!("call {}", subprog_name(prog, info, c)));
            }
            if let Some(t) = bb.out_of_range {
                succ.push(format!("out of range: {t}"));
            }
            if bb.exit {
                succ.push("exit".into());
            }
            let _ = writeln!(
                out,
                "  B{b} insns {}..{}{} -> {}",
                bb.start,
                bb.end,
                if bb.reachable { "" } else { " (unreachable)" },
                if succ.is_empty() {
                    "-".to_string()
                } else {
                    succ.join(", ")
                }
            );
            let mut i = bb.start;
            let mut last = None;
            while i < bb.end {
                if let Some(src) = source_line(prog, i, &mut last) {
                    let _ = writeln!(out, "      ; {src}");
                }
                let _ = writeln!(out, "    {i:>4}: {}", print_bpf_insn(&ctx, &prog.insns, i));
                i += match prog.insns.get(i) {
                    Some(x) if x.is_ldimm64() => 2,
                    _ => 1,
                };
            }
        }
        let f = info.funcs.get(k);
        for l in f.map(|f| f.loops.as_slice()).unwrap_or(&[]) {
            let Some(h) = info.blocks.get(l.header) else {
                continue;
            };
            let body: Vec<String> = l.body.iter().map(|b| format!("B{b}")).collect();
            let be: Vec<String> = l
                .back_edges
                .iter()
                .map(|&(a, b)| format!("B{a}->B{b}"))
                .collect();
            let ex: Vec<String> = l
                .exits
                .iter()
                .map(|&(a, b)| format!("B{a}->B{b}"))
                .collect();
            let _ = writeln!(
                out,
                "  loop at {} (header B{}, depth {}): body {}; back-edges {}; exits {}",
                loop_line(prog, h.start),
                l.header,
                l.depth,
                body.join(" "),
                be.join(" "),
                if ex.is_empty() {
                    "none".to_string()
                } else {
                    ex.join(" ")
                }
            );
        }
        for r in f.map(|f| f.irreducible.as_slice()).unwrap_or(&[]) {
            let blocks: Vec<String> = r.blocks.iter().map(|b| format!("B{b}")).collect();
            let entries: Vec<String> = r.entries.iter().map(|b| format!("B{b}")).collect();
            let _ = writeln!(
                out,
                "  irreducible region {} (entries {})",
                blocks.join(" "),
                entries.join(" ")
            );
        }
    }
    match &info.error {
        Some(e) => {
            let _ = writeln!(out, "\nerror: {} (insn {})", e.message, e.insn);
        }
        None => {
            let _ = writeln!(out, "\ncfg ok");
        }
    }
    out
}

fn dot_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\l"),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

/// Renders the CFG as Graphviz DOT: one cluster per subprogram, dashed grey
/// unreachable blocks, bold red loop back-edges, dotted call edges.
pub fn render_dot(obj: &Object, prog: &Program, info: &CfgInfo) -> String {
    let ctx = ObjectNames { obj, prog };
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_escape(&prog.name));
    let _ = writeln!(out, "  node [shape=box, fontname=\"monospace\"];");
    let edges = block_edges(info);
    let back = back_edge_set(info);
    for (k, s) in info.subprogs.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{k} {{");
        let _ = writeln!(
            out,
            "    label=\"{} (insns {}..{})\";",
            dot_escape(&subprog_name(prog, info, k)),
            s.start,
            s.end
        );
        for (b, bb) in info
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.subprog == k)
        {
            let mut label = format!("B{b}");
            if !bb.reachable {
                label.push_str(" (unreachable)");
            }
            label.push('\n');
            let mut i = bb.start;
            let mut last = None;
            while i < bb.end {
                if let Some(src) = source_line(prog, i, &mut last) {
                    let _ = writeln!(label, "; {src}");
                }
                let _ = writeln!(label, "{i}: {}", print_bpf_insn(&ctx, &prog.insns, i));
                i += match prog.insns.get(i) {
                    Some(x) if x.is_ldimm64() => 2,
                    _ => 1,
                };
            }
            let style = if bb.reachable {
                ""
            } else {
                ", style=dashed, color=gray50, fontcolor=gray50"
            };
            let _ = writeln!(out, "    b{b} [label=\"{}\"{style}];", dot_escape(&label));
        }
        let _ = writeln!(out, "  }}");
    }
    for (b, v) in edges.iter().enumerate() {
        for &(t, kind) in v {
            let attrs = if back.contains(&(b, t)) {
                format!(
                    "label=\"{} (back-edge)\", color=red, style=bold",
                    edge_label(kind)
                )
            } else {
                format!("label=\"{}\"", edge_label(kind))
            };
            let _ = writeln!(out, "  b{b} -> b{t} [{attrs}];");
        }
    }
    for (b, bb) in info.blocks.iter().enumerate() {
        if let Some(c) = bb.callee
            && let Some(e) = info.blocks.iter().position(|x| x.subprog == c)
        {
            let _ = writeln!(
                out,
                "  b{b} -> b{e} [label=\"call\", style=dotted, constraint=false];"
            );
        }
        if let Some(t) = bb.out_of_range {
            let _ = writeln!(
                out,
                "  oor{b} [label=\"out of range: {t}\", shape=plaintext, fontcolor=red];"
            );
            let _ = writeln!(out, "  b{b} -> oor{b} [color=red];");
        }
    }
    if let Some(e) = &info.error {
        let _ = writeln!(
            out,
            "  error [label=\"error: {}\", shape=plaintext, fontcolor=red];",
            dot_escape(&e.message)
        );
    }
    let _ = writeln!(out, "}}");
    out
}
