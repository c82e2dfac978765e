//! bpfproof-reports: one report model (serde) and its renderers. The JSON
//! shapes follow `CLI.md` (the command-line contract).
#![forbid(unsafe_code)]

pub mod cfg;
pub mod check;
pub mod check_text;
pub mod corpus_report;
pub mod csv;
pub mod disasm;
pub mod list;
pub mod sarif;

/// The bpfproof version written into reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The kernel series whose verifier bpfproof predicts.
pub const KERNEL: &str = "6.18";
