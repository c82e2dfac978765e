//! `bpfproof cfg`: the CFG of committed programs as text and DOT, with
//! insta snapshots of the DOT (a loop, a subprogram call, unreachable code).

use bpfproof_analyzer::cfg::{CfgOptions, analyze};
use bpfproof_analyzer::isa::RawInsn;
use bpfproof_analyzer::object::{LoadOptions, Object, Program, load_file};
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

fn load(name: &str) -> Object {
    let path = root().join("corpus/programs").join(name);
    load_file(&path, &LoadOptions::default()).expect("load")
}

fn dot(obj: &Object, prog: &Program) -> String {
    let info = analyze(prog, &CfgOptions::default());
    bpfproof_reports::cfg::render_dot(obj, prog, &info)
}

#[test]
fn dot_of_bounded_loop() {
    let obj = load("bounded_loop.bpf.o");
    let d = dot(&obj, &obj.programs[0]);
    assert!(d.contains("(back-edge)\", color=red"));
    insta::assert_snapshot!(d);
}

#[test]
fn dot_of_subprogram_calls() {
    let obj = load("subprogs.bpf.o");
    let d = dot(&obj, &obj.programs[0]);
    assert!(d.contains("label=\"call\", style=dotted"));
    assert!(d.contains("subgraph cluster_2"));
    insta::assert_snapshot!(d);
}

#[test]
fn dot_of_unreachable_code() {
    let obj = load("bad_infinite_loop.bpf.o");
    let mut prog = obj.programs[0].clone();
    let exit = RawInsn::new(0x95, 0, 0, 0, 0);
    prog.insns = vec![
        RawInsn::new(0xb7, 0, 0, 0, 2),
        exit,
        RawInsn::new(0xb7, 0, 0, 0, 1),
        exit,
    ];
    prog.line_info.clear();
    prog.subprogs.truncate(1);
    let d = dot(&obj, &prog);
    assert!(d.contains("(unreachable)"));
    assert!(d.contains("error: unreachable insn 2"));
    insta::assert_snapshot!(d);
}

#[test]
fn cfg_text_names_the_loop_line() {
    let o = bpfproof(&[
        "cfg",
        "corpus/programs/bounded_loop.bpf.o",
        "-p",
        "xdp_ipv6_exthdr",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = stdout(&o);
    assert!(
        s.contains("loop at line 20 (bounded_loop.bpf.c) (header B3, depth 1)"),
        "{s}"
    );
    assert!(s.contains("B3 (taken, back-edge)"), "{s}");
    assert!(s.trim_end().ends_with("cfg ok"), "{s}");
}

#[test]
fn cfg_dot_and_unprivileged_exit_codes() {
    let o = bpfproof(&["cfg", "corpus/programs/subprogs.bpf.o", "--dot"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("digraph \"tc_subprogs\" {"));
    let o = bpfproof(&["cfg", "corpus/programs/subprogs.bpf.o", "--unprivileged"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains(
        "error: loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN"
    ));
    let o = bpfproof(&["cfg", "corpus/programs/subprogs.bpf.o", "-p", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}
