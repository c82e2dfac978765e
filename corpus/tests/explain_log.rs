//! `explain --log` against the real kernel logs recorded in
//! `corpus/outcomes/`: the error line is found and mapped to a code for at
//! least 95 % of the rejected programs; and the engine's codes agree with
//! the message table that `explain --log` uses.

use bpfproof_analyzer::diag::kernel_log::{code_for_message, find_error};
use bpfproof_corpus::kernel::KernelVerdict;
use bpfproof_corpus::record::{CORPORA, read};
use bpfproof_corpus::score::{recording_path, run_corpus};
use std::path::Path;

/// The share of recorded kernel logs of rejected programs whose error
/// `explain --log` finds and maps to a code. Only ever raise it.
const MAPPED_FLOOR: f64 = 0.99;

#[test]
fn recorded_kernel_logs_map_to_codes() {
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut total, mut mapped, mut same_line) = (0usize, 0usize, 0usize);
    let mut unmapped = Vec::new();
    for name in CORPORA {
        let Some(path) = recording_path(corpus_dir, name) else {
            continue;
        };
        let rec = read(&path).expect("recording");
        for r in rec
            .records
            .iter()
            .filter(|r| r.verdict == KernelVerdict::Reject)
        {
            let Some(log) = r.log.as_deref().filter(|l| !l.trim().is_empty()) else {
                continue;
            };
            total += 1;
            match find_error(log) {
                Some(e) if e.code.is_some() => {
                    mapped += 1;
                    if r.first_error.as_deref() == Some(e.message.as_str()) {
                        same_line += 1;
                    } else if std::env::var_os("EXPLAIN_LOG_DEBUG").is_some() {
                        eprintln!("  differs: {:?} vs {:?}", r.first_error, e.message);
                    }
                }
                other => unmapped.push(format!(
                    "{name} {} {}: {:?}",
                    r.object,
                    r.program,
                    other.map(|e| e.message)
                )),
            }
        }
    }
    assert!(total > 0, "no recorded logs");
    let rate = mapped as f64 / total as f64;
    eprintln!(
        "explain --log: {mapped}/{total} recorded logs mapped to a code ({:.1} %), \
         error line equal to the recorded first error in {same_line}",
        rate * 100.0
    );
    for u in &unmapped {
        eprintln!("  unmapped: {u}");
    }
    assert!(rate >= MAPPED_FLOOR, "only {mapped}/{total} logs mapped");
}

/// Messages whose code depends on context the message does not carry
/// (the engine knows the call site): `R1 type=ptr_or_null_ ...` is a
/// helper argument (BPF405) except for global-function arguments (BPF407).
const CONTEXT_DEPENDENT: &[&str] = &[
    "type=ptr_or_null_ expected=",
    "type=map_value expected=ptr_",
    "expected=ptr_, trusted_ptr_, rcu_ptr_",
];

#[test]
fn engine_codes_agree_with_the_message_table() {
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut bad = Vec::new();
    for name in CORPORA {
        let Some((_, results)) = run_corpus(corpus_dir, name, &mut |_, _| {}).expect("corpus run")
        else {
            eprintln!("SKIPPED: corpus {name} is not built");
            continue;
        };
        for r in results.iter().filter(|r| r.bpfproof == "reject") {
            let (Some(msg), Some(code)) =
                (r.bpfproof_message.as_deref(), r.bpfproof_code.as_deref())
            else {
                continue;
            };
            checked += 1;
            if CONTEXT_DEPENDENT.iter().any(|c| msg.contains(c)) {
                continue;
            }
            let table = code_for_message(msg);
            if table != Some(code) {
                bad.push(format!(
                    "{name} {} {}: {code} vs table {table:?}: {msg}",
                    r.object, r.program
                ));
            }
        }
    }
    eprintln!("{checked} rejections checked");
    assert!(checked > 0);
    assert!(
        bad.is_empty(),
        "engine code differs from the table:\n{}",
        bad.join("\n")
    );
}
