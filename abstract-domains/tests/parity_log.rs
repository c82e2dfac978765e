//! Kernel parity for log rendering and branch pruning, from `__msg(...)`
//! expectations and `__success` pruning requirements in the kernel selftests
//! (tools/testing/selftests/bpf/progs/*.c). Each case replays the test's asm
//! on our domain and compares with the kernel's logged state.

use bpfproof_domains::{AluOp, JmpOp, Scalar};

/// Fall-through state of `if r <op> k goto ...`.
fn ft(r: Scalar, op: JmpOp, k: i32, jmp32: bool) -> Scalar {
    Scalar::reg_set_min_max(&r, &Scalar::imm(k), op, jmp32)
        .not_taken
        .expect("fall-through feasible")
        .0
}

fn alu_k(r: Scalar, op: AluOp, is_64: bool, k: i32) -> Scalar {
    Scalar::alu(op, is_64, &r, &Scalar::imm(k))
}

#[test]
fn verifier_bounds_several_overlaps() {
    // verifier_bounds.c: "bounds refinement: several overlaps between tnum and u64"
    // __msg("2: (25) if r0 > 0x1 {{.*}} R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=1,var_off=(0x0; 0x1))")
    let r0 = Scalar::unknown();
    assert_eq!(
        Scalar::branch_taken(&r0, &Scalar::imm(0), JmpOp::Jlt, false),
        Some(false)
    );
    let r0 = ft(r0, JmpOp::Jgt, 1, false);
    assert_eq!(
        r0.to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=1,var_off=(0x0; 0x1))"
    );
}

#[test]
fn verifier_bounds_multiple_overlaps() {
    // verifier_bounds.c: "bounds refinement: multiple overlaps between tnum and u64"
    // __msg("2: (25) if r0 > 0x10 {{.*}} R0=scalar(smin=umin=smin32=umin32=15,smax=umax=smax32=umax32=16,var_off=(0x0; 0x1f))")
    let r0 = ft(Scalar::unknown(), JmpOp::Jlt, 0xf, false);
    let r0 = ft(r0, JmpOp::Jgt, 0x10, false);
    assert_eq!(
        r0.to_string(),
        "scalar(smin=umin=smin32=umin32=15,smax=umax=smax32=umax32=16,var_off=(0x0; 0x1f))"
    );
}

#[test]
fn verifier_bounds_jset_same_register() {
    // verifier_bounds.c: "jset on same register, constant value branch taken"
    assert_eq!(
        Scalar::branch_taken_same_reg(&Scalar::constant(0), JmpOp::Jset, false),
        Some(false)
    );
    assert_eq!(
        Scalar::branch_taken_same_reg(&Scalar::constant(1), JmpOp::Jset, false),
        Some(true)
    );
    // "jset on same register, scalar value branch taken": ranges [1;2] and [-2;-1]
    let r = alu_k(Scalar::unknown(), AluOp::And, true, 1);
    let r12 = alu_k(r, AluOp::Add, true, 1);
    assert_eq!(
        Scalar::branch_taken_same_reg(&r12, JmpOp::Jset, false),
        Some(true)
    );
    let rm = alu_k(r, AluOp::Sub, true, 2);
    assert_eq!(
        Scalar::branch_taken_same_reg(&rm, JmpOp::Jset, false),
        Some(true)
    );
    // "... scalar value unknown branch 1/2/3": [0;1], [-1;0], [-1;1] are undecided
    assert_eq!(Scalar::branch_taken_same_reg(&r, JmpOp::Jset, false), None);
    let r10 = alu_k(r, AluOp::Sub, true, 1);
    assert_eq!(
        Scalar::branch_taken_same_reg(&r10, JmpOp::Jset, false),
        None
    );
    let r2 = alu_k(Scalar::unknown(), AluOp::And, true, 2);
    let r11 = alu_k(r2, AluOp::Sub, true, 1);
    assert_eq!(
        Scalar::branch_taken_same_reg(&r11, JmpOp::Jset, false),
        None
    );
}

#[test]
fn verifier_bounds_tnums_equal_impossible_constant() {
    // verifier_bounds.c: "dead branch: tnums give impossible constant if equal" (__success):
    // the `w5 == w7` side of `if w5 != w7` must be found infeasible.
    let r0 = Scalar::unknown();
    let r5 = Scalar::alu(
        AluOp::And,
        true,
        &r0,
        &Scalar::constant(0xffff_ffff_ffff_fffc),
    );
    let r7 = alu_k(r0, AluOp::And, true, 1);
    let r7 = alu_k(r7, AluOp::Add, true, -43);
    assert_eq!(r7.s32_min, -43);
    assert_eq!(r7.s32_max, -42);
    let br = Scalar::reg_set_min_max(&r5, &r7, JmpOp::Jne, true);
    assert!(br.taken.is_some());
    assert!(br.not_taken.is_none());
}

#[test]
fn movsx_positive_after_s8_extension() {
    // verifier_movsx.c: "MOV32SX, S8, var_off not u32_max, positive after s8 extension"
    // (__success needs `if w7 s>= 16` to be predicted not taken).
    let r3 = alu_k(Scalar::unknown(), AluOp::And, true, 0xf);
    let w7 = Scalar::alu(AluOp::Movsx8, false, &Scalar::unknown(), &r3);
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
    let r3 = alu_k(Scalar::unknown(), AluOp::And, true, 0xf);
    let r3 = alu_k(r3, AluOp::Or, true, 0x80);
    let w7 = Scalar::alu(AluOp::Movsx8, false, &Scalar::unknown(), &r3);
    assert_eq!(
        Scalar::branch_taken(&w7, &Scalar::imm(-5), JmpOp::Jsge, true),
        Some(false)
    );
}

#[test]
fn movsx_constants() {
    // verifier_movsx.c: MOV32SX/MOV64SX S8/S16/S32 on constants (__retval values).
    let u = Scalar::unknown();
    let c = |v: u64| Scalar::constant(v);
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
    assert_eq!(
        alu_k(r, AluOp::Rsh, true, 1).to_string(),
        i64::MAX.to_string()
    );
    // "MOV32SX, S16, range_check 2": w2 = (s16)w1 with r1 = 65535, then r2 >>= 1
    let w2 = Scalar::alu(AluOp::Movsx16, false, &u, &c(65535));
    assert_eq!(alu_k(w2, AluOp::Rsh, true, 1), c(0x7fff_ffff));
}

#[test]
fn and_mask_rendering() {
    // The canonical log line for `r1 &= 0xff` on an unknown scalar (e.g. verifier_and.c logs).
    let r = alu_k(Scalar::unknown(), AluOp::And, true, 0xff);
    assert_eq!(
        r.to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
    );
    assert_eq!(r.render(true), format!("P{r}"));
    assert_eq!(Scalar::unknown().to_string(), "scalar()");
    assert_eq!(Scalar::constant(u64::MAX).to_string(), "-1");
    // 32-bit mov of an unknown: upper half known zero.
    let w = Scalar::alu(AluOp::Mov, false, &Scalar::unknown(), &Scalar::unknown());
    assert_eq!(
        w.to_string(),
        "scalar(smin=0,smax=umax=4294967295,var_off=(0x0; 0xffffffff))"
    );
}
