//! Kernel parity with Linux 6.12's reg_bounds selftest:
//! tools/testing/selftests/bpf/prog_tests/reg_bounds.c of the 6.12.117
//! source (`test_reg_bounds_crafted`). Every case of its `crafted_cases[]`
//! (49 entries, transcribed mechanically from that file) is run in both
//! operand orders and for all six comparison ops, as `verify_case()` does:
//! 49 x 2 x 6 = 588 cases, 4 register states + branch prediction each.
//!
//! The selftest loads `load_range_cmp_prog` into the kernel (with
//! `BPF_F_TEST_REG_INVARIANTS`) and asserts that the verifier's logged ranges
//! for r6/r7 on both branches *equal* the ones computed by its range model
//! (`sim_case`). The model below is a line-by-line port of the 6.12 model
//! (`range_cast*`, `range_refine_in_halves`, `range_refine`, `range_cond`,
//! `reg_state_refine`, `reg_state_cond`, `reg_state_branch_taken_op`,
//! `sim_case`); note that 6.12's `range_refine` has no sign-boundary-crossing
//! case (later bpf-next versions add one). We replay the same program on our
//! domain and demand identical ranges, identical branch pruning and no
//! invariant violation.

use bpfproof_domains::{AluOp, JmpOp, Scalar};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum T {
    U64 = 0,
    U32 = 1,
    S64 = 2,
    S32 = 3,
}
use T::*;
const ALL_T: [T; 4] = [U64, U32, S64, S32];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct R {
    a: u64,
    b: u64,
}

fn min_t(t: T, x: u64, y: u64) -> u64 {
    match t {
        U64 => x.min(y),
        U32 => (x as u32).min(y as u32) as u64,
        S64 => (x as i64).min(y as i64) as u64,
        S32 => (x as i32).min(y as i32) as i64 as u64,
    }
}

fn max_t(t: T, x: u64, y: u64) -> u64 {
    match t {
        U64 => x.max(y),
        U32 => (x as u32).max(y as u32) as u64,
        S64 => (x as i64).max(y as i64) as u64,
        S32 => (x as i32).max(y as i32) as u32 as u64,
    }
}

fn is_32(t: T) -> bool {
    matches!(t, U32 | S32)
}

fn t_signed(t: T) -> T {
    if is_32(t) { S32 } else { S64 }
}

fn t_unsigned(t: T) -> T {
    if is_32(t) { U32 } else { U64 }
}

fn unkn(t: T) -> R {
    match t {
        U64 => R { a: 0, b: u64::MAX },
        U32 => R {
            a: 0,
            b: u32::MAX as u64,
        },
        S64 => R {
            a: i64::MIN as u64,
            b: i64::MAX as u64,
        },
        S32 => R {
            a: i32::MIN as u32 as u64,
            b: i32::MAX as u32 as u64,
        },
    }
}

fn unkn_subreg(t: T) -> R {
    if t == S32 { unkn(S32) } else { unkn(U32) }
}

fn range(t: T, a: u64, b: u64) -> R {
    match t {
        U64 | S64 => R { a, b },
        U32 => R {
            a: a as u32 as u64,
            b: b as u32 as u64,
        },
        S32 => R {
            a: a as i32 as u32 as u64,
            b: b as i32 as u32 as u64,
        },
    }
}

fn sign64(x: u64) -> u32 {
    (x >> 63) as u32
}
fn sign32(x: u64) -> u32 {
    (x as u32) >> 31
}
fn upper32(x: u64) -> u32 {
    (x >> 32) as u32
}
fn swap_low32(x: u64, y: u32) -> u64 {
    (x & 0xffff_ffff_0000_0000) | y as u64
}

fn range_cast_to_s32(x: R) -> R {
    let (a, b) = (x.a, x.b);
    if upper32(a) == upper32(b) && (a as i32) <= (b as i32) {
        return range(S32, a, b);
    }
    if upper32(a).wrapping_add(1) == upper32(b) && (a as i32) < 0 && (b as i32) >= 0 {
        return range(S32, a, b);
    }
    unkn(S32)
}

