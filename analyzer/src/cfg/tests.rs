//! Unit tests: the structural rejections of the kernel selftests
//! (`verifier/{basic,calls,jump,ld_imm64}.c`, `progs/verifier_cfg.c`),
//! transcribed by hand, plus marks, blocks, loops and liveness.

use super::*;
use crate::isa::raw::*;

fn alu64_imm(op: u8, dst: u8, imm: i32) -> RawInsn {
    RawInsn::new(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm)
}
fn alu64_reg(op: u8, dst: u8, src: u8) -> RawInsn {
    RawInsn::new(BPF_ALU64 | op | BPF_X, dst, src, 0, 0)
}
fn mov_imm(dst: u8, imm: i32) -> RawInsn {
    alu64_imm(BPF_MOV, dst, imm)
}
fn mov_reg(dst: u8, src: u8) -> RawInsn {
    alu64_reg(BPF_MOV, dst, src)
}
fn exit() -> RawInsn {
    RawInsn::new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
}
fn ja(off: i16) -> RawInsn {
    RawInsn::new(BPF_JMP | BPF_JA, 0, 0, off, 0)
}
fn jmp_imm(op: u8, dst: u8, imm: i32, off: i16) -> RawInsn {
    RawInsn::new(BPF_JMP | op | BPF_K, dst, 0, off, imm)
}
fn call_local(imm: i32) -> RawInsn {
    RawInsn::new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, imm)
}
fn call_helper(id: i32) -> RawInsn {
    RawInsn::new(BPF_JMP | BPF_CALL, 0, 0, 0, id)
}
fn call_kfunc(id: i32) -> RawInsn {
    RawInsn::new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, id)
}
fn may_goto(off: i16) -> RawInsn {
    RawInsn::new(BPF_JMP | BPF_JCOND, 0, 0, off, 0)
}
fn ld_imm64(dst: u8, pseudo: u8, imm: i32) -> [RawInsn; 2] {
    [
        RawInsn::new(BPF_LD | BPF_IMM | BPF_DW, dst, pseudo, 0, imm),
        RawInsn::new(0, 0, 0, 0, 0),
    ]
}
fn ldx(size: u8, dst: u8, src: u8, off: i16) -> RawInsn {
    RawInsn::new(BPF_LDX | BPF_MEM | size, dst, src, off, 0)
}
fn stx(size: u8, dst: u8, src: u8, off: i16) -> RawInsn {
    RawInsn::new(BPF_STX | BPF_MEM | size, dst, src, off, 0)
}

fn no_names(_: usize) -> Option<String> {
    None
}

fn run(insns: &[RawInsn], priv_: bool) -> CfgInfo {
    let opts = CfgOptions {
        bpf_capable: priv_,
        ..CfgOptions::default()
    };
    analyze_insns(insns, &no_names, &no_names, &opts)
}

fn err(insns: &[RawInsn], priv_: bool) -> Option<String> {
    run(insns, priv_).error.map(|e| e.message)
}

#[track_caller]
fn rejects(insns: &[RawInsn], priv_msg: Option<&str>, unpriv_msg: Option<&str>) {
    assert_eq!(err(insns, true).as_deref(), priv_msg, "privileged");
    assert_eq!(err(insns, false).as_deref(), unpriv_msg, "unprivileged");
}

fn cat(parts: &[&[RawInsn]]) -> Vec<RawInsn> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

// ---- progs/verifier_cfg.c ----

#[test]
fn cfg_unreachable() {
    let p = [exit(), exit()];
    rejects(&p, Some("unreachable insn 1"), Some("unreachable insn 1"));
}

#[test]
fn cfg_unreachable2() {
    let p = [ja(1), ja(0), exit()];
    rejects(&p, Some("unreachable insn 1"), Some("unreachable insn 1"));
}

#[test]
fn cfg_out_of_range_jump() {
    let p = [ja(1), exit()];
    let m = "jump out of range from insn 0 to 2";
    rejects(&p, Some(m), Some(m));
}

#[test]
fn cfg_out_of_range_jump2() {
    let p = [ja(-2), exit()];
    let m = "jump out of range from insn 0 to -1";
    rejects(&p, Some(m), Some(m));
}

