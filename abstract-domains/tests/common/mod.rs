//! Shared helpers for the integration tests: concrete BPF semantics and
//! generators of abstract scalars that contain known concrete values.
#![allow(dead_code)]

use bpfproof_domains::{AluOp, Endian, Scalar};
use proptest::prelude::*;

/// Concrete result of a BPF ALU instruction (`is_64` selects ALU64).
pub fn concrete_alu(op: AluOp, is_64: bool, x: u64, y: u64) -> u64 {
    if let AluOp::End(kind, bits) = op {
        return match (kind, bits) {
            (Endian::ToLe, 16) => x as u16 as u64,
            (Endian::ToLe, 32) => x as u32 as u64,
            (Endian::ToLe, _) => x,
            (_, 16) => (x as u16).swap_bytes() as u64,
            (_, 32) => (x as u32).swap_bytes() as u64,
            (_, _) => x.swap_bytes(),
        };
    }
    if is_64 {
        let (sx, sy) = (x as i64, y as i64);
        match op {
            AluOp::Add => x.wrapping_add(y),
            AluOp::Sub => x.wrapping_sub(y),
            AluOp::Mul => x.wrapping_mul(y),
            AluOp::Div => x.checked_div(y).unwrap_or(0),
            AluOp::Sdiv => {
                if sy == 0 {
                    0
                } else {
                    sx.wrapping_div(sy) as u64
                }
            }
            AluOp::Mod => {
                if y == 0 {
                    x
                } else {
                    x % y
                }
            }
            AluOp::Smod => {
                if sy == 0 {
                    x
                } else {
                    sx.wrapping_rem(sy) as u64
                }
            }
            AluOp::Or => x | y,
            AluOp::And => x & y,
            AluOp::Xor => x ^ y,
            AluOp::Lsh => x << (y & 63),
            AluOp::Rsh => x >> (y & 63),
            AluOp::Arsh => (sx >> (y & 63)) as u64,
            AluOp::Neg => x.wrapping_neg(),
            AluOp::Mov => y,
            AluOp::Movsx8 => y as u8 as i8 as i64 as u64,
            AluOp::Movsx16 => y as u16 as i16 as i64 as u64,
            AluOp::Movsx32 => y as u32 as i32 as i64 as u64,
            AluOp::End(..) => unreachable!(),
        }
    } else {
        let (x, y) = (x as u32, y as u32);
        let (sx, sy) = (x as i32, y as i32);
        let r: u32 = match op {
            AluOp::Add => x.wrapping_add(y),
            AluOp::Sub => x.wrapping_sub(y),
            AluOp::Mul => x.wrapping_mul(y),
            AluOp::Div => x.checked_div(y).unwrap_or(0),
            AluOp::Sdiv => {
                if sy == 0 {
                    0
                } else {
                    sx.wrapping_div(sy) as u32
                }
            }
            AluOp::Mod => {
                if y == 0 {
                    x
                } else {
                    x % y
                }
            }
            AluOp::Smod => {
                if sy == 0 {
                    x
                } else {
                    sx.wrapping_rem(sy) as u32
                }
            }
            AluOp::Or => x | y,
            AluOp::And => x & y,
            AluOp::Xor => x ^ y,
            AluOp::Lsh => x << (y & 31),
            AluOp::Rsh => x >> (y & 31),
            AluOp::Arsh => (sx >> (y & 31)) as u32,
            AluOp::Neg => x.wrapping_neg(),
            AluOp::Mov | AluOp::Movsx32 => y,
            AluOp::Movsx8 => y as u8 as i8 as i32 as u32,
            AluOp::Movsx16 => y as u16 as i16 as i32 as u32,
            AluOp::End(..) => unreachable!(),
        };
        r as u64
    }
}

