//! Tracked numbers ("tnums"): per-bit knowledge of a 64-bit value, as in the
//! kernel's `kernel/bpf/tnum.c`.
//!
//! A bit whose `mask` bit is set is unknown (`x`); otherwise it is known and
//! equal to the corresponding `value` bit. Well-formed tnums satisfy
//! `value & mask == 0`.

use std::fmt;

/// A tristate number: `value` holds the known bits, `mask` marks unknown bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Tnum {
    /// Known bit values (bits set in `mask` are always 0 here).
    pub value: u64,
    /// Unknown bits.
    pub mask: u64,
}

/// Index (1-based) of the most significant set bit; 0 for 0 (kernel `fls64`).
fn fls64(x: u64) -> u32 {
    64 - x.leading_zeros()
}

impl Tnum {
    /// The completely unknown value (kernel `tnum_unknown`).
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    /// Build a tnum from raw value and mask (no normalisation; kernel `TNUM()`).
    pub const fn new(value: u64, mask: u64) -> Tnum {
        Tnum { value, mask }
    }

    /// A known constant (kernel `tnum_const`).
    pub const fn constant(value: u64) -> Tnum {
        Tnum { value, mask: 0 }
    }

    /// Smallest tnum of the form prefix+unknown-suffix covering `[min, max]` (kernel `tnum_range`).
    pub fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        let bits = fls64(chi);
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum::new(min & !delta, delta)
    }

    /// Shift left by a fixed amount (kernel `tnum_lshift`; shift is taken mod 64 like u8 C shifts < 64).
    pub fn lshift(self, shift: u8) -> Tnum {
        Tnum::new(
            self.value.wrapping_shl(shift as u32),
            self.mask.wrapping_shl(shift as u32),
        )
    }

    /// Logical shift right by a fixed amount (kernel `tnum_rshift`).
    pub fn rshift(self, shift: u8) -> Tnum {
        Tnum::new(
            self.value.wrapping_shr(shift as u32),
            self.mask.wrapping_shr(shift as u32),
        )
    }

    /// Arithmetic shift right at 32 or 64 bits (kernel `tnum_arshift`; 32-bit results are zero-extended).
    pub fn arshift(self, min_shift: u8, insn_bitness: u8) -> Tnum {
        if insn_bitness == 32 {
            Tnum::new(
                ((self.value as u32 as i32).wrapping_shr(min_shift as u32)) as u32 as u64,
                ((self.mask as u32 as i32).wrapping_shr(min_shift as u32)) as u32 as u64,
            )
        } else {
            Tnum::new(
                ((self.value as i64).wrapping_shr(min_shift as u32)) as u64,
                ((self.mask as i64).wrapping_shr(min_shift as u32)) as u64,
            )
        }
    }

    /// Addition `a + b` (kernel `tnum_add`).
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, b: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(b.mask);
        let sv = self.value.wrapping_add(b.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | b.mask;
        Tnum::new(sv & !mu, mu)
    }

    /// Subtraction `a - b` (kernel `tnum_sub`).
    #[allow(clippy::should_implement_trait)]
    pub fn sub(self, b: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(b.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(b.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | b.mask;
        Tnum::new(dv & !mu, mu)
    }

    /// Two's complement negation `-a` (`tnum_sub(0, a)`; no `tnum_neg` in 6.12, used only by the post-6.12 `BPF_NEG` feature).
    #[allow(clippy::should_implement_trait)]
    pub fn neg(self) -> Tnum {
        Tnum::constant(0).sub(self)
    }

    /// Bitwise AND (kernel `tnum_and`).
    pub fn and(self, b: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = b.value | b.mask;
        let v = self.value & b.value;
        Tnum::new(v, alpha & beta & !v)
    }

    /// Bitwise OR (kernel `tnum_or`).
    pub fn or(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask | b.mask;
        Tnum::new(v, mu & !v)
    }

    /// Bitwise XOR (kernel `tnum_xor`).
    pub fn xor(self, b: Tnum) -> Tnum {
        let v = self.value ^ b.value;
        let mu = self.mask | b.mask;
        Tnum::new(v & !mu, mu)
    }

    /// Multiplication with the CGO'22 algorithm (kernel `tnum_mul`, identical in 6.12 tnum.c).
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, b: Tnum) -> Tnum {
        let mut a = self;
        let mut b = b;
        let acc_v = a.value.wrapping_mul(b.value);
        let mut acc_m = Tnum::constant(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc_m = acc_m.add(Tnum::new(0, b.mask));
            } else if a.mask & 1 != 0 {
                acc_m = acc_m.add(Tnum::new(0, b.value | b.mask));
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        Tnum::constant(acc_v).add(acc_m)
    }

    /// Union-based long multiplication from a post-6.12 bpf-next `tnum_mul`
    /// (not in 6.12; the verifier transfer functions never use it).
    pub fn mul_union(self, b: Tnum) -> Tnum {
        let mut a = self;
        let mut b = b;
        let mut acc = Tnum::constant(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc = acc.add(b);
            } else if a.mask & 1 != 0 {
                acc = acc.union(acc.add(b));
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        acc
    }

    /// True if the known bits of `a` and `b` agree (kernel `tnum_overlap`, 6.12.117 tnum.c).
    pub fn overlap(self, b: Tnum) -> bool {
        let mu = !self.mask & !b.mask;
        (self.value & mu) == (b.value & mu)
    }

    /// Values satisfying both `a` and `b`; conflicting known bits become 1 (kernel `tnum_intersect`).
    pub fn intersect(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask & b.mask;
        Tnum::new(v & !mu, mu)
    }

    /// Smallest tnum containing every value of `a` and of `b` (post-6.12 `tnum_union`; crate-level join only).
    pub fn union(self, b: Tnum) -> Tnum {
        let v = self.value & b.value;
        let mu = (self.value ^ b.value) | self.mask | b.mask;
        Tnum::new(v & !mu, mu)
    }

    /// Keep only the lowest `size` bytes (kernel `tnum_cast`; `size >= 8` keeps everything).
    pub fn cast(self, size: u8) -> Tnum {
        let m = if size >= 8 {
            u64::MAX
        } else {
            (1u64 << (size as u32 * 8)) - 1
        };
        Tnum::new(self.value & m, self.mask & m)
    }

    /// True if every value is a multiple of `size`, a power of two (kernel `tnum_is_aligned`).
    pub fn is_aligned(self, size: u64) -> bool {
        if size == 0 {
            return true;
        }
        (self.value | self.mask) & (size - 1) == 0
    }

    /// True if `b` represents a subset of `a` (kernel `tnum_in(a, b)`).
    pub fn contains_tnum(self, b: Tnum) -> bool {
        if b.mask & !self.mask != 0 {
            return false;
        }
        self.value == (b.value & !self.mask)
    }

    /// Alias of [`Tnum::contains_tnum`] using the kernel's name `tnum_in`.
    pub fn tnum_in(a: Tnum, b: Tnum) -> bool {
        a.contains_tnum(b)
    }

    /// True if the concrete value `x` is represented by this tnum.
    pub fn contains(self, x: u64) -> bool {
        (x & !self.mask) == self.value
    }

    /// True if the value is a known constant (kernel `tnum_is_const`).
    pub fn is_const(self) -> bool {
        self.mask == 0
    }

    /// True if the value is the known constant `b` (kernel `tnum_equals_const`).
    pub fn equals_const(self, b: u64) -> bool {
        self.is_const() && self.value == b
    }

    /// True if nothing is known (kernel `tnum_is_unknown`).
    pub fn is_unknown(self) -> bool {
        self.mask == u64::MAX
    }

    /// The low 32 bits, upper bits known zero (kernel `tnum_subreg`).
    pub fn subreg(self) -> Tnum {
        self.cast(4)
    }

    /// This tnum with the low 32 bits known zero (kernel `tnum_clear_subreg`).
    pub fn clear_subreg(self) -> Tnum {
        self.rshift(32).lshift(32)
    }

    /// Upper 32 bits of `self` combined with lower 32 bits of `subreg` (kernel `tnum_with_subreg`).
    pub fn with_subreg(self, subreg: Tnum) -> Tnum {
        self.clear_subreg().or(subreg.subreg())
    }

    /// This tnum with the low 32 bits set to the constant `value` (kernel `tnum_const_subreg`).
    pub fn const_subreg(self, value: u32) -> Tnum {
        self.with_subreg(Tnum::constant(value as u64))
    }

    /// True if the low 32 bits are a known constant (kernel `tnum_subreg_is_const`).
    pub fn subreg_is_const(self) -> bool {
        self.subreg().mask == 0
    }

    /// Byte swap of the low 16 bits, upper bits cleared (post-6.12 `tnum_bswap16`; only for the `BPF_END` feature).
    pub fn bswap16(self) -> Tnum {
        Tnum::new(
            (self.value as u16).swap_bytes() as u64,
            (self.mask as u16).swap_bytes() as u64,
        )
    }

    /// Byte swap of the low 32 bits, upper bits cleared (post-6.12 `tnum_bswap32`; only for the `BPF_END` feature).
    pub fn bswap32(self) -> Tnum {
        Tnum::new(
            (self.value as u32).swap_bytes() as u64,
            (self.mask as u32).swap_bytes() as u64,
        )
    }

    /// Byte swap of all 64 bits (post-6.12 `tnum_bswap64`; only for the `BPF_END` feature).
    pub fn bswap64(self) -> Tnum {
        Tnum::new(self.value.swap_bytes(), self.mask.swap_bytes())
    }

    /// Smallest unsigned value represented.
    pub fn umin(self) -> u64 {
        self.value
    }

    /// Largest unsigned value represented.
    pub fn umax(self) -> u64 {
        self.value | self.mask
    }

    /// Tristate binary expansion, 64 chars of `0`/`1`/`x`, MSB first (kernel `tnum_sbin`).
    pub fn sbin(self) -> String {
        (0..64)
            .rev()
            .map(|i| {
                if self.mask >> i & 1 == 1 {
                    'x'
                } else if self.value >> i & 1 == 1 {
                    '1'
                } else {
                    '0'
                }
            })
            .collect()
    }

    /// Kernel `tnum_strn` (6.12 kernel/bpf/log.c): a constant prints as `%llu`
    /// up to `U16_MAX` or `%#llx` above; otherwise `(value; mask)` in `%#llx`,
    /// e.g. `(0x0; 0xff)`.
    pub fn strn(self) -> String {
        if self.mask == 0 {
            if self.value <= u16::MAX as u64 {
                return self.value.to_string();
            }
            return format!("{:#x}", self.value);
        }
        format!("({:#x}; {:#x})", self.value, self.mask)
    }
}

macro_rules! tnum_binop {
    ($tr:ident, $m:ident, $f:ident) => {
        impl std::ops::$tr for Tnum {
            type Output = Tnum;
            /// Operator form of the kernel tnum operation of the same name.
            fn $m(self, b: Tnum) -> Tnum {
                Tnum::$f(self, b)
            }
        }
    };
}
tnum_binop!(Add, add, add);
tnum_binop!(Sub, sub, sub);
tnum_binop!(Mul, mul, mul);
tnum_binop!(BitAnd, bitand, and);
tnum_binop!(BitOr, bitor, or);
tnum_binop!(BitXor, bitxor, xor);

impl std::ops::Neg for Tnum {
    type Output = Tnum;
    /// Operator form of [`Tnum::neg`].
    fn neg(self) -> Tnum {
        Tnum::neg(self)
    }
}

impl fmt::Display for Tnum {
    /// Formats like the kernel's `tnum_strn`, e.g. `(0x0; 0xff)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.strn())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_examples() {
        assert_eq!(Tnum::range(0, 2), Tnum::new(0, 3));
        assert_eq!(Tnum::range(5, 5), Tnum::constant(5));
        assert_eq!(Tnum::range(0, u64::MAX), Tnum::UNKNOWN);
        assert_eq!(Tnum::range(4, 7), Tnum::new(4, 3));
    }

    #[test]
    fn display_matches_kernel() {
        assert_eq!(Tnum::new(0, 0xff).to_string(), "(0x0; 0xff)");
        assert_eq!(Tnum::new(0x10, 0x7).strn(), "(0x10; 0x7)");
        let s = Tnum::new(0b10, 0b01).sbin();
        assert_eq!(&s[62..], "1x");
        assert_eq!(s.len(), 64);
    }

    #[test]
    fn subreg_ops() {
        let t = Tnum::new(0x1_0000_0002, 0xf0_0000_0001);
        assert_eq!(t.subreg(), Tnum::new(2, 1));
        assert_eq!(t.clear_subreg(), Tnum::new(0x1_0000_0000, 0xf0_0000_0000));
        assert_eq!(t.const_subreg(7), Tnum::new(0x1_0000_0007, 0xf0_0000_0000));
        assert!(Tnum::new(0x1_0000_0000, 0xf_0000_0000).subreg_is_const());
    }

    #[test]
    fn membership() {
        let a = Tnum::new(0, 0xff);
        assert!(a.contains_tnum(Tnum::constant(3)));
        assert!(!a.contains_tnum(Tnum::constant(0x100)));
        assert!(Tnum::tnum_in(Tnum::range(0, 2), Tnum::constant(3)));
        assert!(a.is_aligned(1));
        assert!(Tnum::new(0, 0xf0).is_aligned(16));
    }
}
