//! Every diagnostic code has a fixture that triggers it (rustc's error
//! index rule), and a snapshot of exactly what `bpfproof check` prints for
//! it. The fixtures are the small programs of `corpus/programs/` (compiled
//! and committed) and the crafted inputs of `corpus/programs/bad_input/`.
//! Regenerate the snapshots with `INSTA_UPDATE=always` (or `cargo insta`).

use bpfproof_analyzer::diag::codes::CODES;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn bpfproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfproof"))
        .args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .output()
        .expect("run bpfproof")
}

/// The fixture of each code: the arguments after `check`.
const FIXTURES: &[(&str, &[&str])] = &[
    ("BPF101", &["corpus/programs/bad_div_zero.bpf.o"]),
    ("BPF102", &["corpus/programs/bad_dead_code.bpf.o"]),
    ("BPF201", &["corpus/programs/bad_uninit_reg.bpf.o"]),
    ("BPF202", &["corpus/programs/bad_fp_write.bpf.o"]),
    ("BPF203", &["corpus/programs/bad_ptr_arith.bpf.o"]),
    ("BPF205", &["corpus/programs/bad_ret_range.bpf.o"]),
    ("BPF301", &["corpus/programs/bad_pkt_bounds.bpf.o"]),
    ("BPF302", &["corpus/programs/bad_map_oob.bpf.o"]),
    ("BPF303", &["corpus/programs/bad_stack_oob.bpf.o"]),
    ("BPF304", &["corpus/programs/bad_ctx_access.bpf.o"]),
    ("BPF305", &["corpus/programs/bad_null_map_value.bpf.o"]),
    ("BPF306", &["corpus/programs/bad_key_write.bpf.o"]),
    ("BPF307", &["corpus/programs/bad_ringbuf_oob.bpf.o"]),
    ("BPF308", &["corpus/programs/bad_map_ptr_write.bpf.o"]),
    ("BPF401", &["corpus/programs/bad_unknown_helper.bpf.o"]),
    ("BPF402", &["corpus/programs/bad_helper_type.bpf.o"]),
    ("BPF403", &["corpus/programs/bad_gpl.bpf.o"]),
    ("BPF404", &["corpus/programs/bad_sleep_helper.bpf.o"]),
    ("BPF405", &["corpus/programs/bad_syscall_ctx_helper.bpf.o"]),
    ("BPF406", &["corpus/programs/bad_map_helper.bpf.o"]),
    ("BPF407", &["corpus/programs/bad_call_depth.bpf.o"]),
    ("BPF501", &["corpus/programs/bad_ringbuf_leak.bpf.o"]),
    ("BPF502", &["corpus/programs/bad_release.bpf.o"]),
    ("BPF503", &["corpus/programs/bad_spin_lock_call.bpf.o"]),
    ("BPF601", &["corpus/programs/bad_unbounded_loop.bpf.o"]),
    ("BPF602", &["corpus/programs/bad_jump_seq.bpf.o"]),
    ("BPF603", &["corpus/programs/bad_infinite_loop.bpf.o"]),
    ("BPF604", &["corpus/programs/bad_stack_depth.bpf.o"]),
    ("BPF901", &["corpus/programs/bad_input/directory.bpf.o"]),
    ("BPF902", &["corpus/programs/bad_input/truncated.bpf.o"]),
    ("BPF903", &["corpus/programs/bad_input/not_bpf.bpf.o"]),
    ("BPF904", &["corpus/programs/bad_input/bad_code_size.bpf.o"]),
    ("BPF905", &["corpus/programs/bad_input/bad_reloc.bpf.o"]),
    ("BPF906", &["corpus/programs/bad_input/bad_btf.bpf.o"]),
    ("BPF907", &["corpus/programs/bad_input/bad_btf_ext.bpf.o"]),
    ("BPF908", &["corpus/programs/bad_input/bad_map_def.bpf.o"]),
    (
        "BPF909",
        &["corpus/programs/bad_input/unresolved_extern.bpf.o"],
    ),
    ("BPF910", &["corpus/programs/bad_input/bad_core_relo.bpf.o"]),
    (
        "BPF911",
        &["-p", "no_such_program", "corpus/programs/xdp_fw.bpf.o"],
    ),
    (
        "BPF912",
        &["corpus/programs/bad_input/unknown_section.bpf.o"],
    ),
    (
        "BPF913",
        &[
            "--btf",
            "corpus/programs/bad_input/not_btf.btf",
            "corpus/programs/xdp_fw.bpf.o",
        ],
    ),
    (
        "BPF990",
        &[
            "--timeout",
            "0.001",
            "corpus/programs/bad_unbounded_loop.bpf.o",
        ],
    ),
];

/// Codes that nothing emits today, why, and the fixture that will trigger
/// them once it does (it gives BPF990 now; the test fails when that
/// changes, so the code moves to [`FIXTURES`]).
const NOT_EMITTED_YET: &[(&str, &str, &[&str])] = &[
    (
        "BPF204",
        "pointer comparisons are refused only by the unprivileged rules, not modelled yet",
        &["--unprivileged", "corpus/programs/bad_ptr_cmp.bpf.o"],
    ),
    (
        "BPF206",
        "pointer leaks are refused only by the unprivileged rules, not modelled yet",
        &["--unprivileged", "corpus/programs/bad_ptr_leak.bpf.o"],
    ),
];

