//! Which helpers each program type may call, against the recorded kernel:
//! `corpus/tools/probe_helpers.py` loaded `call <id>; r0 = 0; exit` for
//! every program type and helper on Linux 6.18 and recorded whether the
//! verifier refused the helper ("program of this type cannot use helper").
//! bpfproof must refuse exactly those: offering one the kernel refuses
//! would accept what the kernel rejects.

use bpfproof_analyzer::engine::{CheckOptions, check_program};
use bpfproof_corpus::build::raw::{RawTest, load_raw_test};
use std::path::Path;

/// Helpers newer kernels offer with protos that 6.12 (our generated
/// tables) does not have, so bpfproof still refuses them — a false reject,
/// never a false accept: `bpf_get_cgroup_classid` (17) and
/// `bpf_get_netns_cookie` (122) from 6.16's `bpf_base_func_proto`, and
/// `bpf_skb_pull_data` (39) for lwt_seg6local.
const KNOWN_REFUSED: &[u64] = &[17, 39, 122];

#[test]
fn helper_availability_matches_the_recorded_kernel() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("outcomes");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir).expect("corpus/outcomes") {
        let p = e.unwrap().path().join("helper_availability.json");
        if p.exists() {
            files.push(p);
        }
    }
    assert!(!files.is_empty(), "no helper_availability.json recorded");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for f in files {
        let rec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let max = rec["max_helper"].as_u64().unwrap();
        for (pt, v) in rec["prog_types"].as_object().unwrap() {
            let allowed: Vec<u64> = v["allowed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            let attach = v["expected_attach_type"].as_u64().unwrap();
            for h in 1..=max {
                let t: RawTest = serde_json::from_value(serde_json::json!({
                    "descr": format!("call helper {h}"),
                    "insns": [[0x85, 0, 0, 0, h], [0xb7, 0, 0, 0, 0], [0x95, 0, 0, 0, 0]],
                    "prog_type": pt.parse::<u32>().unwrap(),
                    "expected_attach_type": attach,
                    "result": "ACCEPT",
                    "result_unpriv": "UNDEF",
                }))
                .unwrap();
                let rp = load_raw_test(&t, "probe", None);
                let prog = &rp.object.programs[0];
                let o = check_program(&rp.object, prog, &CheckOptions::default());
                let msg = o.finding.map(|f| f.message).unwrap_or_default();
                let refused = msg.contains("cannot use helper") || msg.contains("invalid func");
                let kernel_refused = !allowed.contains(&h);
                checked += 1;
                if refused && !kernel_refused && KNOWN_REFUSED.contains(&h) {
                    // Conservative: a false reject, listed below.
                    continue;
                }
                if refused != kernel_refused {
                    wrong.push(format!(
                        "prog type {pt} helper {h}: kernel {} bpfproof {} ({msg})",
                        if kernel_refused { "refuses" } else { "offers" },
                        if refused { "refuses" } else { "offers" },
                    ));
                }
            }
        }
    }
    eprintln!(
        "{checked} (program type, helper) pairs checked, {} differ",
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