fn range_cast(from: T, to: T, x: R) -> R {
    match from {
        U64 => {
            let (a, b) = (x.a, x.b);
            match to {
                U64 => x,
                U32 => {
                    if upper32(a) != upper32(b) {
                        unkn(U32)
                    } else {
                        range(U32, a, b)
                    }
                }
                S64 => {
                    if sign64(a) != sign64(b) {
                        unkn(S64)
                    } else {
                        range(S64, a, b)
                    }
                }
                S32 => range_cast_to_s32(x),
            }
        }
        S64 => {
            let (a, b) = (x.a, x.b);
            match to {
                U64 => {
                    if sign64(a) != sign64(b) {
                        unkn(U64)
                    } else {
                        range(U64, a, b)
                    }
                }
                U32 => {
                    if upper32(a) != upper32(b) || sign32(a) != sign32(b) {
                        unkn(U32)
                    } else {
                        range(U32, a, b)
                    }
                }
                S64 => x,
                S32 => range_cast_to_s32(x),
            }
        }
        U32 => {
            let (a, b) = (x.a as u32 as u64, x.b as u32 as u64);
            match to {
                U64 | S64 => range(to, a, b),
                U32 => x,
                S32 => range_cast_to_s32(range(U32, a, b)),
            }
        }
        S32 => {
            let (a, b) = (x.a as i32 as i64 as u64, x.b as i32 as i64 as u64);
            match to {
                U64 | U32 | S64 => {
                    if sign32(a) != sign32(b) {
                        unkn(to)
                    } else {
                        range(to, a, b)
                    }
                }
                S32 => x,
            }
        }
    }
}

fn is_valid_num(t: T, x: u64) -> bool {
    !is_32(t) || upper32(x) == 0
}

fn is_valid_range(t: T, x: R) -> bool {
    if !is_valid_num(t, x.a) || !is_valid_num(t, x.b) {
        return false;
    }
    match t {
        U64 => x.a <= x.b,
        U32 => (x.a as u32) <= (x.b as u32),
        S64 => (x.a as i64) <= (x.b as i64),
        S32 => (x.a as i32) <= (x.b as i32),
    }
}

fn range_intersection(t: T, old: R, new: R) -> R {
    range(t, max_t(t, old.a, new.a), min_t(t, old.b, new.b))
}

fn range_union(t: T, x: R, y: R) -> R {
    if !is_valid_range(t, x) {
        return y;
    }
    if !is_valid_range(t, y) {
        return x;
    }
    range(t, min_t(t, x.a, y.a), max_t(t, x.b, y.b))
}

fn range_refine_in_halves(x_t: T, x: R, y_t: T, y: R) -> R {
    let (smax, smin, neg_one) = if is_32(x_t) {
        (
            i32::MAX as u32 as u64,
            i32::MIN as u32 as u64,
            u32::MAX as u64,
        )
    } else {
        (i64::MAX as u64, i64::MIN as u64, u64::MAX)
    };
    let x_pos = range_intersection(x_t, x, range(x_t, 0, smax));
    let x_neg = range_intersection(x_t, x, range(x_t, smin, neg_one));
    let y_pos = range_intersection(y_t, y, range(x_t, 0, smax));
    let y_neg = range_intersection(y_t, y, range(y_t, smin, neg_one));
    let r_pos = range_intersection(x_t, x_pos, range_cast(y_t, x_t, y_pos));
    let r_neg = range_intersection(x_t, x_neg, range_cast(y_t, x_t, y_neg));
    range_union(x_t, r_pos, r_neg)
}

fn range_refine(x_t: T, mut x: R, y_t: T, y: R) -> R {
    if is_32(x_t) == is_32(y_t) {
        x = range_refine_in_halves(x_t, x, y_t, y);
    }
    let y_cast = range_cast(y_t, x_t, y);
    if x_t == S64
        && y_t == S32
        && y_cast.a <= i32::MAX as u64
        && y_cast.b <= i32::MAX as u64
        && (x.a as i64) >= i32::MIN as i64
        && (x.b as i64) <= i32::MAX as i64
    {
        return range_intersection(x_t, x, y_cast);
    }
    if is_32(y_t) && !is_32(x_t) {
        let x_swap = range(
            x_t,
            swap_low32(x.a, y_cast.a as u32),
            swap_low32(x.b, y_cast.b as u32),
        );
        if !is_valid_range(x_t, x_swap) {
            return x;
        }
        return range_intersection(x_t, x, x_swap);
    }
    range_intersection(x_t, x, y_cast)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}
