//! `bpfproof bench`: bpfproof's in-process analysis time over a corpus next
//! to the kernel's recorded verification time of the same programs.

use bpfproof_corpus::score::{ProgramResult, run_corpus};
use serde::Serialize;
use std::path::Path;

/// One corpus's row (`bench --format json`, `corpora`).
#[derive(Serialize, Debug, Default, Clone)]
pub struct BenchRow {
    /// Corpus name.
    pub name: String,
    /// Programs the kernel verified (accept or reject) with a recorded time.
    pub programs: usize,
    /// bpfproof's summed analysis time (µs).
    pub bpfproof_total_us: u64,
    /// Median per program (µs).
    pub bpfproof_median_us: u64,
    /// The kernel's summed verification time (µs).
    pub kernel_total_us: u64,
    /// Median per program (µs).
    pub kernel_median_us: u64,
    /// bpfproof total / kernel total.
    pub ratio: f64,
    /// Instructions bpfproof processed per second of its analysis time.
    pub insns_processed_per_s: u64,
    /// Peak resident memory of this process after the corpus (kB).
    pub peak_rss_kb: u64,
}

fn median(mut v: Vec<u64>) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

/// `VmHWM` of this process, in kB (Linux; 0 elsewhere).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The row for one corpus's results.
pub fn bench_row(name: &str, results: &[ProgramResult]) -> BenchRow {
    let measured: Vec<&ProgramResult> = results
        .iter()
        .filter(|r| matches!(r.kernel.as_str(), "accept" | "reject") && r.kernel_time_us.is_some())
        .collect();
    let ours: Vec<u64> = measured.iter().map(|r| r.bpfproof_time_us).collect();
    let theirs: Vec<u64> = measured.iter().filter_map(|r| r.kernel_time_us).collect();
    let total = ours.iter().sum::<u64>();
    let ktotal = theirs.iter().sum::<u64>();
    // Instructions per second over the programs whose count is known
    // (those that did not end as unsupported).
    let (insns, insns_time) = measured
        .iter()
        .filter_map(|r| r.bpfproof_insns_processed.map(|n| (n, r.bpfproof_time_us)))
        .fold((0u64, 0u64), |(a, b), (n, t)| (a + n, b + t));
    BenchRow {
        name: name.to_string(),
        programs: measured.len(),
        bpfproof_total_us: total,
        bpfproof_median_us: median(ours),
        kernel_total_us: ktotal,
        kernel_median_us: median(theirs),
        ratio: if ktotal == 0 {
            0.0
        } else {
            (total as f64 / ktotal as f64 * 1000.0).round() / 1000.0
        },
        insns_processed_per_s: (insns * 1_000_000).checked_div(insns_time).unwrap_or(0),
        peak_rss_kb: peak_rss_kb(),
    }
}

/// Runs the benchmark; exit code 2 on bad usage.
pub fn cmd_bench(corpora: &[String], dir: &Path, json: bool) -> i32 {
    let Some(names) = crate::corpus_run::selected_corpora(corpora) else {
        return 2;
    };
    let mut rows = Vec::new();
    for name in &names {
        match run_corpus(dir, name, &mut |_, _| {}) {
            Ok(Some((_, results))) => rows.push(bench_row(name, &results)),
            Ok(None) => eprintln!("{name}: SKIPPED (no recording, or not built)"),
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return 2;
            }
        }
    }
    if json {
        let doc = serde_json::json!({ "corpora": rows });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
        return 0;
    }
    println!(
        "{:>9} {:>8} {:>13} {:>11} {:>13} {:>11} {:>7} {:>13} {:>12}",
        "corpus",
        "programs",
        "bpfproof ms",
        "median µs",
        "kernel ms",
        "median µs",
        "ratio",
        "insns/s",
        "peak RSS MB"
    );
    for r in &rows {
        println!(
            "{:>9} {:>8} {:>13.1} {:>11} {:>13.1} {:>11} {:>7.3} {:>13} {:>12.1}",
            r.name,
            r.programs,
            r.bpfproof_total_us as f64 / 1000.0,
            r.bpfproof_median_us,
            r.kernel_total_us as f64 / 1000.0,
            r.kernel_median_us,
            r.ratio,
            r.insns_processed_per_s,
            r.peak_rss_kb as f64 / 1024.0
        );
    }
    0
}
