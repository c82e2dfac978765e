//! Exhaustive soundness of tnum operations at small width: every well-formed
//! 5-bit tnum pair, every concrete member pair. Patterns are placed both in the
//! low bits and in the top bits (shifted to the top) so that carries and sign bits
//! of the 64-bit operations are exercised.

use bpfproof_domains::Tnum;

/// All well-formed tnums over the low `bits` bits.
fn all_tnums(bits: u32) -> Vec<Tnum> {
    let n = 1u64 << bits;
    let mut v = Vec::new();
    for mask in 0..n {
        for value in 0..n {
            if value & mask == 0 {
                v.push(Tnum::new(value, mask));
            }
        }
    }
    v
}

/// Concrete members of a tnum over the low `bits` bits.
fn members(t: Tnum, bits: u32) -> Vec<u64> {
    (0..1u64 << bits).filter(|&x| t.contains(x)).collect()
}

fn place(t: Tnum, shift: u32) -> Tnum {
    Tnum::new(t.value << shift, t.mask << shift)
}

#[test]
fn binary_ops_sound_exhaustive_5bit() {
    const BITS: u32 = 5;
    let ts = all_tnums(BITS);
    assert_eq!(ts.len(), 243);
    for shift in [0u32, 64 - BITS] {
        for &a0 in &ts {
            let ma = members(a0, BITS);
            let a = place(a0, shift);
            for &b0 in &ts {
                let mb = members(b0, BITS);
                let b = place(b0, shift);
                let (add, sub, mul, mulu) = (a.add(b), a.sub(b), a.mul(b), a.mul_union(b));
                let (and, or, xor) = (a.and(b), a.or(b), a.xor(b));
                let (uni, ovl) = (a.union(b), a.overlap(b));
                for &x0 in &ma {
                    let x = x0 << shift;
                    for &y0 in &mb {
                        let y = y0 << shift;
                        assert!(add.contains(x.wrapping_add(y)), "add {a:?} {b:?} {x} {y}");
                        assert!(sub.contains(x.wrapping_sub(y)), "sub {a:?} {b:?} {x} {y}");
                        assert!(mul.contains(x.wrapping_mul(y)), "mul {a:?} {b:?} {x} {y}");
                        assert!(mulu.contains(x.wrapping_mul(y)), "mul_union {a:?} {b:?}");
                        assert!(and.contains(x & y));
                        assert!(or.contains(x | y));
                        assert!(xor.contains(x ^ y));
                        assert!(uni.contains(x) && uni.contains(y));
                        if x == y {
                            assert!(ovl, "overlap must hold when a member is shared");
                            assert!(a.intersect(b).contains(x));
                        }
                    }
                }
                // tnum_in agrees with set inclusion
                let incl = mb.iter().all(|&y| ma.contains(&y));
                assert_eq!(a.contains_tnum(b), incl, "tnum_in {a:?} {b:?}");
            }
        }
    }
}

#[test]
fn unary_ops_sound_exhaustive_6bit() {
    const BITS: u32 = 6;
    for shift in [0u32, 64 - BITS] {
        for a0 in all_tnums(BITS) {
            let a = place(a0, shift);
            let ms: Vec<u64> = members(a0, BITS).into_iter().map(|x| x << shift).collect();
            let neg = a.neg();
            for s in 0u8..64 {
                let (l, r, ar) = (a.lshift(s), a.rshift(s), a.arshift(s, 64));
                let ar32 = a.arshift(s % 32, 32);
                for &x in &ms {
                    assert!(l.contains(x << s));
                    assert!(r.contains(x >> s));
                    assert!(ar.contains(((x as i64) >> s) as u64));
                    assert!(ar32.contains(((x as u32 as i32) >> (s % 32)) as u32 as u64));
                }
            }
            for &x in &ms {
                assert!(neg.contains(x.wrapping_neg()));
                assert!(a.subreg().contains(x as u32 as u64));
                assert!(a.cast(1).contains(x as u8 as u64));
                assert!(a.bswap16().contains((x as u16).swap_bytes() as u64));
            }
        }
    }
}

#[test]
fn range_is_tight_prefix_exhaustive_8bit() {
    for min in 0u64..256 {
        for max in min..256 {
            let t = Tnum::range(min, max);
            for x in min..=max {
                assert!(t.contains(x));
            }
            // only the differing suffix is unknown
            let bits = 64 - (min ^ max).leading_zeros();
            assert_eq!(t.mask, (1u64 << bits) - 1);
        }
    }
}