/// The code bpfproof reports for a fixture (JSON `error.code`, or the
/// `error[BPF9xx]` line of a usage error).
fn code_of(args: &[&str]) -> String {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let o = bpfproof(&all);
    let out = String::from_utf8_lossy(&o.stdout);
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&out) {
        return v["results"][0]["error"]["code"]
            .as_str()
            .unwrap_or("none")
            .to_string();
    }
    let err = String::from_utf8_lossy(&o.stderr);
    err.split("error[")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or("none")
        .to_string()
}

#[test]
fn every_code_has_a_fixture_or_a_reason() {
    for c in CODES {
        let listed = FIXTURES.iter().any(|(code, _)| *code == c.code)
            || NOT_EMITTED_YET.iter().any(|(code, _, _)| *code == c.code);
        assert!(listed, "{} has no fixture", c.code);
    }
}

#[test]
fn every_fixture_triggers_its_code() {
    let mut wrong = Vec::new();
    for (code, args) in FIXTURES {
        let got = code_of(args);
        if got != *code {
            wrong.push(format!("{code}: {args:?} gives {got}"));
        }
    }
    for (code, why, args) in NOT_EMITTED_YET {
        let got = code_of(args);
        if got != "BPF990" {
            wrong.push(format!(
                "{code} ({why}): {args:?} now gives {got}; move it to FIXTURES"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn fixture_snapshots() {
    for (code, args) in FIXTURES {
        let mut all = vec!["check", "--color", "never"];
        all.extend_from_slice(args);
        let o = bpfproof(&all);
        let text = format!(
            "$ bpfproof {}\nexit code: {:?}\n--- stdout\n{}--- stderr\n{}",
            all.join(" "),
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        insta::assert_snapshot!(format!("check_{code}"), text);
    }
}

#[test]
fn explain_prints_the_page_of_every_code() {
    for c in CODES {
        let o = bpfproof(&["explain", c.code, "--color", "never"]);
        assert_eq!(o.status.code(), Some(0), "{}", c.code);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.starts_with(&format!("# {}: {}", c.code, c.name)),
            "{text}"
        );
        assert!(text.contains("## Fixed version"));
    }
    let o = bpfproof(&["explain", "--list"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.lines().count(), CODES.len());
    assert_eq!(bpfproof(&["explain", "BPF000"]).status.code(), Some(2));
}

#[test]
fn explain_log_maps_a_recorded_kernel_log_and_reanalyses() {
    // The kernel's own log of bad_pkt_bounds, as libbpf prints it.
    let dir = std::env::temp_dir().join(format!("bpfproof-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let log = dir.join("verifier.log");
    std::fs::write(
        &log,
        "libbpf: prog 'xdp_no_bounds': BPF program load failed: Permission denied\n\
         libbpf: prog 'xdp_no_bounds': -- BEGIN PROG LOAD LOG --\n\
         0: R1=ctx() R10=fp0\n\
         ; void *data = (void *)(long)ctx->data; @ bad_pkt_bounds.bpf.c:14\n\
         0: (61) r1 = *(u32 *)(r1 +0)          ; R1_w=pkt(r=0)\n\
         ; if (eth->h_proto != bpf_htons(ETH_P_IP)) @ bad_pkt_bounds.bpf.c:18\n\
         1: (69) r1 = *(u16 *)(r1 +12)\n\
         invalid access to packet, off=12 size=2, R1(id=0,off=12,r=0)\n\
         R1 offset is outside of the packet\n\
         processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n\
         -- END PROG LOAD LOG --\n",
    )
    .expect("write log");
    let l = log.to_str().expect("utf-8");
    let o = bpfproof(&["explain", "--log", l, "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("error[BPF301]: invalid access to packet"),
        "{text}"
    );
    assert!(
        text.contains("the last instruction the log shows is insn 1"),
        "{text}"
    );
    assert!(text.contains("help: "), "{text}");
    let o = bpfproof(&[
        "explain",
        "--log",
        l,
        "--object",
        "corpus/programs/bad_pkt_bounds.bpf.o",
        "--color",
        "never",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("bpfproof finds the same error"), "{text}");
    assert!(
        text.contains("--> corpus/programs/bad_pkt_bounds.bpf.c:18:11"),
        "{text}"
    );
    // A log without an error (an accepted program) exits 0.
    std::fs::write(
        &log,
        "0: R1=ctx() R10=fp0\n0: (b7) r0 = 0\n1: (95) exit\nprocessed 2 insns\n",
    )
    .expect("write");
    assert_eq!(bpfproof(&["explain", "--log", l]).status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn color_always_styles_the_output() {
    let o = bpfproof(&[
        "check",
        "--color",
        "always",
        "corpus/programs/bad_pkt_bounds.bpf.o",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("\x1b["));
    let o = bpfproof(&[
        "check",
        "--color",
        "never",
        "corpus/programs/bad_pkt_bounds.bpf.o",
    ]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("\x1b["));
}

#[test]
fn further_errors_come_after_the_kernels_first() {
    let o = bpfproof(&[
        "check",
        "--format",
        "json",
        "corpus/programs/bad_two_errors.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let r = &v["results"][0];
    // The verdict and the first error are the kernel's.
    assert_eq!(r["error"]["code"], "BPF301");
    let d = r["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d[0]["code"], "BPF301");
    assert_eq!(d[1]["code"], "BPF305");
    assert!(
        d[1]["notes"][0]
            .as_str()
            .expect("note")
            .starts_with("further error 1 of 1")
    );
    assert_eq!(d[1]["path"][0]["taken"], true);
    let o = bpfproof(&[
        "check",
        "--color",
        "never",
        "corpus/programs/bad_two_errors.bpf.o",
    ]);
    insta::assert_snapshot!("check_several_errors", String::from_utf8_lossy(&o.stdout));
}
