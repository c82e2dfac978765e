//! Kernel parity for log rendering, ALU transfer and branch pruning, from the
//! Linux 6.12 selftests (6.12.117 source,
//! tools/testing/selftests/bpf/progs/verifier_*.c): `__msg(...)` register
//! states and the branch predictions a `__success` / `__failure` verdict
//! depends on. Each case replays the scalar part of the test's asm on our
//! domain; the file and `__description` are cited on every test.

use bpfproof_domains::{AluOp, JmpOp, Scalar};

/// Fall-through state of `if r <op> k goto ...` (`k` is the insn's imm).
fn ft(r: Scalar, op: JmpOp, k: i32, jmp32: bool) -> Scalar {
    let br = Scalar::reg_set_min_max(&r, &Scalar::imm(k), op, jmp32);
    assert!(!br.invariant_violation);
    br.not_taken.expect("fall-through feasible").0
}

/// Jump (true) state of `if r <op> k goto ...`.
fn jt(r: Scalar, op: JmpOp, k: i32, jmp32: bool) -> Scalar {
    let br = Scalar::reg_set_min_max(&r, &Scalar::imm(k), op, jmp32);
    assert!(!br.invariant_violation);
    br.taken.expect("jump feasible").0
}

fn alu_k(r: Scalar, op: AluOp, is_64: bool, k: i32) -> Scalar {
    Scalar::alu(op, is_64, &r, &Scalar::imm(k))
}

fn unknown() -> Scalar {
    Scalar::unknown()
}

/// `w = w0` after `call bpf_get_prandom_u32` (32-bit mov of an unknown r0).
fn mov32_unknown() -> Scalar {
    Scalar::alu(AluOp::Mov, false, &unknown(), &unknown())
}

#[test]
fn bounds_non_const_xor_src_dst() {
    // verifier_bounds.c: "bounds check for non const xor src dst"
    // __msg("5: (af) r0 ^= r6 ; R0_w=scalar(smin=smin32=0,smax=umax=smax32=umax32=431,var_off=(0x0; 0x1af))")
    let r6 = alu_k(unknown(), AluOp::And, true, 0xaf);
    let r0 = alu_k(unknown(), AluOp::And, true, 0x1a0);
    let r0 = Scalar::alu(AluOp::Xor, true, &r0, &r6);
    assert_eq!(
        r0.to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=431,var_off=(0x0; 0x1af))"
    );
}

#[test]
fn bounds_non_const_or_src_dst() {
    // verifier_bounds.c: "bounds check for non const or src dst"
    // __msg("5: (4f) r0 |= r6 ; R0_w=scalar(smin=smin32=0,smax=umax=smax32=umax32=431,var_off=(0x0; 0x1af))")
    let r6 = alu_k(unknown(), AluOp::And, true, 0xaf);
    let r0 = alu_k(unknown(), AluOp::And, true, 0x1a0);
    let r0 = Scalar::alu(AluOp::Or, true, &r0, &r6);
    assert_eq!(
        r0.to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=431,var_off=(0x0; 0x1af))"
    );
}

#[test]
fn bounds_non_const_mul_regs() {
    // verifier_bounds.c: "bounds check for non const mul regs"
    // __msg("5: (2f) r0 *= r6 ; R0_w=scalar(smin=smin32=0,smax=umax=smax32=umax32=3825,var_off=(0x0; 0xfff))")
    let r6 = alu_k(unknown(), AluOp::And, true, 0xff);
    let r0 = alu_k(unknown(), AluOp::And, true, 0x0f);
    let r0 = Scalar::alu(AluOp::Mul, true, &r0, &r6);
    assert_eq!(
        r0.to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=3825,var_off=(0x0; 0xfff))"
    );
}