const ALL_OPS: [Op; 6] = [Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq, Op::Ne];

fn complement(op: Op) -> Op {
    match op {
        Op::Lt => Op::Ge,
        Op::Le => Op::Gt,
        Op::Gt => Op::Le,
        Op::Ge => Op::Lt,
        Op::Eq => Op::Ne,
        Op::Ne => Op::Eq,
    }
}

/// Compare two values of type `t` (cast like the C macro `(T)`).
fn cmp_t(t: T, x: u64, y: u64) -> std::cmp::Ordering {
    match t {
        U64 => x.cmp(&y),
        U32 => (x as u32).cmp(&(y as u32)),
        S64 => (x as i64).cmp(&(y as i64)),
        S32 => (x as i32).cmp(&(y as i32)),
    }
}

fn eq_t(t: T, x: u64, y: u64) -> bool {
    cmp_t(t, x, y).is_eq()
}

fn range_canbe_op(t: T, x: R, y: R, op: Op) -> bool {
    match op {
        Op::Lt => cmp_t(t, x.a, y.b).is_lt(),
        Op::Le => cmp_t(t, x.a, y.b).is_le(),
        Op::Gt => cmp_t(t, x.b, y.a).is_gt(),
        Op::Ge => cmp_t(t, x.b, y.a).is_ge(),
        Op::Eq => cmp_t(t, max_t(t, x.a, y.a), min_t(t, x.b, y.b)).is_le(),
        Op::Ne => !(eq_t(t, x.a, x.b) && eq_t(t, y.a, y.b) && eq_t(t, x.a, y.a)),
    }
}

fn range_branch_taken_op(t: T, x: R, y: R, op: Op) -> i32 {
    if !range_canbe_op(t, x, y, complement(op)) {
        return 1;
    }
    if !range_canbe_op(t, x, y, op) {
        return 0;
    }
    -1
}

