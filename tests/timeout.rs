//! `check --timeout`: a wall-clock limit per program ends the analysis with
//! `unsupported: timeout after N s` (exit code 3) instead of running on.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn bpfproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfproof"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run bpfproof")
}

/// The largest scale program of the compiled selftests corpus, if built.
fn large_program() -> Option<&'static str> {
    let p = "corpus/build/scale/pyperf600.bpf.o";
    if root().join(p).exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: {p} is not built (bpfproof corpus build)");
        None
    }
}

#[test]
fn a_tiny_timeout_makes_a_large_program_unsupported() {
    let Some(obj) = large_program() else { return };
    let start = Instant::now();
    let o = bpfproof(&["check", "--timeout", "0.001", "--format", "json", obj]);
    let elapsed = start.elapsed();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let results = doc["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        assert_eq!(r["verdict"], "unsupported", "{r}");
        assert_eq!(r["error"]["code"], "BPF990");
        assert_eq!(r["error"]["message"], "unsupported: timeout after 0.001 s");
    }
    // Every program stops soon after its limit (generous for a loaded machine).
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

#[test]
fn a_generous_timeout_changes_nothing() {
    let obj = "corpus/programs/xdp_fw.bpf.o";
    let plain = bpfproof(&["check", "--format", "json", obj]);
    let timed = bpfproof(&["check", "--timeout", "600", "--format", "json", obj]);
    assert_eq!(plain.status.code(), Some(0));
    assert_eq!(timed.status.code(), Some(0));
    let verdicts = |o: &Output| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        doc["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["verdict"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(verdicts(&plain), verdicts(&timed));
    assert!(verdicts(&timed).iter().all(|v| v == "accept"));
}

#[test]
fn a_timeout_must_be_a_positive_number() {
    for bad in ["0", "-1", "soon", "nan"] {
        let o = bpfproof(&["check", "--timeout", bad, "corpus/programs/xdp_fw.bpf.o"]);
        assert_eq!(o.status.code(), Some(2), "--timeout {bad}");
    }
}
