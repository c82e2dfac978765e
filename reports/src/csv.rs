//! `check --format csv` and `check --format veristat`: veristat's CSV.
//!
//! `veristat -o csv` of Linux 6.12 (`tools/testing/selftests/bpf/veristat.c`,
//! `default_csv_output_spec` and `stat_defs[]`) prints the columns
//! [`VERISTAT_COLUMNS`], the verdict as `success`/`failure`, the duration in
//! µs and `total_insns` = processed instructions. `veristat -C A.csv B.csv`
//! compares two such files, but refuses a column it does not know
//! (`parse_stat`) and files whose columns differ, so:
//! - `--format veristat` writes exactly veristat's columns: the file to give
//!   `veristat -C` next to the kernel's;
//! - `--format csv` (CLI.md) appends our columns [`EXTRA_COLUMNS`].
//!
//! Counters bpfproof does not measure (`max_states_per_insn`,
//! `max_mark_read_len`) are written as 0, which is what veristat itself
//! writes when the log did not give them (its stats start zeroed).

use crate::check::{CheckReport, CheckResult, Verdict};
use std::path::Path;

/// veristat's CSV columns (Linux 6.12), in order.
pub const VERISTAT_COLUMNS: [&str; 9] = [
    "file_name",
    "prog_name",
    "verdict",
    "duration",
    "total_insns",
    "total_states",
    "peak_states",
    "max_states_per_insn",
    "max_mark_read_len",
];

/// The columns `--format csv` adds after veristat's.
pub const EXTRA_COLUMNS: [&str; 3] = ["prog_type", "error_code", "error_message"];

/// One row of veristat's CSV.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VeristatRow {
    /// Object file name without directory (veristat uses the basename).
    pub file_name: String,
    /// Program name.
    pub prog_name: String,
    /// Loaded (`success`) or not (`failure`).
    pub success: bool,
    /// Verification time in µs.
    pub duration_us: u64,
    /// Processed instructions.
    pub total_insns: u64,
    /// `total_states`.
    pub total_states: u64,
    /// `peak_states`.
    pub peak_states: u64,
    /// `max_states_per_insn`.
    pub max_states_per_insn: u64,
    /// `mark_read` (`max_mark_read_len`).
    pub max_mark_read_len: u64,
}

impl VeristatRow {
    /// The row of one program's result; `None` for results veristat has no
    /// row for: an unreadable object (no program) and `unsupported` or
    /// `error` verdicts (no prediction; `veristat -C` shows them as `N/A`).
    pub fn from_result(r: &CheckResult) -> Option<VeristatRow> {
        let prog = r.program.as_ref()?;
        let success = match r.verdict {
            Verdict::Accept => true,
            Verdict::Reject => false,
            Verdict::Unsupported | Verdict::Error => return None,
        };
        Some(Self::row(r, prog, success))
    }

    fn row(r: &CheckResult, prog: &str, success: bool) -> VeristatRow {
        VeristatRow {
            file_name: basename(&r.object),
            prog_name: prog.to_string(),
            success,
            duration_us: r.stats.time_us,
            total_insns: r.stats.insns_processed.unwrap_or(0),
            total_states: r.stats.states.unwrap_or(0),
            peak_states: r.stats.peak_states.unwrap_or(0),
            max_states_per_insn: 0,
            max_mark_read_len: 0,
        }
    }

    fn cells(&self) -> [String; 9] {
        [
            self.file_name.clone(),
            self.prog_name.clone(),
            if self.success { "success" } else { "failure" }.to_string(),
            self.duration_us.to_string(),
            self.total_insns.to_string(),
            self.total_states.to_string(),
            self.peak_states.to_string(),
            self.max_states_per_insn.to_string(),
            self.max_mark_read_len.to_string(),
        ]
    }
}

/// The file name of a path, as veristat's `basename()`.
pub fn basename(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}

/// One CSV field, quoted as RFC 4180 says when it holds a comma, a quote
/// or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn line(cells: impl IntoIterator<Item = String>) -> String {
    cells
        .into_iter()
        .map(|c| field(&c))
        .collect::<Vec<_>>()
        .join(",")
        + "\n"
}

/// veristat's CSV of some rows (`--format veristat`).
pub fn render_veristat_rows(rows: &[VeristatRow]) -> String {
    let mut out = VERISTAT_COLUMNS.join(",") + "\n";
    for r in rows {
        out += &line(r.cells());
    }
    out
}

/// `check --format veristat`: veristat's columns only.
pub fn render_veristat(report: &CheckReport) -> String {
    let rows: Vec<VeristatRow> = report
        .results
        .iter()
        .filter_map(VeristatRow::from_result)
        .collect();
    render_veristat_rows(&rows)
}

/// `check --format csv` (CLI.md): veristat's columns, then ours; one row
/// per result, unsupported and error results included (verdict `failure`,
/// the code says why).
pub fn render_csv(report: &CheckReport) -> String {
    let mut out = VERISTAT_COLUMNS
        .iter()
        .chain(EXTRA_COLUMNS.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for r in &report.results {
        let row = VeristatRow::row(
            r,
            r.program.as_deref().unwrap_or(""),
            r.verdict == Verdict::Accept,
        );
        let (code, message) = match &r.error {
            Some(e) => (e.code.clone(), e.message.clone()),
            None => (String::new(), String::new()),
        };
        out += &line(row.cells().into_iter().chain([
            r.prog_type.clone().unwrap_or_default(),
            code,
            message,
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_and_quotes_are_quoted() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(
            field("invalid access to packet, off=34"),
            "\"invalid access to packet, off=34\""
        );
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn basename_drops_directories() {
        assert_eq!(basename("corpus/programs/xdp_fw.bpf.o"), "xdp_fw.bpf.o");
        assert_eq!(basename("xdp_fw.bpf.o"), "xdp_fw.bpf.o");
    }
}