fn range_cond(t: T, x: R, y: R, op: Op) -> (R, R) {
    if !range_canbe_op(t, x, y, op) {
        return (x, y);
    }
    match op {
        Op::Lt => (
            range(t, x.a, min_t(t, x.b, y.b.wrapping_sub(1))),
            range(t, max_t(t, x.a.wrapping_add(1), y.a), y.b),
        ),
        Op::Le => (
            range(t, x.a, min_t(t, x.b, y.b)),
            range(t, max_t(t, x.a, y.a), y.b),
        ),
        Op::Gt => (
            range(t, max_t(t, x.a, y.a.wrapping_add(1)), x.b),
            range(t, y.a, min_t(t, x.b.wrapping_sub(1), y.b)),
        ),
        Op::Ge => (
            range(t, max_t(t, x.a, y.a), x.b),
            range(t, y.a, min_t(t, x.b, y.b)),
        ),
        Op::Eq => {
            let r = range(t, max_t(t, x.a, y.a), min_t(t, x.b, y.b));
            (r, r)
        }
        Op::Ne => {
            if x.a == x.b && x.a == y.a {
                (range(t, x.a, x.b), range(t, y.a.wrapping_add(1), y.b))
            } else if x.a == x.b && x.b == y.b {
                (range(t, x.a, x.b), range(t, y.a, y.b.wrapping_sub(1)))
            } else if y.a == y.b && x.a == y.a {
                (range(t, x.a.wrapping_add(1), x.b), range(t, y.a, y.b))
            } else if y.a == y.b && x.b == y.b {
                (range(t, x.a, x.b.wrapping_sub(1)), range(t, y.a, y.b))
            } else {
                (range(t, x.a, x.b), range(t, y.a, y.b))
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct RegState {
    r: [R; 4],
    valid: bool,
}

fn reg_state_refine(rs: &mut RegState, t: T, x: R) {
    loop {
        let mut keep_going = false;
        for d in ALL_T {
            let old = rs.r[d as usize];
            rs.r[d as usize] = range_refine(d, old, t, x);
            keep_going |= rs.r[d as usize] != old;
        }
        for s in ALL_T {
            for d in ALL_T {
                let old = rs.r[d as usize];
                rs.r[d as usize] = range_refine(d, old, s, rs.r[s as usize]);
                keep_going |= rs.r[d as usize] != old;
            }
        }
        if !keep_going {
            break;
        }
    }
}

fn reg_state_set_const(t: T, val: u64) -> RegState {
    let mut rs = RegState {
        r: ALL_T.map(|tt| {
            if tt == t {
                range(t, val, val)
            } else {
                unkn(tt)
            }
        }),
        valid: true,
    };
    let x = rs.r[t as usize];
    reg_state_refine(&mut rs, t, x);
    rs
}

fn reg_state_cond(t: T, x: &RegState, y: &RegState, op: Op) -> (RegState, RegState) {
    let ts: Vec<T> = if matches!(op, Op::Eq | Op::Ne) {
        vec![t_unsigned(t), t_signed(t)]
    } else {
        vec![t]
    };
    let (mut xx, mut yy) = (*x, *y);
    for t in ts {
        let (z1, z2) = range_cond(t, x.r[t as usize], y.r[t as usize], op);
        reg_state_refine(&mut xx, t, z1);
        reg_state_refine(&mut yy, t, z2);
    }
    (xx, yy)
}

fn reg_state_branch_taken_op(t: T, x: &RegState, y: &RegState, op: Op) -> i32 {
    if matches!(op, Op::Eq | Op::Ne) {
        let tu = t_unsigned(t);
        let ts = t_signed(t);
        let br_u = range_branch_taken_op(tu, x.r[tu as usize], y.r[tu as usize], op);
        let br_s = range_branch_taken_op(ts, x.r[ts as usize], y.r[ts as usize], op);
        assert!(
            !(br_u >= 0 && br_s >= 0 && br_u != br_s),
            "model inconsistency"
        );
        if br_u == -1 && (t == U64 || t == S64) {
            let br = range_branch_taken_op(U32, x.r[U32 as usize], y.r[U32 as usize], op);
            if op == Op::Eq && br == 0 {
                return 0;
            }
            if op == Op::Ne && br == 1 {
                return 1;
            }
            let br = range_branch_taken_op(S32, x.r[S32 as usize], y.r[S32 as usize], op);
            if op == Op::Eq && br == 0 {
                return 0;
            }
            if op == Op::Ne && br == 1 {
                return 1;
            }
        }
        return if br_u >= 0 { br_u } else { br_s };
    }
    range_branch_taken_op(t, x.r[t as usize], y.r[t as usize], op)
}

/// Port of `sim_case`: expected (false r1, false r2, true r1, true r2, branch_taken).
fn sim_case(
    init_t: T,
    cond_t: T,
    x: R,
    y: R,
    op: Op,
) -> (RegState, RegState, RegState, RegState, i32) {
    let z = |t: T| {
        if is_32(init_t) {
            unkn_subreg(t)
        } else {
            unkn(t)
        }
    };
    let base = RegState {
        r: ALL_T.map(z),
        valid: true,
    };
    let (mut fr1, mut fr2) = (base, base);
    let rc = reg_state_set_const(init_t, x.a);
    fr1 = reg_state_cond(init_t, &fr1, &rc, Op::Ge).0;
    let rc = reg_state_set_const(init_t, y.a);
    fr2 = reg_state_cond(init_t, &fr2, &rc, Op::Ge).0;
    let rc = reg_state_set_const(init_t, x.b);
    fr1 = reg_state_cond(init_t, &fr1, &rc, Op::Le).0;
    let rc = reg_state_set_const(init_t, y.b);
    fr2 = reg_state_cond(init_t, &fr2, &rc, Op::Le).0;
    let (mut tr1, mut tr2) = (fr1, fr2);
    let bt = reg_state_branch_taken_op(cond_t, &fr1, &fr2, op);
    let (a, b) = (fr1, fr2);
    fr1.valid = false;
    fr2.valid = false;
    tr1.valid = false;
    tr2.valid = false;
    if bt != 1 {
        let (n1, n2) = reg_state_cond(cond_t, &a, &b, complement(op));
        fr1 = n1;
        fr2 = n2;
        fr1.valid = true;
        fr2.valid = true;
    }
    if bt != 0 {
        let (n1, n2) = reg_state_cond(cond_t, &a, &b, op);
        tr1 = n1;
        tr2 = n2;
        tr1.valid = true;
        tr2.valid = true;
    }
    (fr1, fr2, tr1, tr2, bt)
}

// ---------------------------------------------------------------------------
// Replay of `load_range_cmp_prog` on our domain.
// ---------------------------------------------------------------------------

fn jmp(op: Op, signed: bool) -> JmpOp {
    match (op, signed) {
        (Op::Lt, false) => JmpOp::Jlt,
        (Op::Lt, true) => JmpOp::Jslt,
        (Op::Le, false) => JmpOp::Jle,
        (Op::Le, true) => JmpOp::Jsle,
        (Op::Gt, false) => JmpOp::Jgt,
        (Op::Gt, true) => JmpOp::Jsgt,
        (Op::Ge, false) => JmpOp::Jge,
        (Op::Ge, true) => JmpOp::Jsge,
        (Op::Eq, _) => JmpOp::Jeq,
        (Op::Ne, _) => JmpOp::Jne,
    }
}

/// `if reg <op> k_reg goto out;` and continue on the fall-through path.
fn fallthrough(reg: Scalar, k: Scalar, op: JmpOp, jmp32: bool) -> Scalar {
    Scalar::reg_set_min_max(&reg, &k, op, jmp32)
        .not_taken
        .expect("setup fall-through must be feasible")
        .0
}

fn setup(init_t: T, r: R) -> Scalar {
    let sub = is_32(init_t);
    let signed = matches!(init_t, S64 | S32);
    let unknown = Scalar::unknown();
    let mut reg = if sub {
        Scalar::alu(AluOp::Mov, false, &unknown, &unknown)
    } else {
        unknown
    };
    let (k1, k2) = if sub {
        (
            Scalar::alu(AluOp::Mov, false, &unknown, &Scalar::imm(r.a as u32 as i32)),
            Scalar::alu(AluOp::Mov, false, &unknown, &Scalar::imm(r.b as u32 as i32)),
        )
    } else {
        (Scalar::constant(r.a), Scalar::constant(r.b))
    };
    reg = fallthrough(reg, k1, jmp(Op::Lt, signed), sub);
    fallthrough(reg, k2, jmp(Op::Gt, signed), sub)
}

fn to_state(s: Option<Scalar>) -> RegState {
    match s {
        None => RegState {
            r: [R { a: 0, b: 0 }; 4],
            valid: false,
        },
        Some(s) => RegState {
            r: [
                R {
                    a: s.umin,
                    b: s.umax,
                },
                R {
                    a: s.u32_min as u64,
                    b: s.u32_max as u64,
                },
                R {
                    a: s.smin as u64,
                    b: s.smax as u64,
                },
                R {
                    a: s.s32_min as u32 as u64,
                    b: s.s32_max as u32 as u64,
                },
            ],
            valid: true,
        },
    }
}

fn same(a: &RegState, b: &RegState) -> bool {
    a.valid == b.valid && (!a.valid || a.r == b.r)
}

/// `crafted_cases[]` of 6.12 reg_bounds.c, in source order: (init_t, cond_t, x, y).
fn crafted_cases() -> Vec<(T, T, R, R)> {
    let r = |a: u64, b: u64| R { a, b };
    let u32max = u32::MAX as u64;
    let s32min = i32::MIN as u32 as u64;
    let s32max = i32::MAX as u64;
    let m = |v: i32| v as u32 as u64;
    vec![
        (U64, U64, r(0, 0xffffffff), r(0, 0)),
        (U64, U64, r(0, 0x80000000), r(0, 0)),
        (U64, U64, r(0x100000000, 0x100000100), r(0, 0)),
        (U64, U64, r(0x100000000, 0x180000000), r(0, 0)),
        (U64, U64, r(0x100000000, 0x1ffffff00), r(0, 0)),
        (U64, U64, r(0x100000000, 0x1ffffff01), r(0, 0)),
        (U64, U64, r(0x100000000, 0x1fffffffe), r(0, 0)),
        (U64, U64, r(0x100000001, 0x1000000ff), r(0, 0)),
        (U64, U64, r(0, 1), r(1, 0x80000000)),
        (U64, S64, r(0, 1), r(1, 0x80000000)),
        (U64, U32, r(0, 1), r(1, 0x80000000)),
        (U64, S32, r(0, 1), r(1, 0x80000000)),
        (U64, S64, r(0, 0xffffffff00000000), r(0, 0)),
        (U64, S64, r(0x7fffffffffffffff, 0xffffffff00000000), r(0, 0)),
        (U64, S64, r(0x7fffffff00000001, 0xffffffff00000000), r(0, 0)),
        (U64, S64, r(0, 0xffffffff), r(1, 1)),
        (U64, S64, r(0, 0xffffffff), r(0x7fffffff, 0x7fffffff)),
        (U64, U32, r(0, 0x100000000), r(0, 0)),
        (
            U64,
            U32,
            r(0xfffffffe, 0x100000000),
            r(0x80000000, 0x80000000),
        ),
        (U64, S32, r(0, 0xffffffff00000000), r(0, 0)),
        (U64, S32, r(0, 0x0ffffffff), r(0, 0)),
        (U64, S32, r(0, 0x100000000), r(0, 0)),
        (U64, S32, r(0, 0x100000001), r(0, 0)),
        (U64, S32, r(0, 0x180000000), r(0, 0)),
        (U64, S32, r(0, 0x17fffffff), r(0, 0)),
        (U64, S32, r(0, 0x180000001), r(0, 0)),
        (
            S64,
            S64,
            r(0xffffffffffffffff, 0),
            r(0xffffffff00000000, 0xffffffff00000000),
        ),
        (U64, U64, r(0xffffffff, 0x100000000), r(0, 0)),
        (U64, U64, r(0xffffffff, 0x100000001), r(0, 0)),
        (
            S64,
            U64,
            r(0xffffffff00000001, 0),
            r(0xffffffff00000000, 0xffffffff00000000),
        ),
        (U32, U32, r(1, u32max), r(0, 0)),
        (U32, S32, r(0, u32max), r(u32max, u32max)),
        (S32, U64, r(s32min, s32min), r(m(-255), 0)),
        (S32, S64, r(s32min, m(-255)), r(m(-2), 0)),
        (S32, S64, r(0, 1), r(s32min, s32min)),
        (S32, U32, r(s32min, s32min), r(s32min, s32min)),
        (U64, U64, r(0, u64::MAX), r(u64::MAX, u64::MAX)),
        (U64, U64, r(0, u64::MAX), r(0, 0)),
        (
            S64,
            U64,
            r(i64::MIN as u64, 0),
            r(i64::MIN as u64, i64::MIN as u64),
        ),
        (S64, U64, r(i64::MIN as u64, 0), r(0, 0)),
        (
            S64,
            U64,
            r(i64::MIN as u64, i64::MAX as u64),
            r(i64::MAX as u64, i64::MAX as u64),
        ),
        (U32, U32, r(0, u32max), r(0, 0)),
        (U32, U32, r(0, u32max), r(u32max, u32max)),
        (S32, U32, r(s32min, 0), r(0, 0)),
        (S32, U32, r(s32min, 0), r(s32min, s32min)),
        (S32, U32, r(s32min, s32max), r(s32max, s32max)),
        (
            S64,
            U32,
            r(0x0, 0x1f),
            r(0xffffffff80000000, 0x000000007fffffff),
        ),
        (
            S64,
            U32,
            r(0x0, 0x1f),
            r(0xffffffffffff8000, 0x0000000000007fff),
        ),
        (
            S64,
            U32,
            r(0x0, 0x1f),
            r(0xffffffffffffff80, 0x000000000000007f),
        ),
    ]
}

#[test]
fn reg_bounds_crafted_parity() {
    let cases = crafted_cases();
    assert_eq!(cases.len(), 49, "transcription of crafted_cases[] changed");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (i, &(init_t, cond_t, x, y)) in cases.iter().enumerate() {
        for (xx, yy) in [(x, y), (y, x)] {
            for op in ALL_OPS {
                let (fe1, fe2, te1, te2, bt) = sim_case(init_t, cond_t, xx, yy, op);
                let r6 = setup(init_t, xx);
                let r7 = setup(init_t, yy);
                let cmp32 = is_32(cond_t);
                let signed = matches!(cond_t, S64 | S32);
                let br = Scalar::reg_set_min_max(&r6, &r7, jmp(op, signed), cmp32);
                let ours_bt = match Scalar::branch_taken(&r6, &r7, jmp(op, signed), cmp32) {
                    Some(true) => 1,
                    Some(false) => 0,
                    None => -1,
                };
                let got = [
                    to_state(br.not_taken.map(|p| p.0)),
                    to_state(br.not_taken.map(|p| p.1)),
                    to_state(br.taken.map(|p| p.0)),
                    to_state(br.taken.map(|p| p.1)),
                ];
                let want = [fe1, fe2, te1, te2];
                let ok = ours_bt == bt
                    && !br.invariant_violation
                    && got.iter().zip(want.iter()).all(|(g, w)| same(g, w));
                checked += 1;
                if !ok {
                    failures.push(format!(
                        "reg_bounds.c crafted_cases[{i}] ({init_t:?}) {xx:x?} ({cond_t:?}) {op:?} {yy:x?}: \
                         branch_taken ours={ours_bt} kernel={bt}\n  r6={r6:?}\n  r7={r7:?}\n  got ={got:x?}\n  want={want:x?}"
                    ));
                }
            }
        }
    }
    assert_eq!(checked, 49 * 2 * 6);
    assert!(
        failures.is_empty(),
        "{} of {checked} parity cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Seeds of `gen_vals()` in reg_bounds.c (`upper_seeds` x `lower_seeds`).
fn gen_vals() -> Vec<u64> {
    let upper: [u32; 6] = [
        0,
        1,
        u32::MAX,
        u32::MAX - 1,
        i32::MAX as u32,
        i32::MIN as u32,
    ];
    let lower: [u32; 10] = [
        0,
        1,
        2,
        -2i32 as u32,
        255,
        -255i32 as u32,
        u32::MAX,
        u32::MAX - 1,
        i32::MAX as u32,
        i32::MIN as u32,
    ];
    let mut v: Vec<u64> = upper
        .iter()
        .flat_map(|&u| lower.iter().map(move |&l| ((u as u64) << 32) | l as u64))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Differential check against the same model on a deterministic sample of the
/// SLOW_TESTS generated cases (`validate_gen_range_vs_const_64`): ranges built
/// from the seed values versus seed constants, every 64-bit init type and
/// every comparison domain. Not counted as parity (the kernel only checks
/// these with SLOW_TESTS=1), but the model is the kernel's specification.
#[test]
fn reg_bounds_generated_sample_matches_model() {
    let vals = gen_vals();
    let mut n = 0usize;
    let mut failures = Vec::new();
    for init_t in [U64, S64] {
        let mut sorted = vals.clone();
        if init_t == S64 {
            sorted.sort_by_key(|&v| v as i64);
        }
        let mut k = 0usize;
        for i in 0..sorted.len() {
            for j in i..sorted.len() {
                k += 1;
                if !k.is_multiple_of(13) {
                    continue;
                }
                let rr = R {
                    a: sorted[i],
                    b: sorted[j],
                };
                let c = sorted[(i * 7 + j) % sorted.len()];
                let rc = R { a: c, b: c };
                for cond_t in ALL_T {
                    for (xx, yy) in [(rr, rc), (rc, rr)] {
                        for op in ALL_OPS {
                            n += 1;
                            let (fe1, fe2, te1, te2, bt) = sim_case(init_t, cond_t, xx, yy, op);
                            let r6 = setup(init_t, xx);
                            let r7 = setup(init_t, yy);
                            let (cmp32, signed) = (is_32(cond_t), matches!(cond_t, S64 | S32));
                            let br = Scalar::reg_set_min_max(&r6, &r7, jmp(op, signed), cmp32);
                            let got = [
                                to_state(br.not_taken.map(|p| p.0)),
                                to_state(br.not_taken.map(|p| p.1)),
                                to_state(br.taken.map(|p| p.0)),
                                to_state(br.taken.map(|p| p.1)),
                            ];
                            let want = [fe1, fe2, te1, te2];
                            let ours_bt = match (br.taken.is_some(), br.not_taken.is_some()) {
                                (true, false) => 1,
                                (false, true) => 0,
                                _ => -1,
                            };
                            if ours_bt != bt
                                || !got.iter().zip(want.iter()).all(|(g, w)| same(g, w))
                            {
                                failures.push(format!(
                                    "({init_t:?}) {xx:x?} ({cond_t:?}) {op:?} {yy:x?}: bt ours={ours_bt} model={bt}\n got ={got:x?}\n want={want:x?}"
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    eprintln!("generated range-vs-const sample: {n} cases");
    assert!(n > 1000);
    assert!(
        failures.is_empty(),
        "{} of {n} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

/// Same differential check for 32-bit initial ranges (`usubvals`/`ssubvals`)
/// and for range-vs-range combinations, sampled deterministically.
#[test]
fn reg_bounds_generated_sample_32bit_and_ranges_match_model() {
    let lower: Vec<u64> = {
        let mut v: Vec<u64> = [
            0u32,
            1,
            2,
            -2i32 as u32,
            255,
            -255i32 as u32,
            u32::MAX,
            u32::MAX - 1,
            i32::MAX as u32,
            i32::MIN as u32,
        ]
        .iter()
        .map(|&x| x as u64)
        .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let vals64 = gen_vals();
    let mut n = 0usize;
    let mut failures = Vec::new();
    for init_t in ALL_T {
        let mut vals = if is_32(init_t) {
            lower.clone()
        } else {
            vals64.clone()
        };
        match init_t {
            S64 => vals.sort_by_key(|&v| v as i64),
            S32 => vals.sort_by_key(|&v| v as u32 as i32),
            _ => {}
        }
        let mut ranges = Vec::new();
        for i in 0..vals.len() {
            for j in i..vals.len() {
                ranges.push(R {
                    a: vals[i],
                    b: vals[j],
                });
            }
        }
        let step = if is_32(init_t) { 3 } else { 97 };
        for (ix, &x) in ranges.iter().enumerate().step_by(step) {
            let y = ranges[(ix * 31 + 7) % ranges.len()];
            for cond_t in ALL_T {
                for op in ALL_OPS {
                    n += 1;
                    let (fe1, fe2, te1, te2, bt) = sim_case(init_t, cond_t, x, y, op);
                    let r6 = setup(init_t, x);
                    let r7 = setup(init_t, y);
                    let (cmp32, signed) = (is_32(cond_t), matches!(cond_t, S64 | S32));
                    let br = Scalar::reg_set_min_max(&r6, &r7, jmp(op, signed), cmp32);
                    let got = [
                        to_state(br.not_taken.map(|p| p.0)),
                        to_state(br.not_taken.map(|p| p.1)),
                        to_state(br.taken.map(|p| p.0)),
                        to_state(br.taken.map(|p| p.1)),
                    ];
                    let want = [fe1, fe2, te1, te2];
                    let ours_bt = match (br.taken.is_some(), br.not_taken.is_some()) {
                        (true, false) => 1,
                        (false, true) => 0,
                        _ => -1,
                    };
                    if ours_bt != bt || !got.iter().zip(want.iter()).all(|(g, w)| same(g, w)) {
                        failures.push(format!(
                            "({init_t:?}) {x:x?} ({cond_t:?}) {op:?} {y:x?}: bt ours={ours_bt} model={bt}\n got ={got:x?}\n want={want:x?}"
                        ));
                    }
                }
            }
        }
    }
    eprintln!("generated 32-bit/range sample: {n} cases");
    assert!(n > 1000, "{n}");
    assert!(
        failures.is_empty(),
        "{} of {n} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}