/// Every ALU op the crate models, with the 64-bit flags the kernel accepts.
pub fn all_ops() -> Vec<(AluOp, bool)> {
    use AluOp::*;
    let mut v = Vec::new();
    for op in [
        Add, Sub, Mul, Div, Sdiv, Mod, Smod, Or, And, Lsh, Rsh, Neg, Xor, Mov, Movsx8, Movsx16,
        Arsh,
    ] {
        v.push((op, true));
        v.push((op, false));
    }
    v.push((Movsx32, true));
    for bits in [16u8, 32, 64] {
        v.push((End(Endian::ToLe, bits), false));
        v.push((End(Endian::ToBe, bits), false));
        v.push((End(Endian::Bswap, bits), true));
    }
    v
}

/// An interesting 64-bit value: small, near sign/width boundaries, powers of two or random.
pub fn interesting_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => 0u64..70,
        2 => (0u64..64).prop_map(|k| (-(k as i64)) as u64),
        1 => (0u32..64, 0u64..3).prop_map(|(s, d)| (1u64 << s).wrapping_add(d).wrapping_sub(1)),
        1 => (0u64..8).prop_map(|d| (u32::MAX as u64).wrapping_add(d).wrapping_sub(4)),
        1 => (0u64..8).prop_map(|d| (i32::MAX as u64).wrapping_add(d).wrapping_sub(4)),
        1 => (0u64..8).prop_map(|d| (i64::MAX as u64).wrapping_add(d).wrapping_sub(4)),
        1 => (0u64..8).prop_map(|d| (i32::MIN as i64 as u64).wrapping_add(d).wrapping_sub(4)),
        2 => any::<u64>(),
        1 => any::<u32>().prop_map(|v| v as u64),
        1 => any::<i32>().prop_map(|v| v as i64 as u64),
    ]
}

/// A non-empty set of concrete values, usually clustered so that ranges stay tight.
pub fn concrete_set() -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![
        2 => interesting_u64().prop_map(|v| vec![v]),
        3 => (interesting_u64(), prop::collection::vec(0u64..40, 0..4))
            .prop_map(|(b, ds)| {
                let mut v = vec![b];
                v.extend(ds.iter().map(|d| b.wrapping_add(*d)));
                v
            }),
        2 => (interesting_u64(), prop::collection::vec(-20i64..20, 0..4))
            .prop_map(|(b, ds)| {
                let mut v = vec![b];
                v.extend(ds.iter().map(|d| b.wrapping_add(*d as u64)));
                v
            }),
        2 => prop::collection::vec(interesting_u64(), 1..5),
    ]
}

/// Widening applied to the exact hull of a set, to produce less tight abstract inputs.
#[derive(Clone, Copy, Debug)]
pub struct Widen {
    pub kind: u8,
    pub a: u64,
}

/// A random widening choice.
pub fn widen() -> impl Strategy<Value = Widen> {
    (0u8..8, any::<u64>()).prop_map(|(kind, a)| Widen { kind, a })
}

/// Hull of the constants in `set`, optionally widened, then synced: always contains `set`.
pub fn abstract_of(set: &[u64], w: Widen) -> Scalar {
    let mut r = Scalar::constant(set[0]);
    for &x in &set[1..] {
        r = r.join(&Scalar::constant(x));
    }
    match w.kind {
        0 => r.umax = r.umax.max(w.a),
        1 => r.umin = r.umin.min(w.a),
        2 => r.smin = r.smin.min(w.a as i64),
        3 => r.smax = r.smax.max(w.a as i64),
        4 => {
            r.var_off = r
                .var_off
                .union(bpfproof_domains::Tnum::constant(w.a & 0xff));
            r.u32_max = r.u32_max.max(w.a as u32);
        }
        5 => {
            r.s32_min = r.s32_min.min(w.a as i32);
            r.u32_min = r.u32_min.min(w.a as u32);
        }
        6 => r = Scalar::unknown(),
        _ => {}
    }
    r.sync();
    for &x in set {
        assert!(r.contains(x), "generator lost {x:#x}: {r:?}");
    }
    assert!(r.is_valid(), "generator produced invalid {r:?}");
    r
}