#[test]
fn cfg_loop_back_edge() {
    let p = [ja(-1), exit()];
    rejects(
        &p,
        Some("unreachable insn 1"),
        Some("back-edge from insn 0 to 0"),
    );
}

#[test]
fn cfg_loop2_back_edge() {
    let p = [mov_reg(1, 0), mov_reg(2, 0), mov_reg(3, 0), ja(-4), exit()];
    rejects(
        &p,
        Some("unreachable insn 4"),
        Some("back-edge from insn 3 to 0"),
    );
}

#[test]
fn cfg_conditional_loop() {
    // Privileged: accepted by check_cfg (the engine finds the infinite loop).
    let p = [
        mov_reg(0, 1),
        mov_reg(2, 0),
        mov_reg(3, 0),
        jmp_imm(BPF_JEQ, 1, 0, -3),
        exit(),
    ];
    rejects(&p, None, Some("back-edge from insn 3 to 1"));
}

#[test]
fn cfg_conditional_loop2_dfs_order() {
    // The kernel reports the edge 10 -> 11, not 12 -> 8: the walk order matters.
    let p = cat(&[
        &ld_imm64(9, 0, 2),
        &ld_imm64(3, 0, 0x20),
        &ld_imm64(4, 0, 0x35),
        &[
            mov_reg(8, 4),
            ja(3),
            alu64_reg(BPF_SUB, 9, 3),
            alu64_reg(BPF_SUB, 9, 4),
            alu64_reg(BPF_SUB, 9, 8),
            alu64_reg(BPF_ADD, 8, 4),
            jmp_imm(BPF_JLT, 8, 0x64, -5),
            mov_reg(0, 9),
            exit(),
        ],
    ]);
    rejects(&p, None, Some("back-edge from insn 10 to 11"));
    let info = run(&p, true);
    // By dominance the loop is rotated: header 11, back-edge 10 -> 11.
    assert_eq!(info.back_edges(), vec![(10, 11)]);
}

#[test]
fn cfg_uncond_loop_after_cond_jmp() {
    let p = [
        mov_imm(0, 0),
        jmp_imm(BPF_JGT, 0, 0, 2),
        mov_imm(0, 1),
        ja(-2),
        exit(),
    ];
    rejects(&p, None, Some("back-edge from insn 3 to 2"));
}

#[test]
fn cfg_loop_in_subprog_passes() {
    let p = [
        mov_imm(0, 0),
        jmp_imm(BPF_JGT, 0, 0, 2),
        alu64_imm(BPF_ADD, 0, 1),
        call_local(1),
        exit(),
        mov_reg(0, 1),
        ja(-1),
    ];
    let info = run(&p, true);
    assert_eq!(info.error, None);
    assert_eq!(info.subprogs.len(), 2);
    assert_eq!(info.back_edges(), vec![(6, 6)]);
}

// ---- verifier/basic.c, verifier/ld_imm64.c ----

#[test]
fn basic_empty_prog() {
    // test_verifier loads one all-zero instruction for the empty program.
    let p = [RawInsn::default()];
    let m = "last insn is not an exit or jmp";
    rejects(&p, Some(m), Some(m));
    let e = run(&[], true).error.expect("error");
    assert_eq!(e.kind, CfgErrorKind::Empty);
}

#[test]
fn ld_imm64_test1_and_2() {
    let mid = cat(&[
        &[jmp_imm(BPF_JEQ, 1, 0, 1)],
        &ld_imm64(0, 0, 0),
        &ld_imm64(0, 0, 0),
        &ld_imm64(0, 0, 1),
        &ld_imm64(0, 0, 1),
    ]);
    let m = "jump into the middle of ldimm64 insn 1";
    let p1 = cat(&[&mid, &[mov_imm(0, 2), exit()]]);
    rejects(&p1, Some(m), Some(m));
    let p2 = cat(&[&mid, &[exit()]]);
    rejects(&p2, Some(m), Some(m));
    assert_eq!(run(&p2, true).error.map(|e| e.insn), Some(1));
}

#[test]
fn bad_ld_imm64_shape_after_check_subprogs() {
    let p = [
        RawInsn::new(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 0),
        exit(),
        exit(),
    ];
    let m = "invalid bpf_ld_imm64 insn";
    rejects(&p, Some(m), Some(m));
    let p = [RawInsn::new(0xff, 0, 0, 0, 0), exit()];
    rejects(&p, Some("unknown opcode ff"), Some("unknown opcode ff"));
}

