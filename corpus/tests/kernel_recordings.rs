//! The committed live-kernel recordings agree with independent
//! measurements: our own programs with `corpus/programs/expected.jsonl`
//! (measured with bpftool), the selftests with the reference CSV recorded
//! independently on the same kernel. No kernel needed: these read files.

use bpfproof_corpus::build::raw::RawResult;
use bpfproof_corpus::kernel::KernelVerdict;
use bpfproof_corpus::record::{self, Record};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The newest recording of `corpus`, if any.
fn recording(corpus: &str) -> Option<(PathBuf, record::Recording)> {
    record::recorded_releases(&corpus_dir())
        .into_iter()
        .rev()
        .map(|d| d.join(format!("{corpus}.jsonl")))
        .find(|p| p.is_file())
        .map(|p| {
            let r = record::read(&p).unwrap_or_else(|e| panic!("{e}"));
            (p, r)
        })
}

#[test]
fn own_programs_recording_agrees_with_expected_jsonl() {
    let Some((path, rec)) = recording("programs") else {
        panic!(
            "no recording of the programs corpus under corpus/outcomes/ (run `bpfproof corpus record --corpus programs` as root)"
        );
    };
    assert_eq!(rec.header.corpus, "programs");
    let expected_text = std::fs::read_to_string(corpus_dir().join("programs/expected.jsonl"))
        .expect("expected.jsonl");
    let ours: HashMap<(&str, &str), &Record> = rec
        .records
        .iter()
        .map(|r| ((r.object.as_str(), r.program.as_str()), r))
        .collect();
    let mut problems = Vec::new();
    let mut n = 0;
    for line in expected_text.lines().filter(|l| !l.trim().is_empty()) {
        let e: serde_json::Value = serde_json::from_str(line).expect("expected.jsonl line");
        let obj = e["object"].as_str().unwrap_or_default();
        let prog = e["program"].as_str().unwrap_or_default();
        let verdict = e["kernel"].as_str().unwrap_or_default();
        let msg = e["message"].as_str();
        n += 1;
        let Some(r) = ours.get(&(obj, prog)) else {
            problems.push(format!("{obj} {prog}: not in {}", path.display()));
            continue;
        };
        if r.verdict.as_str() != verdict {
            problems.push(format!(
                "{obj} {prog}: expected {verdict}, recorded {}",
                r.verdict.as_str()
            ));
        }
        if verdict == "reject" && msg != r.first_error.as_deref() {
            problems.push(format!(
                "{obj} {prog}: expected first error {msg:?}, recorded {:?}",
                r.first_error
            ));
        }
    }
    assert_eq!(
        n,
        rec.records.len(),
        "recording and expected.jsonl list different programs"
    );
    assert!(
        problems.is_empty(),
        "disagreements:\n{}",
        problems.join("\n")
    );
}

#[test]
fn selftests_recording_agrees_with_reference_csv() {
    let Some((path, rec)) = recording("selftests") else {
        println!(
            "SKIPPED: no selftests recording under corpus/outcomes/ (build the corpus, then `bpfproof corpus record --corpus selftests` as root)"
        );
        return;
    };
    let Some(csv) = record::reference_csv_path(&corpus_dir()) else {
        println!(
            "SKIPPED: reference CSV ../shared/reference/kernel-6.18-selftests.csv not present"
        );
        return;
    };
    let rows = record::read_csv(&csv).unwrap_or_else(|e| panic!("{e}"));
    let ours: HashMap<(&str, &str), &Record> = rec
        .records
        .iter()
        .filter(|r| !r.unpriv)
        .map(|r| ((r.object.as_str(), r.program.as_str()), r))
        .collect();
    let (mut both, mut same, mut msg_same, mut only_ref) = (0usize, 0usize, 0usize, 0usize);
    let mut diffs = Vec::new();
    for row in &rows {
        let get = |k: &str| row.get(k).map(String::as_str).unwrap_or("");
        let (c_obj, c_fn, c_kv, c_err) = ("object", "function", "kernel_verifier", "first_error");
        let theirs = match get(c_kv) {
            "accepted" => KernelVerdict::Accept,
            "rejected" => KernelVerdict::Reject,
            _ => KernelVerdict::NotRun,
        };
        let Some(r) = ours.get(&(get(c_obj), get(c_fn))) else {
            only_ref += 1;
            continue;
        };
        if theirs == KernelVerdict::NotRun || r.verdict == KernelVerdict::NotRun {
            if theirs != r.verdict {
                diffs.push(format!(
                    "{} {}: reference {}, ours {} ({})",
                    get(c_obj),
                    get(c_fn),
                    theirs.as_str(),
                    r.verdict.as_str(),
                    r.first_error.as_deref().unwrap_or("")
                ));
            }
            continue;
        }
        both += 1;
        if theirs == r.verdict {
            same += 1;
            if theirs == KernelVerdict::Reject && r.first_error.as_deref() == Some(get(c_err)) {
                msg_same += 1;
            }
        } else {
            diffs.push(format!(
                "{} {}: reference {} {:?}, ours {} {:?}",
                get(c_obj),
                get(c_fn),
                theirs.as_str(),
                get(c_err),
                r.verdict.as_str(),
                r.first_error.as_deref().unwrap_or("")
            ));
        }
    }
    println!(
        "{}: {both} programs measured by both, verdict equal for {same} ({:.2} %), first error equal for {msg_same} rejects; {only_ref} reference rows not in our recording",
        path.display(),
        100.0 * same as f64 / both.max(1) as f64
    );
    for d in &diffs {
        println!("  difference: {d}");
    }
    assert!(both > 0, "no program measured by both");
    assert!(
        same * 100 >= both * 99,
        "verdict agreement below 99 %: {same}/{both}"
    );
}

#[test]
fn raw_recording_agrees_with_test_verifier_expectations() {
    let Some((path, rec)) = recording("raw") else {
        println!("SKIPPED: no raw recording under corpus/outcomes/");
        return;
    };
    let dir = corpus_dir().join("build/raw");
    let Ok(files) = bpfproof_corpus::build::raw::read_raw_dir(&dir) else {
        println!("SKIPPED: raw tests not built (corpus/build/raw; run `bpfproof corpus build`)");
        return;
    };
    let ours: HashMap<&str, &Record> = rec
        .records
        .iter()
        .map(|r| (r.program.as_str(), r))
        .collect();
    let (mut both, mut same) = (0usize, 0usize);
    let mut diffs = Vec::new();
    for f in &files {
        for t in &f.tests {
            let id = format!("{}/{}", f.stem(), t.index);
            let Some(r) = ours.get(id.as_str()) else {
                continue;
            };
            let Some(e) = t.expect(false) else { continue };
            let expected = match e.result {
                RawResult::Accept | RawResult::VerboseAccept => KernelVerdict::Accept,
                RawResult::Reject => KernelVerdict::Reject,
                _ => continue,
            };
            if r.verdict == KernelVerdict::NotRun {
                continue;
            }
            both += 1;
            if r.verdict == expected {
                same += 1;
            } else {
                diffs.push(format!(
                    "{id}: expected {}, kernel {} ({})",
                    expected.as_str(),
                    r.verdict.as_str(),
                    r.first_error.as_deref().unwrap_or("")
                ));
            }
        }
    }
    println!(
        "{}: {both} raw tests run, kernel verdict equal to test_verifier's expectation for {same}",
        path.display()
    );
    for d in &diffs {
        println!("  difference: {d}");
    }
    assert!(
        same * 100 >= both * 99,
        "raw agreement below 99 %: {same}/{both}"
    );
}
