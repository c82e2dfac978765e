//! The engine against the kernel's recorded verdicts on the project's own
//! programs (`corpus/programs/expected.jsonl`, measured on Linux 6.18):
//! no false accept ever; where both reject, the same first error line;
//! the number of agreements only goes up (floor below).

use bpfproof_analyzer::engine::{CheckOptions, Verdict, check_program};
use bpfproof_analyzer::object::{LoadOptions, load_file};
use std::path::Path;

/// Programs whose verdict bpfproof must already predict exactly.
const AGREEMENT_FLOOR: usize = 61;

#[test]
fn own_programs_agree_with_the_kernel() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root");
    let text = std::fs::read_to_string(root.join("corpus/programs/expected.jsonl"))
        .expect("expected.jsonl");
    let (mut agree, mut unsupported, mut total) = (0, 0, 0);
    let mut report = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let rec: serde_json::Value = serde_json::from_str(line).expect("json line");
        let kernel = rec["kernel"].as_str().expect("kernel verdict");
        if kernel != "accept" && kernel != "reject" {
            continue;
        }
        let obj = load_file(
            &root
                .join("corpus/programs")
                .join(rec["object"].as_str().unwrap()),
            &LoadOptions::default(),
        )
        .expect("loads");
        let name = rec["program"].as_str().unwrap();
        let prog = obj
            .programs
            .iter()
            .find(|p| p.name == name)
            .expect("program present");
        let out = check_program(&obj, prog, &CheckOptions::default());
        total += 1;
        let ours = out.verdict;
        let msg = out
            .finding
            .as_ref()
            .map(|f| f.message.clone())
            .unwrap_or_default();
        report.push(format!(
            "{name}: kernel {kernel}, bpfproof {} {msg}",
            ours.as_str()
        ));
        match (kernel, ours) {
            ("reject", Verdict::Accept) => {
                panic!("FALSE ACCEPT of {name}: kernel said {}", rec["message"])
            }
            ("accept", Verdict::Accept) => agree += 1,
            ("reject", Verdict::Reject) => {
                let kmsg = rec["message"].as_str().unwrap_or_default();
                assert_eq!(msg, kmsg, "{name}: first error differs from the kernel's");
                agree += 1;
            }
            (_, Verdict::Unsupported) => unsupported += 1,
            ("accept", Verdict::Reject) => panic!("false reject of {name}: {msg}"),
            _ => panic!("{name}: unexpected verdict {}", ours.as_str()),
        }
    }
    eprintln!("{}", report.join("\n"));
    eprintln!("own programs: {agree}/{total} agree, {unsupported} unsupported");
    assert!(
        agree >= AGREEMENT_FLOOR,
        "agreement {agree} fell below the floor {AGREEMENT_FLOOR}"
    );
}