// ---- verifier/calls.c, verifier/jump.c ----

#[test]
fn calls_overlapping_caller_callee() {
    let p = [call_local(0), mov_imm(0, 1), exit()];
    rejects(
        &p,
        Some("last insn is not an exit or jmp"),
        Some(
            "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
        ),
    );
}

#[test]
fn calls_wrong_recursive_calls() {
    let p = [
        ja(4),
        ja(4),
        call_local(-2),
        call_local(-2),
        call_local(-2),
        mov_imm(0, 1),
        exit(),
    ];
    assert_eq!(
        err(&p, true).as_deref(),
        Some("jump out of range from insn 0 to 5")
    );
}

#[test]
fn calls_jump_back_loop_passes_cfg() {
    // Recursion is found later ("the call stack of 9 frames is too deep").
    let p = [call_local(-1), mov_imm(0, 1), exit()];
    assert_eq!(err(&p, true), None);
}

#[test]
fn calls_conditional_call() {
    let p = [
        ldx(BPF_W, 0, 1, 8),
        jmp_imm(BPF_JEQ, 0, 0, 3),
        call_local(2),
        mov_imm(0, 1),
        exit(),
        mov_imm(0, 2),
        exit(),
    ];
    assert_eq!(
        err(&p, true).as_deref(),
        Some("jump out of range from insn 1 to 5")
    );
    let ok = [
        ldx(BPF_W, 0, 1, 8),
        jmp_imm(BPF_JEQ, 0, 0, 3),
        call_local(4),
        mov_imm(0, 1),
        exit(),
        mov_imm(0, 2),
        exit(),
        mov_imm(0, 3),
        exit(),
    ];
    assert_eq!(err(&ok, true), None);
}

#[test]
fn calls_conditional_call3_back_edge_unpriv() {
    let p = [
        ldx(BPF_W, 0, 1, 8),
        jmp_imm(BPF_JEQ, 0, 0, 3),
        ja(4),
        mov_imm(0, 1),
        exit(),
        mov_imm(0, 1),
        ja(-6),
        mov_imm(0, 3),
        ja(-6),
    ];
    rejects(&p, None, Some("back-edge from insn 6 to 1"));
}

#[test]
fn calls_jump_test2() {
    let p = [
        mov_imm(0, 42),
        ja(2),
        mov_imm(0, 43),
        ja(1),
        call_local(-3),
        exit(),
    ];
    assert_eq!(
        err(&p, true).as_deref(),
        Some("jump out of range from insn 1 to 4")
    );
}

#[test]
fn calls_two_calls_with_bad_jump() {
    let p = [
        call_local(1),
        exit(),
        mov_reg(6, 1),
        call_local(6),
        mov_reg(7, 0),
        mov_reg(1, 6),
        call_local(3),
        alu64_reg(BPF_ADD, 7, 0),
        mov_reg(0, 7),
        exit(),
        ldx(BPF_W, 0, 1, 0),
        jmp_imm(BPF_JEQ, 0, 0, -3),
        exit(),
    ];
    assert_eq!(
        err(&p, true).as_deref(),
        Some("jump out of range from insn 11 to 9")
    );
}

#[test]
fn calls_unreachable_code() {
    let p = [
        call_local(1),
        exit(),
        call_local(1),
        exit(),
        mov_imm(0, 0),
        exit(),
        mov_imm(0, 0),
        exit(),
    ];
    assert_eq!(err(&p, true).as_deref(), Some("unreachable insn 6"));
}

#[test]
fn calls_invalid_call() {
    for imm in [-4, 0x7fff_ffff] {
        let p = [call_local(1), exit(), call_local(imm), exit()];
        let e = run(&p, true).error.expect("error");
        assert_eq!(e.message, "call to invalid destination");
        assert_eq!(e.insn, 2);
    }
}

#[test]
fn calls_jumping_across_function_bodies() {
    let p = [
        call_local(2),
        mov_imm(0, 0),
        exit(),
        jmp_imm(BPF_JEQ, 1, 0, -3),
        exit(),
    ];
    assert_eq!(
        err(&p, true).as_deref(),
        Some("jump out of range from insn 3 to 1")
    );
    let p = [
        jmp_imm(BPF_JEQ, 1, 0, 3),
        call_local(2),
        mov_imm(0, 0),
        exit(),
        exit(),
    ];
    assert_eq!(
        err(&p, true).as_deref(),
        Some("jump out of range from insn 0 to 4")
    );
}

