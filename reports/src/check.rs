//! `bpfproof check`: the report model of `check --format json` (CLI.md)
//! and its text rendering.

use crate::disasm::SourceEntry;
use serde::Serialize;

/// The verdict of one program.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The kernel would load it.
    Accept,
    /// The kernel would refuse it.
    Reject,
    /// bpfproof met something it does not model; never counted as accept.
    Unsupported,
    /// The program or object could not be loaded (`BPF9xx`).
    Error,
}

impl Verdict {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject => "reject",
            Verdict::Unsupported => "unsupported",
            Verdict::Error => "error",
        }
    }
}

/// The first error of a program.
#[derive(Serialize, Clone, Debug)]
pub struct ErrorDetail {
    /// Stable code.
    pub code: String,
    /// Kernel wording of the first error (or `unsupported: ...`).
    pub message: String,
    /// Instruction index, when one is at fault.
    pub insn: Option<usize>,
    /// C source location, when line info exists.
    pub source: Option<SourceEntry>,
    /// The instruction at fault in the kernel's syntax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disasm: Option<String>,
    /// Further lines the kernel prints with the error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<String>,
}

/// One step of the path to an error: a conditional jump and its outcome.
#[derive(Serialize, Clone, Debug)]
pub struct PathStep {
    /// The jump instruction.
    pub insn: usize,
    /// Whether the jump was taken.
    pub taken: bool,
    /// Its C source line, when line info exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Its C source file, when line info exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The text of that source line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One diagnostic (`diagnostics[]`): the error fields plus what explains it.
#[derive(Serialize, Clone, Debug)]
pub struct Diagnostic {
    /// `error` (the kernel's first error), `warning` or `note`.
    pub severity: &'static str,
    /// The error itself.
    #[serde(flatten)]
    pub detail: ErrorDetail,
    /// `note:` lines.
    pub notes: Vec<String>,
    /// The `help:` line, when there is a known fix.
    pub help: Option<String>,
    /// Registers and stack before the instruction, in the kernel's log syntax.
    pub state: Option<String>,
    /// The conditional jumps that led here, in order.
    pub path: Vec<PathStep>,
    /// The memory access that could not be proven (kind, pointer, offsets,
    /// size, bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obligation: Option<serde_json::Value>,
    /// A concrete input reaching the error (Z3), when found.
    pub counterexample: Option<String>,
    /// The proof layer's result on this error (`status`: `counterexample`,
    /// `imprecision`, `unknown`), absent when the error is not about a
    /// memory access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<serde_json::Value>,
    /// The failed access in words (`r1 = pkt + 12, checked range 0 bytes;
    /// the 2-byte read covers bytes 12..14`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

/// Per-program statistics, named as the kernel / veristat name them.
#[derive(Serialize, Clone, Debug, Default)]
pub struct Stats {
    /// Instructions in the program.
    pub insns: usize,
    /// Instructions processed (`insns_processed`), `null` when not analysed.
    pub insns_processed: Option<u64>,
    /// Total states.
    pub states: Option<u64>,
    /// Peak states.
    pub peak_states: Option<u64>,
    /// Analysis time in µs.
    pub time_us: u64,
}

/// One program's result.
#[derive(Serialize, Clone, Debug)]
pub struct CheckResult {
    /// Object path.
    pub object: String,
    /// Section (`null` when the object could not be read).
    pub section: Option<String>,
    /// Program (`null` when the object could not be read).
    pub program: Option<String>,
    /// Program type.
    pub prog_type: Option<String>,
    /// Verdict.
    pub verdict: Verdict,
    /// First error, `null` when accepted.
    pub error: Option<ErrorDetail>,
    /// Every diagnostic, the first error included.
    pub diagnostics: Vec<Diagnostic>,
    /// Statistics.
    pub stats: Stats,
    /// `check --prove`: the ctx and packet obligations of an accepted
    /// program checked by Z3 (`proved`, `refuted`, `unknown`, `time_us`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prove: Option<serde_json::Value>,
}

/// The `check --format json` document.
#[derive(Serialize, Debug)]
pub struct CheckReport {
    /// bpfproof version.
    pub bpfproof: &'static str,
    /// Target kernel series.
    pub kernel: &'static str,
    /// Results in command-line order.
    pub results: Vec<CheckResult>,
}

impl CheckReport {
    /// An empty report.
    pub fn new() -> Self {
        CheckReport {
            bpfproof: crate::VERSION,
            kernel: crate::KERNEL,
            results: Vec::new(),
        }
    }

    /// Exit code per CLI.md: 2 input error, 1 reject, 3 unsupported, 0 all accepted.
    pub fn exit_code(&self) -> i32 {
        let has = |v| self.results.iter().any(|r| r.verdict == v);
        if has(Verdict::Error) {
            2
        } else if has(Verdict::Reject) {
            1
        } else if has(Verdict::Unsupported) {
            3
        } else {
            0
        }
    }
}

impl Default for CheckReport {
    fn default() -> Self {
        Self::new()
    }
}

/// Text rendering without colour (see [`crate::check_text`]).
pub fn render_text(r: &CheckReport) -> String {
    crate::check_text::render(r, false)
}
