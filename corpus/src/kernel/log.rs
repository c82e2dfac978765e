//! Reading the kernel verifier's log: the first error line and the
//! statistics lines.

/// Statistics from the log's summary lines (`processed N insns (limit
/// 1000000) max_states_per_insn M total_states T peak_states P mark_read R`
/// and, with `BPF_LOG_STATS`, `verification time N usec`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Processed instructions.
    pub insns_processed: Option<u64>,
    /// `max_states_per_insn`.
    pub max_states_per_insn: Option<u64>,
    /// `total_states`.
    pub total_states: Option<u64>,
    /// `peak_states`.
    pub peak_states: Option<u64>,
    /// `mark_read`.
    pub mark_read: Option<u64>,
    /// Verification time in microseconds.
    pub verification_time_us: Option<u64>,
}

fn num_after(line: &str, key: &str) -> Option<u64> {
    let rest = line.split(key).nth(1)?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// Parses the statistics lines (the last occurrence of each wins).
pub fn parse_stats(log: &str) -> LogStats {
    let mut s = LogStats::default();
    for line in log.lines() {
        if line.starts_with("processed ") && line.contains(" insns (limit ") {
            s.insns_processed = num_after(line, "processed ");
            s.max_states_per_insn = num_after(line, "max_states_per_insn ");
            s.total_states = num_after(line, "total_states ");
            s.peak_states = num_after(line, "peak_states ");
            s.mark_read = num_after(line, "mark_read ");
        } else if line.starts_with("verification time ") && line.ends_with(" usec") {
            s.verification_time_us = num_after(line, "verification time ");
        }
    }
    s
}

/// True for a line that is part of the instruction trace (or the
/// verifier's running commentary) rather than the error text.
fn is_trace(line: &str) -> bool {
    let t = line;
    if t.trim().is_empty() {
        return true;
    }
    const PREFIXES: &[&str] = &[
        "; ",
        "from ",
        "Func#",
        "func#",
        "Validating ",
        "Live regs",
        "mark_precise",
        "Global function ",
        "caller:",
        "callee:",
        "returning from",
        "last_idx",
        "arg#",
        "regs=",
        "parent ",
        "verification time ",
        "stack depth ",
    ];
    if PREFIXES.iter().any(|p| t.starts_with(p)) {
        return true;
    }
    // "frame1: R1=..." (but not "frame pointer is read only").
    if t.strip_prefix("frame")
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        return true;
    }
    // "12: (bf) r1 = r2", "12: R1=..." : an instruction index and a colon.
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && t[digits..].starts_with(": ")
}

/// The kernel's first error line: the first line of the block that
/// follows the instruction trace and precedes the `processed N insns`
/// summary (the way `corpus/programs/measure.py` and the reference
/// recording derive it). `None` when the log has no such block.
pub fn first_error(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.starts_with("processed ") && l.contains(" insns "))
        .unwrap_or(lines.len());
    // Skip the BPF_LOG_STATS lines printed just before the summary.
    let mut end = end;
    while end > 0
        && (lines[end - 1].starts_with("verification time ")
            || lines[end - 1].starts_with("stack depth "))
    {
        end -= 1;
    }
    let mut i = end;
    while i > 0 && !is_trace(lines[i - 1]) {
        i -= 1;
    }
    (i < end).then(|| lines[i].trim().to_string())
}

/// The last `n` lines of a log.
pub fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let from = lines.len().saturating_sub(n);
    let mut s = lines[from..].join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const REJECT: &str = "0: R1=ctx() R10=fp0\n\
; int x = 0; @ t.c:3\n\
0: (61) r0 = *(u32 *)(r1 +256)\n\
invalid bpf_context access off=256 size=4\n\
verification time 12 usec\n\
stack depth 0\n\
processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";

    #[test]
    fn first_error_of_reject() {
        assert_eq!(
            first_error(REJECT).as_deref(),
            Some("invalid bpf_context access off=256 size=4")
        );
        let s = parse_stats(REJECT);
        assert_eq!(s.insns_processed, Some(1));
        assert_eq!(s.verification_time_us, Some(12));
        assert_eq!(s.total_states, Some(0));
    }

    #[test]
    fn multi_line_error_block_gives_its_first_line() {
        let log = "5: (85) call bpf_map_lookup_elem#1\n\
R1 type=ctx expected=fp, pkt\n\
more text\n\
processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1\n";
        assert_eq!(
            first_error(log).as_deref(),
            Some("R1 type=ctx expected=fp, pkt")
        );
    }

    #[test]
    fn accepted_log_has_no_error() {
        let log = "verification time 3 usec\nstack depth 0\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
        assert_eq!(first_error(log), None);
        assert_eq!(parse_stats(log).insns_processed, Some(2));
    }

    #[test]
    fn frame_pointer_message_is_not_trace() {
        let log = "0: (bf) r10 = r1\nframe pointer is read only\nverification time 21 usec\nstack depth 0\nprocessed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
        assert_eq!(
            first_error(log).as_deref(),
            Some("frame pointer is read only")
        );
    }

    #[test]
    fn too_large() {
        let log = "BPF program is too large. Processed 1000001 insn\n\
processed 1000001 insns (limit 1000000) max_states_per_insn 4 total_states 100 peak_states 90 mark_read 3\n";
        assert_eq!(
            first_error(log).as_deref(),
            Some("BPF program is too large. Processed 1000001 insn")
        );
    }
}