#[test]
fn jump_call_test10_last_insn() {
    let mut p = vec![
        mov_imm(0, 1),
        call_local(2),
        mov_imm(0, 3),
        exit(),
        jmp_imm(BPF_JNE, 0, 2, 16),
    ];
    p.extend(std::iter::repeat_n(mov_imm(0, 42), 16));
    p.push(call_local(-20));
    p.push(exit());
    assert_eq!(
        err(&p, true).as_deref(),
        Some("last insn is not an exit or jmp")
    );
}

#[test]
fn too_many_subprograms() {
    let calls = 300;
    let mut p = Vec::new();
    for i in 0..calls {
        // target = calls + 1 + i
        p.push(call_local(calls + 1 + i - i - 1));
    }
    p.push(exit());
    for _ in 0..calls {
        p.push(exit());
    }
    let e = run(&p, true).error.expect("error");
    assert_eq!(e.message, "too many subprograms");
    assert_eq!(e.insn, 255);
}

#[test]
fn kfunc_and_callback_need_cap_bpf() {
    let m =
        "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN";
    let p = [call_kfunc(1234), exit()];
    rejects(&p, None, Some(m));
    let p = cat(&[
        &ld_imm64(2, BPF_PSEUDO_FUNC, 3),
        &[call_helper(181), exit(), exit()],
    ]);
    assert_eq!(err(&p, false).as_deref(), Some(m));
    assert_eq!(run(&p, false).error.map(|e| e.insn), Some(0));
}

#[test]
fn helper_calls_are_fine_unprivileged() {
    let p = [call_helper(1), exit()];
    rejects(&p, None, None);
}

#[test]
fn no_bounded_loops_profile() {
    let p = [
        mov_imm(0, 0),
        jmp_imm(BPF_JGT, 0, 0, 2),
        mov_imm(0, 1),
        ja(-2),
        exit(),
    ];
    let opts = CfgOptions {
        bounded_loops: false,
        ..CfgOptions::default()
    };
    let e = analyze_insns(&p, &no_names, &no_names, &opts).error;
    assert_eq!(e.map(|e| e.kind), Some(CfgErrorKind::BackEdge));
}

// ---- marks ----

#[test]
fn marks_conditional_and_ja() {
    let p = [
        mov_imm(0, 0),             // 0
        jmp_imm(BPF_JEQ, 1, 0, 2), // 1 -> 4
        mov_imm(0, 1),             // 2
        ja(1),                     // 3 -> 5
        mov_imm(0, 2),             // 4
        exit(),                    // 5
    ];
    let info = run(&p, true);
    assert_eq!(info.error, None);
    let pp: Vec<usize> = (0..p.len())
        .filter(|&i| info.flags_at(i).prune_point)
        .collect();
    assert_eq!(pp, vec![1, 4, 5]);
    let jp: Vec<usize> = (0..p.len())
        .filter(|&i| info.flags_at(i).jmp_point)
        .collect();
    assert_eq!(jp, vec![4, 5]);
    assert!(info.flags.iter().all(|f| f.explored && !f.force_checkpoint));
}

#[test]
fn marks_calls_and_callbacks() {
    let p = cat(&[
        &ld_imm64(2, BPF_PSEUDO_FUNC, 6), // 0-1: callback at 7
        &[
            call_helper(181), // 2: bpf_loop
            call_local(2),    // 3 -> 6
            may_goto(0),      // 4
            exit(),           // 5
            exit(),           // 6: subprog
            mov_imm(0, 0),    // 7: callback
            exit(),           // 8
        ],
    ]);
    let info = run(&p, true);
    assert_eq!(info.error, None);
    let starts: Vec<usize> = info.subprogs.iter().map(|s| s.start).collect();
    assert_eq!(starts, vec![0, 6, 7]);
    assert!(info.subprogs[1].called && info.subprogs[2].is_cb);
    let f = |i| info.flags_at(i);
    assert!(f(0).prune_point && f(2).prune_point && f(2).jmp_point);
    assert!(f(2).calls_callback && f(2).force_checkpoint);
    assert!(f(3).prune_point && f(4).prune_point && f(4).jmp_point);
    assert!(f(4).force_checkpoint && !f(4).calls_callback);
    assert!(f(6).jump_target && f(7).jump_target && f(7).prune_point);
    assert!(!f(1).explored);
    assert_eq!(info.call_graph.edge_count(), 2);
}

