//! End-to-end tests of the `bpfproof` binary: exit codes, JSON shapes
//! (CLI.md), and snapshots of what users see.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

#[test]
fn list_json_follows_the_contract() {
    let o = bpfproof(&["list", "--format", "json", "corpus/programs/xdp_fw.bpf.o"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let obj = &v["objects"][0];
    assert_eq!(obj["object"], "corpus/programs/xdp_fw.bpf.o");
    assert_eq!(obj["license"], "GPL");
    let p = &obj["programs"][0];
    assert_eq!(p["name"], "xdp_fw");
    assert_eq!(p["section"], "xdp");
    assert_eq!(p["prog_type"], "xdp");
    assert!(p["insns"].as_u64().unwrap() > 50);
    assert!(p["subprograms"].is_array());
    let maps = obj["maps"].as_array().expect("maps");
    let m = maps
        .iter()
        .find(|m| m["name"] == "blocked_v4")
        .expect("blocked_v4");
    assert_eq!(m["type"], "hash");
    assert_eq!(m["key_size"], 4);
    assert_eq!(m["max_entries"], 4096);
}

#[test]
fn unreadable_objects_are_reported_and_the_rest_still_processed() {
    let bad = std::env::temp_dir().join("bpfproof-cli-test-garbage.o");
    std::fs::write(&bad, b"\x7fELF garbage").expect("write");
    let bad = bad.to_str().expect("utf-8 path");
    let o = bpfproof(&[
        "list",
        "--format",
        "json",
        bad,
        "corpus/programs/socket_filter.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["objects"][0]["error"]["code"], "BPF902");
    assert!(
        v["objects"][0]["programs"]
            .as_array()
            .expect("array")
            .is_empty()
    );
    assert_eq!(v["objects"][1]["programs"][0]["name"], "socket_filter");

    let o = bpfproof(&["list", "does/not/exist.o"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("BPF901"));
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(bpfproof(&["list"]).status.code(), Some(2));
    assert_eq!(bpfproof(&["frobnicate"]).status.code(), Some(2));
    let o = bpfproof(&[
        "list",
        "--type",
        "no_such_type",
        "corpus/programs/xdp_fw.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = bpfproof(&["disasm", "-p", "nope", "corpus/programs/xdp_fw.bpf.o"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(bpfproof(&["--help"]).status.code(), Some(0));
}

#[test]
fn disasm_with_source_snapshot() {
    let o = bpfproof(&["disasm", "--source", "corpus/programs/bad_pkt_bounds.bpf.o"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn disasm_names_maps_helpers_and_subprograms() {
    let o = bpfproof(&["disasm", "corpus/programs/subprogs.bpf.o"]);
    let s = stdout(&o);
    assert!(s.contains("r1 = map[ttl_hist]"), "{s}");
    assert!(s.contains("call bpf_map_lookup_elem#1"), "{s}");
    assert!(s.contains("ttl_bucket:"), "{s}");
    let o = bpfproof(&["disasm", "corpus/programs/kfunc_task.bpf.o"]);
    assert!(
        stdout(&o).contains("call bpf_task_from_pid#"),
        "{}",
        stdout(&o)
    );
    let o = bpfproof(&[
        "disasm",
        "--format",
        "json",
        "-p",
        "xdp_*",
        "corpus/programs/global_config.bpf.o",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let insns = v["programs"][0]["insns"].as_array().expect("insns");
    assert!(
        insns
            .iter()
            .any(|i| i["text"].as_str().unwrap().contains("map[.rodata][0]+"))
    );
}

#[test]
fn check_json_and_exit_codes() {
    let o = bpfproof(&[
        "check",
        "--format",
        "json",
        "corpus/programs/bad_ctx_access.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(1), "a rejection exits 1");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let r = &v["results"][0];
    assert_eq!(r["verdict"], "reject");
    assert_eq!(
        r["error"]["message"],
        "invalid bpf_context access off=256 size=4"
    );
    assert_eq!(r["error"]["code"], "BPF304");
    assert_eq!(r["error"]["insn"], 1);
    assert_eq!(r["error"]["source"]["line"], 13);
    assert!(r["stats"]["insns_processed"].as_u64().unwrap() > 0);

    // Unsupported: exit 3, never accepted.
    let o = bpfproof(&[
        "check",
        "--format",
        "json",
        // Past the time limit the verdict is unsupported (a 1 ms limit on a
        // program that explores a million instructions).
        "--timeout",
        "0.001",
        "corpus/programs/bad_unbounded_loop.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(3), "unsupported must never exit 0");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["kernel"], "6.18");
    let r = &v["results"][0];
    assert_eq!(r["verdict"], "unsupported");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("unsupported:")
    );
    assert_eq!(r["program"], "sum_unbounded");

    // An accepted program exits 0.
    let o = bpfproof(&["check", "corpus/programs/xdp_fw.bpf.o"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("xdp_fw (xdp): accept"));
}

#[test]
fn check_log_level_writes_a_kernel_style_log() {
    let dir = std::env::temp_dir().join(format!("bpfproof-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let log = dir.join("verifier.log");
    let o = bpfproof(&[
        "check",
        "--log-level",
        "1",
        "--log",
        log.to_str().expect("utf-8"),
        "corpus/programs/bad_pkt_bounds.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = std::fs::read_to_string(&log).expect("log written");
    // The same lines as the kernel's own log for this program (6.12 adds
    // the `_w` liveness suffix).
    for want in [
        "0: R1=ctx() R10=fp0",
        "; void *data = (void *)(long)ctx->data; @ bad_pkt_bounds.bpf.c:14",
        "0: (61) r1 = *(u32 *)(r1 +0)          ; R1_w=pkt(r=0)",
        "1: (69) r1 = *(u16 *)(r1 +12)",
        "invalid access to packet, off=12 size=2, R1(id=0,off=12,r=0)",
        "processed 2 insns (limit 1000000)",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(want)),
            "missing {want:?} in\n{text}"
        );
    }
    // Level 1 keeps only the last path; level 2 has every instruction.
    let lines = |level: &str| {
        let o = bpfproof(&[
            "check",
            "--log-level",
            level,
            "--log",
            log.to_str().expect("utf-8"),
            "corpus/programs/tc_classifier.bpf.o",
        ]);
        assert_eq!(o.status.code(), Some(0));
        std::fs::read_to_string(&log).expect("log").lines().count()
    };
    let (l1, l2) = (lines("1"), lines("2"));
    assert!(
        l1 < l2,
        "level 1 ({l1} lines) should be shorter than level 2 ({l2})"
    );
    assert!(
        std::fs::read_to_string(&log)
            .expect("log")
            .contains("\nfrom ")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_json_diagnostic_carries_state_path_and_obligation() {
    let o = bpfproof(&[
        "check",
        "--format",
        "json",
        "corpus/programs/bad_pkt_bounds.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let d = &v["results"][0]["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "BPF301");
    assert_eq!(d["state"], "R1_w=pkt(r=0) R10=fp0");
    assert!(d["path"].as_array().expect("path").is_empty());
    let ob = &d["obligation"];
    assert_eq!(ob["kind"], "read");
    assert_eq!(ob["base"], "pkt");
    assert_eq!(ob["fixed_off"], 12);
    assert_eq!(ob["size"], 2);
    assert_eq!(ob["bound"]["kind"], "packet");
    assert_eq!(ob["bound"]["range"], 0);

    // A rejection behind branches lists them in order, with source lines.
    let o = bpfproof(&[
        "check",
        "--format",
        "json",
        "corpus/programs/bad_unreleased_sk.bpf.o",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let path = v["results"][0]["diagnostics"][0]["path"]
        .as_array()
        .expect("path")
        .clone();
    assert!(!path.is_empty());
    let insns: Vec<u64> = path.iter().map(|s| s["insn"].as_u64().unwrap()).collect();
    assert!(insns.windows(2).all(|w| w[0] < w[1]), "{insns:?}");
}

#[test]
fn bench_prints_times_beside_the_kernel() {
    let o = bpfproof(&["bench", "--corpus", "programs", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let row = &v["corpora"][0];
    assert_eq!(row["name"], "programs");
    assert!(row["programs"].as_u64().unwrap() >= 29);
    assert!(row["kernel_total_us"].as_u64().unwrap() > 0);
    assert!(row["bpfproof_total_us"].as_u64().unwrap() > 0);
    assert!(row["ratio"].as_f64().unwrap() > 0.0);
    // One `bpfproof check` process over the corpus's objects, timed.
    assert!(row["check_wall_ms"].as_u64().unwrap() > 0, "{row}");
    assert!(row["check_peak_rss_kb"].as_u64().unwrap() > 0, "{row}");
    let o = bpfproof(&["bench", "--corpus", "nonesuch"]);
    assert_eq!(o.status.code(), Some(2));
}
