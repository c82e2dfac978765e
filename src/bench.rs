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
    /// Wall time of one `bpfproof check` process over the corpus's
    /// objects (ms); `null` for a corpus without object files.
    pub check_wall_ms: Option<u64>,
    /// That process's peak resident memory (kB), sampled from
    /// `/proc/PID/status` `VmHWM` while it runs (Linux).
    pub check_peak_rss_kb: Option<u64>,
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

/// `VmHWM` of process `pid`, in kB, while it runs.
fn peak_rss_kb_of(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The object files of corpus `name` (as `corpus run` finds them).
fn corpus_objects(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let d = match name {
        "programs" => dir.join("programs"),
        other => dir.join("build").join(other),
    };
    let mut v: Vec<std::path::PathBuf> = std::fs::read_dir(d)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs `bpfproof check` on `objects` as its own process: its wall time
/// (ms) and peak RSS (kB, the last `VmHWM` sampled every 5 ms).
fn time_check_process(objects: &[std::path::PathBuf]) -> Option<(u64, u64)> {
    if objects.is_empty() {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let start = std::time::Instant::now();
    let mut child = std::process::Command::new(exe)
        .arg("check")
        .arg("--format")
        .arg("json")
        .args(objects)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut peak = 0;
    loop {
        if let Some(kb) = peak_rss_kb_of(child.id()) {
            peak = peak.max(kb);
        }
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(_) => return None,
        }
    }
    Some((start.elapsed().as_millis() as u64, peak))
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
        check_wall_ms: None,
        check_peak_rss_kb: None,
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
            Ok(Some((_, results))) => {
                let mut row = bench_row(name, &results);
                if let Some((ms, kb)) = time_check_process(&corpus_objects(dir, name)) {
                    row.check_wall_ms = Some(ms);
                    row.check_peak_rss_kb = Some(kb);
                }
                rows.push(row);
            }
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
        "{:>9} {:>8} {:>13} {:>11} {:>13} {:>11} {:>7} {:>13} {:>12} {:>10} {:>12}",
        "corpus",
        "programs",
        "bpfproof ms",
        "median µs",
        "kernel ms",
        "median µs",
        "ratio",
        "insns/s",
        "peak RSS MB",
        "check s",
        "check MB"
    );
    for r in &rows {
        println!(
            "{:>9} {:>8} {:>13.1} {:>11} {:>13.1} {:>11} {:>7.3} {:>13} {:>12.1} {:>10} {:>12}",
            r.name,
            r.programs,
            r.bpfproof_total_us as f64 / 1000.0,
            r.bpfproof_median_us,
            r.kernel_total_us as f64 / 1000.0,
            r.kernel_median_us,
            r.ratio,
            r.insns_processed_per_s,
            r.peak_rss_kb as f64 / 1024.0,
            r.check_wall_ms
                .map_or("-".to_string(), |ms| format!("{:.2}", ms as f64 / 1000.0)),
            r.check_peak_rss_kb
                .map_or("-".to_string(), |kb| format!("{:.1}", kb as f64 / 1024.0))
        );
    }
    0
}