#[test]
fn marks_iter_next_kfunc() {
    let p = [call_kfunc(77), mov_imm(0, 0), exit()];
    let name = |i: usize| (i == 0).then(|| "bpf_iter_num_next".to_string());
    let info = analyze_insns(&p, &name, &no_names, &CfgOptions::default());
    assert!(info.flags[0].iter_next && info.flags[0].force_checkpoint);
    assert!(info.flags[0].prune_point && info.flags[1].prune_point);
    assert!(walk::is_iter_next_kfunc_name("bpf_iter_task_vma_next"));
    assert!(!walk::is_iter_next_kfunc_name("bpf_iter_num_new"));
}

#[test]
fn changes_pkt_data_merged_into_caller() {
    // subprog calls bpf_skb_pull_data (39); main calls the subprog.
    let p = [call_local(1), exit(), call_helper(39), exit()];
    let info = run(&p, true);
    assert!(info.subprogs[1].changes_pkt_data);
    assert!(info.subprogs[0].changes_pkt_data);
}

#[test]
fn tail_call_and_ld_abs_recorded() {
    let p = [
        call_local(2),
        call_helper(12),
        exit(),
        RawInsn::new(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0),
        exit(),
    ];
    let info = run(&p, true);
    assert!(info.subprogs[0].has_tail_call && !info.subprogs[0].has_ld_abs);
    assert!(info.subprogs[1].has_ld_abs);
}

#[test]
fn exception_callback_is_walked() {
    let p = [mov_imm(0, 0), exit(), mov_imm(0, 1), exit()];
    assert_eq!(err(&p, true).as_deref(), Some("unreachable insn 2"));
    let opts = CfgOptions {
        exception_callback: Some(2),
        ..CfgOptions::default()
    };
    let info = analyze_insns(&p, &no_names, &no_names, &opts);
    assert_eq!(info.error, None);
    assert_eq!(info.exception_callback_subprog, Some(1));
    assert!(info.subprogs[1].is_exception_cb);
}

// ---- blocks, loops ----

#[test]
fn blocks_and_edges() {
    let p = [
        mov_imm(0, 0),             // 0  B0
        jmp_imm(BPF_JEQ, 1, 0, 2), // 1  B0
        mov_imm(0, 1),             // 2  B1
        ja(1),                     // 3  B1
        mov_imm(0, 2),             // 4  B2
        exit(),                    // 5  B3
    ];
    let info = run(&p, true);
    let spans: Vec<(usize, usize)> = info.blocks.iter().map(|b| (b.start, b.end)).collect();
    assert_eq!(spans, vec![(0, 2), (2, 4), (4, 5), (5, 6)]);
    let g = &info.funcs[0].graph;
    assert_eq!(g.edge_count(), 4);
    assert!(info.funcs[0].loops.is_empty());
    assert_eq!(info.funcs[0].idom, vec![None, Some(0), Some(0), Some(0)]);
    assert!(info.blocks.iter().all(|b| b.reachable));
}

#[test]
fn nested_loops() {
    let p = [
        mov_imm(1, 0),               // 0  B0
        mov_imm(2, 0),               // 1  B1 outer header
        alu64_imm(BPF_ADD, 2, 1),    // 2  B2 inner header
        jmp_imm(BPF_JLT, 2, 10, -2), // 3  B2 -> 2
        alu64_imm(BPF_ADD, 1, 1),    // 4  B3
        jmp_imm(BPF_JLT, 1, 10, -5), // 5  B3 -> 1
        mov_imm(0, 0),               // 6  B4
        exit(),                      // 7
    ];
    let info = run(&p, true);
    assert_eq!(info.error, None);
    let loops = &info.funcs[0].loops;
    assert_eq!(loops.len(), 2);
    assert_eq!(loops[0].header, 1);
    assert_eq!(loops[0].depth, 1);
    assert_eq!(loops[0].body, vec![1, 2, 3]);
    assert_eq!(loops[0].exits, vec![(3, 4)]);
    assert_eq!(loops[1].header, 2);
    assert_eq!(loops[1].depth, 2);
    assert_eq!(loops[1].parent, Some(0));
    assert_eq!(loops[1].exits, vec![(2, 3)]);
    assert_eq!(info.innermost_loop(3), Some((0, 1)));
    assert_eq!(info.innermost_loop(4), Some((0, 0)));
    assert_eq!(info.innermost_loop(6), None);
    assert!(info.funcs[0].irreducible.is_empty());
    assert_eq!(info.back_edges(), vec![(3, 2), (5, 1)]);
}