#[test]
fn bounds_deduct_negative_overlap() {
    // verifier_bounds.c: "bounds deduction cross sign boundary, negative overlap"
    // (__flag(BPF_F_TEST_REG_INVARIANTS)), __msg("7: (1f) r0 -= r6 {{.*}} R0=scalar(...)")
    let w3 = mov32_unknown();
    let w6 = Scalar::alu(AluOp::Movsx8, false, &unknown(), &unknown());
    let r0 = Scalar::alu(AluOp::Movsx8, true, &unknown(), &unknown());
    let r6 = ft(w6, JmpOp::Jge, 0xf000_0000u32 as i32, true);
    let r0 = Scalar::alu(AluOp::Add, true, &r0, &r6);
    let r6 = alu_k(r6, AluOp::Add, true, 400);
    let r0 = Scalar::alu(AluOp::Sub, true, &r0, &r6);
    assert_eq!(
        r0.to_string(),
        "scalar(smin=smin32=-655,smax=smax32=-146,umin=0xfffffffffffffd71,\
         umax=0xffffffffffffff6e,umin32=0xfffffd71,umax32=0xffffff6e,\
         var_off=(0xfffffffffffffc00; 0x3ff))"
    );
    // 8: if r3 < r0 goto ... must not report an invariant violation
    let br = Scalar::reg_set_min_max(&w3, &r0, JmpOp::Jlt, false);
    assert!(!br.invariant_violation);
}

#[test]
fn bounds_deduct_positive_overlap() {
    // verifier_bounds.c: "bounds deduction cross sign boundary, positive overlap"
    // __msg("3: (2d) if r0 > r1 {{.*}} R0_w=scalar(smin=smin32=0,smax=umax=smax32=umax32=127,var_off=(0x0; 0x7f))")
    let r0 = Scalar::alu(AluOp::Movsx8, true, &unknown(), &unknown());
    let r1 = Scalar::constant(0xffff_ffff_ffff_ff00);
    let br = Scalar::reg_set_min_max(&r0, &r1, JmpOp::Jgt, false);
    assert!(!br.invariant_violation);
    let r0 = br.not_taken.unwrap().0;
    assert_eq!(
        r0.to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=127,var_off=(0x0; 0x7f))"
    );
    // __success: `if r0 < 128` must be always taken so `r10 = 0` is dead.
    assert_eq!(
        Scalar::branch_taken(&r0, &Scalar::imm(128), JmpOp::Jlt, false),
        Some(true)
    );
}

#[test]
fn bounds_deduct_two_overlaps() {
    // verifier_bounds.c: "bounds deduction cross sign boundary, two overlaps"
    // __failure, __msg("3: (2d) if r0 > r1 {{.*}} R0_w=scalar(smin=smin32=-128,smax=smax32=127,umax=0xffffffffffffff80)")
    let r0 = Scalar::alu(AluOp::Movsx8, true, &unknown(), &unknown());
    let r1 = Scalar::constant(0xffff_ffff_ffff_ff80);
    let r0 = Scalar::reg_set_min_max(&r0, &r1, JmpOp::Jgt, false)
        .not_taken
        .unwrap()
        .0;
    assert_eq!(
        r0.to_string(),
        "scalar(smin=smin32=-128,smax=smax32=127,umax=0xffffffffffffff80)"
    );
    // "frame pointer is read only": the fall-through of `if r0 < 128` is reachable.
    assert_eq!(
        Scalar::branch_taken(&r0, &Scalar::imm(128), JmpOp::Jlt, false),
        None
    );
}

#[test]
fn signed_unsigned_intersection32_case1() {
    // verifier_bounds.c: signed_unsigned_intersection32_case1 (__success,
    // BPF_F_TEST_REG_INVARIANTS): the last jump must be predicted taken.
    let w0 = alu_k(unknown(), AluOp::And, false, -1); // w0 &= 0xffffffff
    let w0 = ft(w0, JmpOp::Jlt, 3, true);
    let w0 = ft(w0, JmpOp::Jsgt, 1, true);
    assert_eq!((w0.s32_min, w0.s32_max), (i32::MIN, -1));
    assert_eq!(
        Scalar::branch_taken(&w0, &Scalar::imm(0), JmpOp::Jslt, true),
        Some(true)
    );
}

#[test]
fn signed_unsigned_intersection32_case2() {
    // verifier_bounds.c: signed_unsigned_intersection32_case2 (__success,
    // BPF_F_TEST_REG_INVARIANTS): `if w0 <= 5` must be predicted taken.
    let w0 = alu_k(unknown(), AluOp::And, false, -1);
    let w0 = ft(w0, JmpOp::Jgt, 0x8000_0003u32 as i32, true);
    let w0 = ft(w0, JmpOp::Jslt, -3, true);
    let w0 = ft(w0, JmpOp::Jsgt, 5, true);
    assert_eq!((w0.u32_min, w0.u32_max), (0, 5));
    assert_eq!(
        Scalar::branch_taken(&w0, &Scalar::imm(5), JmpOp::Jle, true),
        Some(true)
    );
}

