//! `bpfproof check` with the proof layer: the counterexample of a rejected
//! program in text and JSON, and `--prove` on accepted ones.

use std::path::Path;
use std::process::{Command, Output};

fn bpfproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfproof"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .output()
        .expect("run bpfproof")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).expect("JSON")
}

#[test]
fn rejected_packet_access_has_a_counterexample() {
    let o = bpfproof(&[
        "check",
        "--format",
        "json",
        "corpus/programs/bad_pkt_bounds.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let d = &v["results"][0]["diagnostics"][0];
    let c = d["counterexample"].as_str().expect("counterexample");
    assert!(c.starts_with("with a 13-byte packet"), "{c}");
    assert!(
        c.contains("reaches bytes 12..14 of the packet, past data_end (13)"),
        "{c}"
    );
    assert_eq!(d["proof"]["status"], "counterexample");
    assert_eq!(d["proof"]["inputs"][0][0], "packet length");
    assert!(d["proof"]["time_us"].as_u64().is_some());
    assert!(
        v["results"][0].get("prove").is_none(),
        "no prove without --prove"
    );

    let o = bpfproof(&["check", "corpus/programs/bad_pkt_bounds.bpf.o"]);
    let text = String::from_utf8(o.stdout).expect("utf-8");
    assert!(
        text.contains("= note: counterexample: with a 13-byte packet"),
        "{text}"
    );
}

#[test]
fn non_memory_errors_have_no_proof() {
    let o = bpfproof(&[
        "check",
        "--format",
        "json",
        "corpus/programs/bad_infinite_loop.bpf.o",
    ]);
    let v = json(&o);
    let d = &v["results"][0]["diagnostics"][0];
    assert!(d.get("proof").is_none());
    assert!(d["counterexample"].is_null());
}

#[test]
fn prove_discharges_packet_obligations_of_accepted_programs() {
    let o = bpfproof(&[
        "check",
        "--prove",
        "--format",
        "json",
        "corpus/programs/xdp_lb.bpf.o",
        "corpus/programs/tc_classifier.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    for r in v["results"].as_array().expect("results") {
        assert_eq!(r["verdict"], "accept");
        assert!(r["prove"]["proved"].as_u64().unwrap_or(0) > 0, "{r}");
        assert_eq!(r["prove"]["refuted"].as_array().map(Vec::len), Some(0));
    }
    let o = bpfproof(&["check", "--prove", "corpus/programs/xdp_lb.bpf.o"]);
    let text = String::from_utf8(o.stdout).expect("utf-8");
    assert!(
        text.contains("ctx/packet obligations proved by Z3, 0 refuted"),
        "{text}"
    );
}
