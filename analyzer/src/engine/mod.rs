//! The verifier engine: the entry point that turns a loaded program into a
//! verdict, the way the kernel's `bpf_check` does.
//!
//! What is modelled today: nothing of `do_check` yet. Every program that
//! loads gets [`Verdict::Unsupported`] naming what is missing; the engine
//! never claims a verdict it has not derived. The exploration, state and
//! checks land here (see DESIGN.md, "Semantics: kernel-faithful first").

use crate::object::{Object, Program};
use std::time::Instant;

/// What the kernel would do with a program, as far as bpfproof can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The kernel would load it.
    Accept,
    /// The kernel would refuse it.
    Reject,
    /// bpfproof does not model something the program uses.
    Unsupported,
    /// The program could not be prepared (`BPF9xx`).
    Error,
}

impl Verdict {
    /// Lower-case name as in CLI.md.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject => "reject",
            Verdict::Unsupported => "unsupported",
            Verdict::Error => "error",
        }
    }
}

/// The first error (or the reason for `unsupported`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable diagnostic code.
    pub code: &'static str,
    /// The kernel's wording, or `unsupported: ...`.
    pub message: String,
    /// Instruction at fault, when there is one.
    pub insn: Option<usize>,
}

/// Counters named as the kernel names them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// `insns_processed`; `None` when the engine did not run.
    pub insns_processed: Option<u64>,
    /// `total_states`.
    pub total_states: Option<u64>,
    /// `peak_states`.
    pub peak_states: Option<u64>,
    /// Wall-clock analysis time.
    pub time_us: u64,
}

/// Options of one analysis.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Apply the unprivileged rules.
    pub unprivileged: bool,
}

/// The result of analysing one program.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Verdict.
    pub verdict: Verdict,
    /// First error, `None` when accepted.
    pub finding: Option<Finding>,
    /// Statistics.
    pub stats: Stats,
}

/// Analyses one program of an object (`bpf_check`).
pub fn check_program(_obj: &Object, prog: &Program, _opts: &CheckOptions) -> Outcome {
    let start = Instant::now();
    let (verdict, finding) = if let Some(e) = &prog.load_error {
        (
            Verdict::Error,
            Finding {
                code: e.code,
                message: e.message.clone(),
                insn: None,
            },
        )
    } else if prog.prog_type.is_none() {
        (
            Verdict::Error,
            Finding {
                code: "BPF912",
                message: format!(
                    "section '{}' does not name a program type; pass --type",
                    prog.section
                ),
                insn: None,
            },
        )
    } else {
        (
            Verdict::Unsupported,
            Finding {
                code: "BPF990",
                message: "unsupported: the verifier engine is not implemented yet; \
                          no verdict can be predicted"
                    .to_string(),
                insn: None,
            },
        )
    };
    Outcome {
        verdict,
        finding: Some(finding),
        stats: Stats {
            time_us: start.elapsed().as_micros() as u64,
            ..Stats::default()
        },
    }
}