#[test]
fn bounds_xor_constants() {
    // verifier_bounds.c: "bounds check for reg = 0, reg xor 1" (__success: the
    // out-of-bounds load behind `if r1 != 0` must be pruned)
    let r1 = alu_k(Scalar::constant(0), AluOp::Xor, true, 1);
    assert_eq!(
        Scalar::branch_taken(&r1, &Scalar::imm(0), JmpOp::Jne, false),
        Some(true)
    );
    // "bounds check for reg32 = 0, reg32 xor 1"
    let w1 = alu_k(Scalar::constant(0), AluOp::Xor, false, 1);
    assert_eq!(
        Scalar::branch_taken(&w1, &Scalar::imm(0), JmpOp::Jne, true),
        Some(true)
    );
    // "bounds check for reg = 2, reg xor 3": `if r1 > 0` taken
    let r1 = alu_k(Scalar::constant(2), AluOp::Xor, true, 3);
    assert_eq!(
        Scalar::branch_taken(&r1, &Scalar::imm(0), JmpOp::Jgt, false),
        Some(true)
    );
    // "bounds check for reg = any, reg xor 3" (__failure): undecided
    let r1 = alu_k(unknown(), AluOp::Xor, true, 3);
    assert_eq!(
        Scalar::branch_taken(&r1, &Scalar::imm(0), JmpOp::Jne, false),
        None
    );
    // "bounds check for reg32 = any, reg32 xor 3" (__failure): undecided
    let w1 = alu_k(unknown(), AluOp::Xor, false, 3);
    assert_eq!(
        Scalar::branch_taken(&w1, &Scalar::imm(0), JmpOp::Jne, true),
        None
    );
    // "bounds check for reg > 0, reg xor 3" (__success)
    let r1 = ft(unknown(), JmpOp::Jle, 0, false);
    let r1 = alu_k(r1, AluOp::Xor, true, 3);
    assert_eq!(
        Scalar::branch_taken(&r1, &Scalar::imm(0), JmpOp::Jge, false),
        Some(true)
    );
    // "bounds check for reg32 > 0, reg32 xor 3" (__success)
    let w1 = ft(unknown(), JmpOp::Jle, 0, true);
    let w1 = alu_k(w1, AluOp::Xor, false, 3);
    assert_eq!(
        Scalar::branch_taken(&w1, &Scalar::imm(0), JmpOp::Jge, true),
        Some(true)
    );
}

#[test]
fn bounds_reg_edge_ne_eq() {
    // verifier_bounds.c: "bounds check with JMP_NE for reg edge" and
    // "... JMP_EQ for reg edge" (__success: bpf_skb_store_bytes' ARG_CONST_SIZE
    // needs r4 in [1, 7]).
    let r4 = alu_k(unknown(), AluOp::And, true, 7);
    let ne = jt(r4, JmpOp::Jne, 0, false);
    assert_eq!((ne.umin, ne.umax), (1, 7));
    let eq = ft(r4, JmpOp::Jeq, 0, false);
    assert_eq!(eq, ne);
    assert_eq!(
        ne.to_string(),
        "scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))"
    );
}

#[test]
fn bounds_crossing_signed_boundary_setup() {
    // verifier_bounds.c: "bound check with JMP_JLT for crossing 64-bit signed
    // boundary": "r1 unsigned range is [0x7fffffffffffff10, 0x800000000000000f]"
    let r1 = Scalar::from_urange(0, 255); // r1 = *(u8 *)(r2 + 0)
    let r1 = Scalar::alu(
        AluOp::Add,
        true,
        &r1,
        &Scalar::constant(0x7fff_ffff_ffff_ff10),
    );
    assert_eq!(
        (r1.umin, r1.umax),
        (0x7fff_ffff_ffff_ff10, 0x8000_0000_0000_000f)
    );
    // "... JMP_JSLT ...": "r1 signed range is [S64_MIN, S64_MAX]"
    assert_eq!((r1.smin, r1.smax), (i64::MIN, i64::MAX));
    // "... JMP32_JLT for crossing 32-bit signed boundary":
    // "r1 unsigned range is [0, 0x8000000f]" after w1 += w0 (w0 = 0x7fffff10)
    let w0 = Scalar::alu(AluOp::Mov, false, &unknown(), &Scalar::imm(0x7fff_ff10));
    let w1 = Scalar::alu(AluOp::Add, false, &Scalar::from_urange(0, 255), &w0);
    assert_eq!((w1.u32_min, w1.u32_max), (0x7fff_ff10, 0x8000_000f));
    assert_eq!((w1.umin, w1.umax), (0x7fff_ff10, 0x8000_000f));
    assert_eq!((w1.s32_min, w1.s32_max), (i32::MIN, i32::MAX));
}