#[test]
fn irreducible_region_flagged() {
    let p = [
        jmp_imm(BPF_JEQ, 1, 0, 2),   // 0 -> 3
        mov_imm(0, 0),               // 1
        ja(1),                       // 2 -> 4
        alu64_imm(BPF_ADD, 0, 1),    // 3
        alu64_imm(BPF_ADD, 0, 2),    // 4
        jmp_imm(BPF_JLT, 0, 10, -3), // 5 -> 3
        exit(),                      // 6
    ];
    let info = run(&p, true);
    assert_eq!(info.error, None);
    let f = &info.funcs[0];
    assert!(f.loops.is_empty());
    assert_eq!(f.irreducible.len(), 1);
    let r = &f.irreducible[0];
    let b3 = info.insn_block[3].unwrap();
    let b4 = info.insn_block[4].unwrap();
    assert_eq!(r.blocks, vec![b3, b4]);
    assert_eq!(r.entries, vec![b3, b4]);
}

#[test]
fn unreachable_blocks_marked() {
    let p = [exit(), mov_imm(0, 1), exit()];
    let info = run(&p, true);
    assert_eq!(info.error.map(|e| e.insn), Some(1));
    assert!(info.blocks[0].reachable);
    assert!(!info.blocks[1].reachable);
}

// ---- liveness ----

#[test]
fn register_liveness() {
    let p = [mov_imm(1, 1), mov_reg(2, 1), mov_reg(0, 2), exit()];
    let lv = run(&p, true).liveness;
    assert_eq!(lv.regs_in, vec![0, 1 << 1, 1 << 2, 1 << 0]);
    assert!(lv.reg_live_before(1, 1) && !lv.reg_live_before(1, 2));
}

#[test]
fn liveness_through_call_and_branches() {
    let p = [
        mov_reg(6, 1),             // 0: r6 live until 4
        call_helper(5),            // 1: reads r1..r5, kills r0..r5
        jmp_imm(BPF_JEQ, 0, 0, 1), // 2
        mov_reg(0, 6),             // 3
        exit(),                    // 4
    ];
    let lv = run(&p, true).liveness;
    assert_eq!(lv.regs_in[1], 0x3e | 1 << 6);
    assert_eq!(lv.regs_in[2], 1 | 1 << 6);
    assert_eq!(lv.regs_in[4], 1);
    assert_eq!(lv.regs_out[2], 1 | 1 << 6);
}

#[test]
fn stack_liveness() {
    let p = [
        stx(BPF_DW, 10, 1, -8), // 0: kills slot 0
        stx(BPF_W, 10, 1, -16), // 1: partial, no kill
        ldx(BPF_DW, 0, 10, -8), // 2: reads slot 0
        ldx(BPF_W, 3, 10, -12), // 3: reads slot 1
        ldx(BPF_W, 4, 1, 0),    // 4: ctx read, not the stack
        exit(),                 // 5
    ];
    let lv = run(&p, true).liveness;
    assert_eq!(lv.stack_in[0], 0b10);
    assert_eq!(lv.stack_in[2], 0b11);
    assert_eq!(lv.stack_in[4], 0);
    assert!(lv.slot_live_before(1, 0) && !lv.slot_live_before(4, 1));
}

#[test]
fn stack_pointer_passed_to_helper_reads_all() {
    let p = [
        mov_reg(2, 10),            // 0
        alu64_imm(BPF_ADD, 2, -8), // 1
        call_helper(1),            // 2
        stx(BPF_DW, 10, 0, -8),    // 3
        exit(),                    // 4
    ];
    let lv = run(&p, true).liveness;
    assert_eq!(lv.stack_in[2], u64::MAX);
    assert_eq!(lv.stack_in[3], 0);
}

