//! `bpfproof disasm`: instructions in the kernel's syntax, with the C source
//! interleaved from `line_info` the way `bpftool prog dump xlated linum` does.

use bpfproof_analyzer::isa::print_bpf_insn;
use bpfproof_analyzer::object::{Object, Program};
use serde::Serialize;
use std::fmt::Write;

pub use bpfproof_analyzer::isa::ObjectNames;

/// One disassembled instruction (`disasm --format json`).
#[derive(Serialize)]
pub struct InsnEntry {
    /// Instruction index.
    pub insn: usize,
    /// Raw 8 bytes as hex (16 for ld_imm64).
    pub bytes: String,
    /// Kernel-syntax text.
    pub text: String,
    /// Source line, when line_info covers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceEntry>,
}

/// A C source location.
#[derive(Serialize, Clone, Debug)]
pub struct SourceEntry {
    /// File.
    pub file: String,
    /// Line.
    pub line: u32,
    /// Column.
    pub column: u32,
    /// Text.
    pub text: String,
}

/// A program's disassembly (`disasm --format json`).
#[derive(Serialize)]
pub struct ProgramDisasm {
    /// Object path.
    pub object: String,
    /// Program name.
    pub program: String,
    /// Section.
    pub section: String,
    /// Instructions.
    pub insns: Vec<InsnEntry>,
}

/// Disassembles a program into entries (the second slot of ld_imm64 is folded in).
pub fn disasm_program(path: &str, obj: &Object, prog: &Program) -> ProgramDisasm {
    let ctx = ObjectNames { obj, prog };
    let mut insns = Vec::new();
    let mut i = 0;
    let mut last_line: Option<usize> = None;
    while i < prog.insns.len() {
        let slots = if prog.insns[i].is_ldimm64() { 2 } else { 1 };
        let bytes: String = prog.insns[i..(i + slots).min(prog.insns.len())]
            .iter()
            .flat_map(|r| r.to_bytes())
            .map(|b| format!("{b:02x}"))
            .collect();
        let source = prog
            .line_info
            .iter()
            .position(|l| l.insn == i)
            .and_then(|k| {
                if last_line == Some(k) {
                    return None;
                }
                last_line = Some(k);
                let l = &prog.line_info[k];
                Some(SourceEntry {
                    file: l.file.clone(),
                    line: l.line,
                    column: l.col,
                    text: l.text.clone(),
                })
            });
        insns.push(InsnEntry {
            insn: i,
            bytes,
            text: print_bpf_insn(&ctx, &prog.insns, i),
            source,
        });
        i += slots;
    }
    ProgramDisasm {
        object: path.to_string(),
        program: prog.name.clone(),
        section: prog.section.clone(),
        insns,
    }
}

/// Renders a program's disassembly as text; `source` interleaves C lines.
pub fn render_text(d: &ProgramDisasm, prog: &Program, source: bool) -> String {
    let mut out = String::new();
    let ty = prog.prog_type.map_or("unknown type", |t| t.name());
    let _ = writeln!(
        out,
        "{}: {} (section {}, {}):",
        d.object, d.program, d.section, ty
    );
    for e in &d.insns {
        if let Some(s) = prog.subprogs.iter().skip(1).find(|s| s.start == e.insn) {
            let _ = writeln!(out, "{}:", s.name);
        }
        if source && let Some(src) = &e.source {
            let _ = writeln!(
                out,
                "; {} [file:{} line_num:{} line_col:{}]",
                src.text.trim(),
                src.file,
                src.line,
                src.column
            );
        }
        let _ = writeln!(out, "{:>4}: {}", e.insn, e.text);
    }
    out
}