#[test]
fn ldsx_s8_range_priv() {
    // verifier_ldsx.c: "LDSX, S8 range checking, privileged"
    // __msg("R1_w=scalar(smin=smin32=-128,smax=smax32=127)")
    let mut r1 = unknown();
    r1.coerce_to_size_sx(1);
    assert_eq!(r1.to_string(), "scalar(smin=smin32=-128,smax=smax32=127)");
    // the following `if r1 s> 0x7f` / `if r1 s< -0x80` are never taken
    assert_eq!(
        Scalar::branch_taken(&r1, &Scalar::imm(0x7f), JmpOp::Jsgt, false),
        Some(false)
    );
    assert_eq!(
        Scalar::branch_taken(&r1, &Scalar::imm(-0x80), JmpOp::Jslt, false),
        Some(false)
    );
}

#[test]
fn movsx_range_checks() {
    // verifier_movsx.c: "MOV32SX, S8, range_check" / "MOV32SX, S16, range_check"
    // / "MOV64SX, S8|S16|S32, range_check" (__retval(1): both jumps never taken)
    for (op, is_64, lo, hi) in [
        (AluOp::Movsx8, false, -0x80, 0x7f),
        (AluOp::Movsx16, false, -0x8000, 0x7fff),
        (AluOp::Movsx8, true, -0x80, 0x7f),
        (AluOp::Movsx16, true, -0x8000, 0x7fff),
        (AluOp::Movsx32, true, i32::MIN, i32::MAX),
    ] {
        let r1 = Scalar::alu(op, is_64, &unknown(), &unknown());
        let jmp32 = !is_64;
        assert_eq!(
            Scalar::branch_taken(&r1, &Scalar::imm(hi), JmpOp::Jsgt, jmp32),
            Some(false),
            "{op:?} {is_64}"
        );
        assert_eq!(
            Scalar::branch_taken(&r1, &Scalar::imm(lo), JmpOp::Jslt, jmp32),
            Some(false),
            "{op:?} {is_64}"
        );
    }
}

#[test]
fn movsx_positive_after_s8_extension() {
    // verifier_movsx.c: "MOV32SX, S8, var_off not u32_max, positive after s8 extension"
    // (__success needs `if w7 s>= 16` to be predicted not taken).
    let r3 = alu_k(unknown(), AluOp::And, true, 0xf);
    let w7 = Scalar::alu(AluOp::Movsx8, false, &unknown(), &r3);
    assert_eq!(
        Scalar::branch_taken(&w7, &Scalar::imm(16), JmpOp::Jsge, true),
        Some(false)
    );
    assert_eq!(
        w7.to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=15,var_off=(0x0; 0xf))"
    );
}

#[test]
fn movsx_negative_after_s8_extension() {
    // verifier_movsx.c: "MOV32SX, S8, var_off not u32_max, negative after s8 extension"
    let r3 = alu_k(unknown(), AluOp::And, true, 0xf);
    let r3 = alu_k(r3, AluOp::Or, true, 0x80);
    let w7 = Scalar::alu(AluOp::Movsx8, false, &unknown(), &r3);
    assert_eq!(
        Scalar::branch_taken(&w7, &Scalar::imm(-5), JmpOp::Jsge, true),
        Some(false)
    );
}

