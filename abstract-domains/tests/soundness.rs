//! Property tests: every transfer function and refinement over-approximates
//! the concrete semantics (no feasible concrete value is ever dropped).

mod common;

use bpfproof_domains::{JmpOp, KernelFeatures, Scalar, Tnum, range_within, scalar_subsumes};
use common::*;
use proptest::prelude::*;

const JMP_OPS: [JmpOp; 11] = [
    JmpOp::Jeq,
    JmpOp::Jne,
    JmpOp::Jgt,
    JmpOp::Jge,
    JmpOp::Jlt,
    JmpOp::Jle,
    JmpOp::Jsgt,
    JmpOp::Jsge,
    JmpOp::Jslt,
    JmpOp::Jsle,
    JmpOp::Jset,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 30000, .. ProptestConfig::default() })]

    #[test]
    fn alu_is_sound(op_idx in 0usize..64, s1 in concrete_set(), w1 in widen(),
                    s2 in concrete_set(), w2 in widen()) {
        let ops = all_ops();
        let (op, is_64) = ops[op_idx % ops.len()];
        let a = abstract_of(&s1, w1);
        let b = abstract_of(&s2, w2);
        // default (Linux 6.12) and the post-6.12 feature set
        for f in [KernelFeatures::LINUX_6_12, KernelFeatures::BPF_NEXT_SNAPSHOT] {
            let r = Scalar::alu_with(f, op, is_64, &a, &b);
            prop_assert!(r.is_valid(), "{op:?} {is_64} invalid result {r:?}");
            let (p, fork) = Scalar::alu_forked_with(f, op, is_64, &a, &b);
            for &x in &s1 {
                for &y in &s2 {
                    let c = concrete_alu(op, is_64, x, y);
                    prop_assert!(r.contains(c),
                        "{op:?} is_64={is_64} {f:?}: {x:#x} op {y:#x} = {c:#x} not in {r:?}\n dst={a:?}\n src={b:?}");
                    prop_assert!(p.contains(c) || fork.is_some_and(|q| q.contains(c)));
                }
            }
        }
    }

    #[test]
    fn alu_with_const_src_is_sound(op_idx in 0usize..64, s1 in concrete_set(), w1 in widen(),
                                   y in interesting_u64(), small in 0u64..64, use_small in any::<bool>()) {
        let ops = all_ops();
        let (op, is_64) = ops[op_idx % ops.len()];
        let y = if use_small { small } else { y };
        let a = abstract_of(&s1, w1);
        let b = Scalar::constant(y);
        for f in [KernelFeatures::LINUX_6_12, KernelFeatures::BPF_NEXT_SNAPSHOT] {
            let r = Scalar::alu_with(f, op, is_64, &a, &b);
            prop_assert!(r.is_valid());
            for &x in &s1 {
                let c = concrete_alu(op, is_64, x, y);
                prop_assert!(r.contains(c),
                    "{op:?} is_64={is_64} {f:?}: {x:#x} op {y:#x} = {c:#x} not in {r:?}\n dst={a:?}");
            }
        }
    }

    #[test]
    fn branches_are_sound(op_idx in 0usize..11, is_32 in any::<bool>(),
                          s1 in concrete_set(), w1 in widen(),
                          s2 in concrete_set(), w2 in widen(), const_src in any::<bool>()) {
        let op = JMP_OPS[op_idx];
        let a = abstract_of(&s1, w1);
        let (s2, b) = if const_src {
            (vec![s2[0]], Scalar::constant(s2[0]))
        } else {
            let b = abstract_of(&s2, w2);
            (s2, b)
        };
        let taken = Scalar::branch_taken(&a, &b, op, is_32);
        let br = Scalar::reg_set_min_max(&a, &b, op, is_32);
        for &x in &s1 {
            for &y in &s2 {
                let c = op.eval(x, y, is_32);
                if let Some(t) = taken {
                    prop_assert_eq!(t, c, "{:?} jmp32={} decided wrongly for {:#x},{:#x}: {:?} {:?}", op, is_32, x, y, a, b);
                }
                let side = if c { br.taken } else { br.not_taken };
                let (ra, rb) = side.ok_or_else(|| TestCaseError::fail(format!(
                    "{op:?} jmp32={is_32} feasible side dropped for {x:#x},{y:#x}: {a:?} {b:?}")))?;
                prop_assert!(ra.contains(x) && rb.contains(y),
                    "{op:?} jmp32={is_32} c={c}: {x:#x},{y:#x} lost\n a={a:?}\n b={b:?}\n ra={ra:?}\n rb={rb:?}");
            }
        }
    }

    #[test]
    fn same_reg_branch_is_sound(op_idx in 0usize..11, is_32 in any::<bool>(), s in concrete_set(), w in widen()) {
        let op = JMP_OPS[op_idx];
        let a = abstract_of(&s, w);
        for f in [KernelFeatures::LINUX_6_12, KernelFeatures::BPF_NEXT_SNAPSHOT] {
            if let Some(t) = Scalar::branch_taken_same_reg_with(f, &a, op, is_32) {
                for &x in &s {
                    prop_assert_eq!(op.eval(x, x, is_32), t);
                }
            }
        }
        // 6.12 aliased refinement keeps every concrete value of the feasible side
        let br = Scalar::reg_set_min_max_same_reg(&a, op, is_32);
        for &x in &s {
            let side = if op.eval(x, x, is_32) { br.taken } else { br.not_taken };
            let (r, r2) = side.ok_or_else(|| TestCaseError::fail(format!("{op:?} side dropped for {x:#x}")))?;
            prop_assert_eq!(r, r2);
            prop_assert!(r.contains(x), "{:?} jmp32={} {:#x} lost: {:?} -> {:?}", op, is_32, x, a, r);
        }
    }

    #[test]
    fn join_and_subsumption(s1 in concrete_set(), w1 in widen(), s2 in concrete_set(), w2 in widen()) {
        let a = abstract_of(&s1, w1);
        let b = abstract_of(&s2, w2);
        let j = a.join(&b);
        prop_assert!(j.is_valid());
        for &x in s1.iter().chain(s2.iter()) {
            prop_assert!(j.contains(x));
        }
        // the joined value subsumes its (synced) parts whenever both are kernel-normalised
        prop_assert!(scalar_subsumes(&j, &a, false));
        if range_within(&j, &a) && j.var_off.contains_tnum(a.var_off) {
            prop_assert!(scalar_subsumes(&j, &a, true));
        }
        prop_assert!(scalar_subsumes(&a, &a, true));
    }

    #[test]
    fn sync_is_sound_and_idempotent_enough(s in concrete_set(), w in widen()) {
        let a = abstract_of(&s, w);
        let b = a.synced();
        for &x in &s {
            prop_assert!(b.contains(x));
        }
        prop_assert!(range_within(&a, &b));
        prop_assert!(a.var_off.contains_tnum(b.var_off));
    }

    #[test]
    fn tnum_ops_are_sound(x in any::<u64>(), y in any::<u64>(), mx in any::<u64>(), my in any::<u64>(),
                          sx in any::<u64>(), sy in any::<u64>(), sh in 0u8..64) {
        // tnums a, b with unknown bits mx/my, concrete members x, y
        let a = Tnum::new(x & !mx, mx & sx);
        let b = Tnum::new(y & !my, my & sy);
        let cx = (x & !mx) | (x & a.mask);
        let cy = (y & !my) | (y & b.mask);
        prop_assert!(a.contains(cx) && b.contains(cy));
        prop_assert!(a.add(b).contains(cx.wrapping_add(cy)));
        prop_assert!(a.sub(b).contains(cx.wrapping_sub(cy)));
        prop_assert!(a.mul(b).contains(cx.wrapping_mul(cy)));
        prop_assert!(a.mul_union(b).contains(cx.wrapping_mul(cy)));
        prop_assert!(a.and(b).contains(cx & cy));
        prop_assert!(a.or(b).contains(cx | cy));
        prop_assert!(a.xor(b).contains(cx ^ cy));
        prop_assert!(a.neg().contains(cx.wrapping_neg()));
        prop_assert!(a.lshift(sh).contains(cx << sh));
        prop_assert!(a.rshift(sh).contains(cx >> sh));
        prop_assert!(a.arshift(sh, 64).contains(((cx as i64) >> sh) as u64));
        prop_assert!(a.arshift(sh % 32, 32).contains(((cx as u32 as i32) >> (sh % 32)) as u32 as u64));
        prop_assert!(a.union(b).contains(cx) && a.union(b).contains(cy));
        prop_assert!(a.overlap(a));
        if a.contains(cy) {
            prop_assert!(a.overlap(b));
            prop_assert!(a.intersect(b).contains(cy));
        }
        prop_assert!(a.bswap64().contains(cx.swap_bytes()));
        prop_assert!(a.bswap32().contains((cx as u32).swap_bytes() as u64));
        prop_assert!(a.bswap16().contains((cx as u16).swap_bytes() as u64));
        prop_assert!(Tnum::range(cx.min(cy), cx.max(cy)).contains(cx));
        prop_assert!(Tnum::range(cx.min(cy), cx.max(cy)).contains(cy));
    }
}