// ---- robustness ----

#[test]
fn never_panics_on_random_programs() {
    // A small xorshift generator over biased opcodes.
    let codes = [
        0x05, 0x06, 0x15, 0x1d, 0x85, 0x95, 0xe5, 0x18, 0x00, 0x07, 0xbf, 0x61, 0x7b, 0x79, 0x20,
    ];
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for _ in 0..3000 {
        let n = (next() % 24) as usize;
        let mut p = Vec::with_capacity(n);
        for _ in 0..n {
            let r = next();
            let code = codes[(r % codes.len() as u64) as usize];
            let src = ((r >> 8) % 6) as u8;
            let off = ((r >> 16) % 19) as i16 - 9;
            let imm = ((r >> 32) % 23) as i32 - 11;
            p.push(RawInsn::new(code, ((r >> 4) % 11) as u8, src, off, imm));
        }
        for priv_ in [true, false] {
            let info = run(&p, priv_);
            assert_eq!(info.flags.len(), p.len());
            assert_eq!(info.funcs.len(), info.subprogs.len());
        }
    }
}

// ---- committed objects ----

fn corpus(name: &str) -> crate::object::Object {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/programs")
        .join(name);
    crate::object::load_file(&path, &crate::object::LoadOptions::default()).expect("load")
}

#[test]
fn every_committed_program_passes_check_cfg() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/programs");
    let mut n = 0;
    for e in std::fs::read_dir(dir).expect("corpus dir") {
        let path = e.expect("entry").path();
        let Some(name) = path.file_name().and_then(|s| s.to_str()) else {
            continue;
        };
        if !name.ends_with(".bpf.o") {
            continue;
        }
        let obj = corpus(name);
        // The fixture of BPF102 (unreachable code) fails check_cfg on purpose.
        if name == "bad_dead_code.bpf.o" {
            let p = &obj.programs[0];
            assert!(check_cfg(p, true).is_err(), "{name} should fail check_cfg");
            continue;
        }
        for p in obj.programs.iter().filter(|p| p.load_error.is_none()) {
            let r = check_cfg(p, true);
            assert!(r.is_ok(), "{name}/{}: {:?}", p.name, r.err());
            let info = r.expect("ok");
            assert!(info.flags.iter().enumerate().all(|(i, f)| {
                f.explored
                    || p.insns
                        .get(i.wrapping_sub(1))
                        .is_some_and(|x| x.is_ldimm64())
            }));
            assert!(info.blocks.iter().all(|b| b.reachable));
            n += 1;
        }
    }
    assert!(n >= 20, "{n} programs");
}

#[test]
fn committed_subprogs() {
    let obj = corpus("subprogs.bpf.o");
    let p = &obj.programs[0];
    let info = check_cfg(p, true).expect("cfg");
    let names: Vec<Option<&str>> = info.subprogs.iter().map(|s| s.name.as_deref()).collect();
    assert_eq!(
        names,
        vec![
            Some("tc_subprogs"),
            Some("ttl_bucket"),
            Some("account_bucket")
        ]
    );
    assert_eq!(info.call_graph.edge_count(), 2);
    assert!(info.subprogs[1].called && info.subprogs[2].called);
    let e = check_cfg(p, false).expect_err("unprivileged");
    assert_eq!(e.kind, CfgErrorKind::NotCapable);
    assert_eq!(
        e.message,
        "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN"
    );
}

#[test]
fn committed_bpf_loop_callback() {
    let obj = corpus("bpf_loop_cb.bpf.o");
    let p = &obj.programs[0];
    let info = check_cfg(p, true).expect("cfg");
    assert_eq!(info.subprogs.len(), 2);
    assert!(info.subprogs[1].is_cb);
    let cb_edges: Vec<&CallEdge> = info
        .call_graph
        .raw_edges()
        .iter()
        .map(|e| &e.weight)
        .filter(|w| w.kind == CallKindEdge::Callback)
        .collect();
    assert_eq!(cb_edges.len(), 1);
    let calls_cb: Vec<usize> = (0..p.insns.len())
        .filter(|&i| info.flags[i].calls_callback)
        .collect();
    assert_eq!(calls_cb.len(), 1);
    assert!(info.flags[calls_cb[0]].force_checkpoint);
}