#[test]
fn movsx_unsigned_range_checks() {
    // verifier_movsx.c: "MOV64SX, S8, unsigned range_check" (__success)
    let r0 = alu_k(unknown(), AluOp::And, true, 1);
    let r0 = alu_k(r0, AluOp::Add, true, 0xfe);
    let r0 = Scalar::alu(AluOp::Movsx8, true, &unknown(), &r0);
    assert_eq!((r0.smin, r0.smax), (-2, -1));
    assert_eq!(
        Scalar::branch_taken(&r0, &Scalar::imm(-2), JmpOp::Jlt, false),
        Some(false)
    );
    // "MOV32SX, S8, unsigned range_check" (__success)
    let w0 = alu_k(unknown(), AluOp::And, false, 1);
    let w0 = alu_k(w0, AluOp::Add, false, 0xfe);
    let w0 = Scalar::alu(AluOp::Movsx8, false, &unknown(), &w0);
    assert_eq!((w0.u32_min, w0.u32_max), (0xffff_fffe, 0xffff_ffff));
    assert_eq!(
        Scalar::branch_taken(&w0, &Scalar::imm(-2), JmpOp::Jlt, true),
        Some(false)
    );
}

#[test]
fn movsx_constants() {
    // verifier_movsx.c: "MOV32SX, S8" __retval(0x23), "MOV32SX, S16"
    // __retval(0xFFFFff23), "MOV64SX, S8" __retval(-2), "MOV64SX, S16"
    // __retval(0xf23), "MOV64SX, S32" __retval(-1) (r1 = 0xfffffffe; r0 = (s32)r1; r0 >>= 1).
    let u = unknown();
    let c = Scalar::constant;
    assert_eq!(Scalar::alu(AluOp::Movsx8, false, &u, &c(0xff23)), c(0x23));
    assert_eq!(
        Scalar::alu(AluOp::Movsx16, false, &u, &c(0xff23)),
        c(0xffff_ff23)
    );
    assert_eq!(
        Scalar::alu(AluOp::Movsx8, true, &u, &c(0x1fe)),
        c(-2i64 as u64)
    );
    assert_eq!(Scalar::alu(AluOp::Movsx16, true, &u, &c(0xf0f23)), c(0xf23));
    let r = Scalar::alu(AluOp::Movsx32, true, &u, &c(0xffff_fffe));
    assert_eq!(r.to_string(), "-2");
    let r = alu_k(r, AluOp::Rsh, true, 1);
    assert_eq!(r, c(i64::MAX as u64));
    // log.c verbose_snum: values outside [S16_MIN, S16_MAX] print as %#llx
    assert_eq!(r.to_string(), "0x7fffffffffffffff");
    // "MOV32SX, S16, range_check 2": w2 = (s16)w1 with r1 = 65535, then r2 >>= 1
    let w2 = Scalar::alu(AluOp::Movsx16, false, &u, &c(65535));
    assert_eq!(alu_k(w2, AluOp::Rsh, true, 1), c(0x7fff_ffff));
}

#[test]
fn log_format_of_6_12() {
    // kernel/bpf/log.c (6.12): print_reg_state / print_scalar_ranges /
    // verbose_snum / verbose_unum / tnum_strn.
    let r = alu_k(unknown(), AluOp::And, true, 0xff);
    assert_eq!(
        r.to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
    );
    assert_eq!(r.render(true), format!("P{r}"));
    assert_eq!(unknown().to_string(), "scalar()");
    assert_eq!(Scalar::constant(u64::MAX).to_string(), "-1");
    assert_eq!(Scalar::constant(65535).to_string(), "0xffff");
    assert_eq!(Scalar::constant(32767).to_string(), "32767");
    // 32-bit mov of an unknown: upper half known zero; > U16_MAX prints in hex.
    assert_eq!(
        mov32_unknown().to_string(),
        "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"
    );
    // s32 bounds are sign-extended only in decimal
    let w = ft(mov32_unknown(), JmpOp::Jsgt, -0x10000, true);
    let w = ft(w, JmpOp::Jslt, -0x20000, true);
    // (and, being zero-extended, equal to the 64-bit bounds they are grouped with)
    assert_eq!(
        w.to_string(),
        "scalar(smin=umin=smin32=umin32=0xfffe0000,smax=umax=smax32=umax32=0xffff0000,\
         var_off=(0xfffe0000; 0x1ffff))"
    );
    let mut n = Scalar::from_srange(-0x20000, -0x10000);
    n.sync();
    assert_eq!(
        n.to_string(),
        "scalar(smin=0xfffffffffffe0000,smax=0xffffffffffff0000,umin=0xfffffffffffe0000,\
         umax=0xffffffffffff0000,smin32=umin32=0xfffe0000,smax32=umax32=0xffff0000,\
         var_off=(0xfffffffffffe0000; 0x1ffff))"
    );
}
