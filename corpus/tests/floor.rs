//! The agreement floor: bpfproof against the recorded kernel verdicts of
//! every corpus that is built, failing on any false accept or when the
//! agreement falls below `corpus/floor.json`. Corpora that are not built
//! are skipped visibly (`bpfproof corpus build` builds them).

use bpfproof_corpus::record::CORPORA;
use bpfproof_corpus::score::run_corpus;
use std::path::Path;

#[test]
fn agreement_never_falls_below_the_floor() {
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let floor: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir.join("floor.json")).expect("floor.json"),
    )
    .expect("floor.json is JSON");
    let mut ran = 0;
    for name in CORPORA {
        let Some((summary, results)) =
            run_corpus(corpus_dir, name, &mut |_, _| {}).expect("corpus run")
        else {
            eprintln!("SKIPPED: corpus {name} is not built (run `bpfproof corpus build`)");
            continue;
        };
        ran += 1;
        eprintln!(
            "{name}: {} programs, {} agree, {} false accepts, {} false rejects, {} unsupported, {} errors, {} not run, msg {}/{}",
            summary.programs,
            summary.agree,
            summary.false_accepts,
            summary.false_rejects,
            summary.unsupported,
            summary.errors,
            summary.not_run,
            summary.msg_match,
            summary.msg_expected
        );
        let fa: Vec<_> = results
            .iter()
            .filter(|r| r.bpfproof == "accept" && r.kernel == "reject")
            .map(|r| {
                format!(
                    "{} {}: kernel says {:?}",
                    r.object, r.program, r.kernel_message
                )
            })
            .collect();
        assert!(fa.is_empty(), "FALSE ACCEPTS in {name}:\n{}", fa.join("\n"));
        let min = floor[name].as_u64().unwrap_or(0) as usize;
        assert!(
            summary.agree >= min,
            "{name}: agreement {} fell below the floor {min}",
            summary.agree
        );
    }
    assert!(ran >= 1, "the committed `programs` corpus must always run");
}