#[test]
fn committed_loops() {
    let obj = corpus("bounded_loop.bpf.o");
    let p = &obj.programs[0];
    let info = check_cfg(p, true).expect("cfg");
    let loops = &info.funcs[0].loops;
    assert_eq!(loops.len(), 1);
    assert_eq!(info.blocks[loops[0].header].start, 12);
    assert_eq!(info.back_edges(), vec![(27, 12)]);
    assert_eq!(
        p.line_for(12).map(|l| l.line),
        Some(20),
        "the loop is reported at the header's line"
    );
    let e = check_cfg(p, false).expect_err("unprivileged");
    assert_eq!(e.kind, CfgErrorKind::BackEdge);

    let obj = corpus("bad_infinite_loop.bpf.o");
    let p = &obj.programs[0];
    let info = check_cfg(p, true).expect("cfg: the engine finds the infinite loop");
    assert_eq!(info.back_edges(), vec![(3, 2)]);
    assert_eq!(info.innermost_loop(3), Some((0, 0)));
    let e = check_cfg(p, false).expect_err("unprivileged");
    assert_eq!(e.message, "back-edge from insn 3 to 2");
}

#[test]
fn committed_tail_call() {
    let obj = corpus("tail_call.bpf.o");
    let p = obj
        .programs
        .iter()
        .find(|p| p.name == "xdp_dispatch")
        .expect("prog");
    let info = check_cfg(p, true).expect("cfg");
    assert!(info.subprogs[0].has_tail_call);
    assert!(
        info.subprogs[0].changes_pkt_data,
        "6.12 counts bpf_tail_call"
    );
}

// ---- more unprivileged back-edges from the selftests ----

#[test]
fn movsx_loop_back_edge_unpriv() {
    // progs/verifier_movsx.c "MOV32SX, S8, var_off u32_max"
    let p = [
        ldx(BPF_B, 3, 10, -387),
        RawInsn::new(BPF_ALU | BPF_MOV | BPF_X, 7, 3, 8, 0),
        RawInsn::new(BPF_JMP32 | BPF_JGE | BPF_K, 7, 0, -3, 0x2533_823b),
        RawInsn::new(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 0),
        exit(),
    ];
    rejects(&p, None, Some("back-edge from insn 2 to 0"));
}

#[test]
fn atomic_bounds_back_edge_unpriv() {
    // verifier/atomic_bounds.c "BPF_ATOMIC bounds propagation, mem->reg"
    let p = [
        mov_imm(0, 0),
        stx(BPF_DW, 10, 0, -8),
        mov_imm(1, 1),
        RawInsn::new(BPF_STX | BPF_ATOMIC | BPF_DW, 10, 1, -8, BPF_FETCH),
        jmp_imm(BPF_JNE, 1, 0, -1),
        exit(),
    ];
    rejects(&p, None, Some("back-edge from insn 4 to 4"));
}

#[test]
fn loop_start_in_the_middle_unpriv() {
    // progs/verifier_loops1.c "bounded loop, start in the middle"
    let p = [
        mov_imm(0, 0),
        ja(1),
        alu64_imm(BPF_ADD, 0, 1),
        jmp_imm(BPF_JLT, 0, 4, -2),
        exit(),
    ];
    rejects(&p, None, Some("back-edge from insn 2 to 3"));
    let info = run(&p, true);
    assert_eq!(info.back_edges(), vec![(2, 3)]);
}

#[test]
fn large_program_is_linear_enough() {
    // 60k instructions: a chain of conditional jumps with a loop around it.
    let mut p = vec![mov_imm(0, 0)];
    for _ in 0..30_000 {
        p.push(jmp_imm(BPF_JEQ, 0, 7, 1));
        p.push(alu64_imm(BPF_ADD, 0, 1));
    }
    let back = -(p.len() as i32 + 1);
    p.push(RawInsn::new(BPF_JMP32 | BPF_JA, 0, 0, 0, back));
    p.push(exit());
    let info = run(&p, true);
    assert_eq!(
        info.error.map(|e| e.message).as_deref(),
        Some("unreachable insn 60002")
    );
    assert_eq!(info.funcs[0].loops.len(), 1);
    assert_eq!(info.blocks.len(), 60_002);
}
