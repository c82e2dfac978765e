//! Scalar register abstraction of the BPF verifier: a tnum (`var_off`) plus
//! signed/unsigned 64-bit and 32-bit ranges, with the kernel's bound
//! synchronisation (`reg_bounds_sync`) and ALU transfer functions
//! (`adjust_scalar_min_max_vals`, `check_alu_op` for MOV/MOVSX/END).

use std::fmt;

use crate::tnum::Tnum;

/// Abstract value of a `SCALAR_VALUE` register (the numeric part of `struct bpf_reg_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scalar {
    /// Known/unknown bits.
    pub var_off: Tnum,
    /// Minimum as a signed 64-bit value.
    pub smin: i64,
    /// Maximum as a signed 64-bit value.
    pub smax: i64,
    /// Minimum as an unsigned 64-bit value.
    pub umin: u64,
    /// Maximum as an unsigned 64-bit value.
    pub umax: u64,
    /// Minimum of the low 32 bits as signed.
    pub s32_min: i32,
    /// Maximum of the low 32 bits as signed.
    pub s32_max: i32,
    /// Minimum of the low 32 bits as unsigned.
    pub u32_min: u32,
    /// Maximum of the low 32 bits as unsigned.
    pub u32_max: u32,
}

/// Number of `__reg_deduce_bounds` rounds in `reg_bounds_sync` (3 in Linux 6.12).
pub const DEDUCE_ROUNDS: usize = 3;

/// Verifier behaviour that is newer than Linux 6.12 and therefore off by default.
///
/// Every flag is `false` in [`KernelFeatures::LINUX_6_12`] (= `Default`), which
/// mirrors the 6.12 `kernel/bpf/verifier.c`. The flags re-enable transfer
/// functions the crate originally took from a bpf-next snapshot; that snapshot
/// was never checked against a released kernel, so enable a flag only after
/// confirming the target kernel has the corresponding code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct KernelFeatures {
    /// Range tracking for `BPF_DIV`/`BPF_MOD` by constants (6.12: dst marked unknown).
    pub div_mod_tracking: bool,
    /// Range tracking for `BPF_NEG` (6.12: dst marked unknown).
    pub neg_tracking: bool,
    /// Tnum byte swaps for `BPF_END` (6.12: dst marked unknown).
    pub end_tracking: bool,
    /// Add/sub keep the wrapped unsigned range when both bounds wrap (6.12: any
    /// unsigned overflow of add, or `umin < src.umax` for sub, gives unbounded).
    pub add_sub_wrap: bool,
    /// Multiplication through signed/unsigned overflow checks of the products
    /// (6.12: non-negative operands with maxima <= U16_MAX/U32_MAX only).
    pub mul_overflow_checks: bool,
    /// Same-register branch prediction (`if rX op rX`) without refinement
    /// (6.12: ordinary `is_scalar_branch_taken` and aliased refinement).
    pub same_reg_branch: bool,
}

impl KernelFeatures {
    /// Exactly Linux 6.12 (6.12.117 source): no newer behaviour.
    pub const LINUX_6_12: KernelFeatures = KernelFeatures {
        div_mod_tracking: false,
        neg_tracking: false,
        end_tracking: false,
        add_sub_wrap: false,
        mul_overflow_checks: false,
        same_reg_branch: false,
    };

    /// Everything the crate's earlier bpf-next snapshot implemented (unverified).
    pub const BPF_NEXT_SNAPSHOT: KernelFeatures = KernelFeatures {
        div_mod_tracking: true,
        neg_tracking: true,
        end_tracking: true,
        add_sub_wrap: true,
        mul_overflow_checks: true,
        same_reg_branch: true,
    };
}

/// Byte-order operation of `BPF_END`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endian {
    /// `BPF_ALU | BPF_END | BPF_TO_LE` (le16/le32/le64): truncation on a little-endian host.
    ToLe,
    /// `BPF_ALU | BPF_END | BPF_TO_BE` (be16/be32/be64): byte swap on a little-endian host.
    ToBe,
    /// `BPF_ALU64 | BPF_END | BPF_TO_LE` (bswap16/32/64): unconditional byte swap.
    Bswap,
}

/// BPF ALU operation (the `BPF_OP` of a `BPF_ALU`/`BPF_ALU64` instruction plus its `off` variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// `dst += src`.
    Add,
    /// `dst -= src`.
    Sub,
    /// `dst *= src`.
    Mul,
    /// Unsigned `dst /= src` (`x / 0 == 0`).
    Div,
    /// Signed `dst s/= src` (`BPF_DIV` with `off == 1`).
    Sdiv,
    /// Unsigned `dst %= src` (`x % 0 == x`).
    Mod,
    /// Signed `dst s%= src` (`BPF_MOD` with `off == 1`).
    Smod,
    /// `dst |= src`.
    Or,
    /// `dst &= src`.
    And,
    /// `dst <<= src`.
    Lsh,
    /// Logical `dst >>= src`.
    Rsh,
    /// `dst = -dst` (src ignored).
    Neg,
    /// `dst ^= src`.
    Xor,
    /// `dst = src` (for `BPF_K`, pass [`Scalar::imm`]).
    Mov,
    /// `dst = (s8)src` (`BPF_MOV` with `off == 8`).
    Movsx8,
    /// `dst = (s16)src` (`BPF_MOV` with `off == 16`).
    Movsx16,
    /// `dst = (s32)src` (`BPF_MOV` with `off == 32`, 64-bit only).
    Movsx32,
    /// Arithmetic `dst s>>= src`.
    Arsh,
    /// `BPF_END` with the given kind and width (16, 32 or 64); `is_64` is implied by the kind.
    End(Endian, u8),
}

/// BPF conditional jump operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JmpOp {
    /// `==`.
    Jeq,
    /// `!=`.
    Jne,
    /// Unsigned `>`.
    Jgt,
    /// Unsigned `>=`.
    Jge,
    /// Unsigned `<`.
    Jlt,
    /// Unsigned `<=`.
    Jle,
    /// Signed `>`.
    Jsgt,
    /// Signed `>=`.
    Jsge,
    /// Signed `<`.
    Jslt,
    /// Signed `<=`.
    Jsle,
    /// `(a & b) != 0`.
    Jset,
    /// `(a & b) == 0`: the kernel's internal reverse of `JSET` (`BPF_JSET | BPF_X`).
    JsetNot,
}

impl JmpOp {
    /// The opcode that describes the fall-through (false) branch (kernel `rev_opcode`).
    pub fn reverse(self) -> JmpOp {
        use JmpOp::*;
        match self {
            Jeq => Jne,
            Jne => Jeq,
            Jset => JsetNot,
            JsetNot => Jset,
            Jge => Jlt,
            Jgt => Jle,
            Jle => Jgt,
            Jlt => Jge,
            Jsge => Jslt,
            Jsgt => Jsle,
            Jsle => Jsgt,
            Jslt => Jsge,
        }
    }

    /// The opcode for swapped operands, `b op' a` (kernel `flip_opcode`).
    pub fn flip(self) -> JmpOp {
        use JmpOp::*;
        match self {
            Jge => Jle,
            Jgt => Jlt,
            Jle => Jge,
            Jlt => Jgt,
            Jsge => Jsle,
            Jsgt => Jslt,
            Jsle => Jsge,
            Jslt => Jsgt,
            other => other,
        }
    }

    /// Concrete semantics of the comparison on 64-bit values (or their low 32 bits if `is_32`).
    pub fn eval(self, a: u64, b: u64, is_32: bool) -> bool {
        use JmpOp::*;
        let (ua, ub, sa, sb) = if is_32 {
            (
                a as u32 as u64,
                b as u32 as u64,
                a as u32 as i32 as i64,
                b as u32 as i32 as i64,
            )
        } else {
            (a, b, a as i64, b as i64)
        };
        match self {
            Jeq => ua == ub,
            Jne => ua != ub,
            Jgt => ua > ub,
            Jge => ua >= ub,
            Jlt => ua < ub,
            Jle => ua <= ub,
            Jsgt => sa > sb,
            Jsge => sa >= sb,
            Jslt => sa < sb,
            Jsle => sa <= sb,
            Jset => ua & ub != 0,
            JsetNot => ua & ub == 0,
        }
    }
}

/// Result of refining two scalars on a conditional jump (kernel `check_cond_jmp_op` flow).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Branches {
    /// States of `(dst, src)` on the jump (true) branch, `None` if not explored/infeasible.
    pub taken: Option<(Scalar, Scalar)>,
    /// States of `(dst, src)` on the fall-through (false) branch, `None` if not explored/infeasible.
    pub not_taken: Option<(Scalar, Scalar)>,
    /// `reg_bounds_sanity_check` failed for a refined register ("REG INVARIANTS
    /// VIOLATION"). 6.12 then resets that register's ranges (tnum kept) and goes
    /// on; with `BPF_F_TEST_REG_INVARIANTS` the program is rejected instead.
    pub invariant_violation: bool,
}

impl Default for Scalar {
    /// The completely unknown scalar.
    fn default() -> Self {
        Scalar::unknown()
    }
}

impl Scalar {
    /// A completely unknown scalar (kernel `__mark_reg_unknown`).
    pub const fn unknown() -> Scalar {
        Scalar {
            var_off: Tnum::UNKNOWN,
            smin: i64::MIN,
            smax: i64::MAX,
            umin: 0,
            umax: u64::MAX,
            s32_min: i32::MIN,
            s32_max: i32::MAX,
            u32_min: 0,
            u32_max: u32::MAX,
        }
    }

    /// A known 64-bit constant (kernel `___mark_reg_known`).
    pub const fn constant(v: u64) -> Scalar {
        Scalar {
            var_off: Tnum::constant(v),
            smin: v as i64,
            smax: v as i64,
            umin: v,
            umax: v,
            s32_min: v as u32 as i32,
            s32_max: v as u32 as i32,
            u32_min: v as u32,
            u32_max: v as u32,
        }
    }

    /// The constant of a `BPF_K` operand: `imm` sign-extended to 64 bits, as the kernel's fake src reg.
    pub const fn imm(imm: i32) -> Scalar {
        Scalar::constant(imm as i64 as u64)
    }

    /// Unknown scalar limited to the unsigned range `[min, max]`, synced.
    pub fn from_urange(min: u64, max: u64) -> Scalar {
        let mut r = Scalar::unknown();
        r.umin = min;
        r.umax = max;
        r.sync();
        r
    }

    /// Unknown scalar limited to the signed range `[min, max]`, synced.
    pub fn from_srange(min: i64, max: i64) -> Scalar {
        let mut r = Scalar::unknown();
        r.smin = min;
        r.smax = max;
        r.sync();
        r
    }

    /// Unknown scalar limited to the given tnum, synced.
    pub fn from_tnum(t: Tnum) -> Scalar {
        let mut r = Scalar::unknown();
        r.var_off = t;
        r.sync();
        r
    }

    /// True if the tnum is a known constant.
    pub fn is_const(&self) -> bool {
        self.var_off.is_const()
    }

    /// True if the 64-bit value (or low 32 bits if `subreg32`) is constant (kernel `is_reg_const`).
    pub fn is_reg_const(&self, subreg32: bool) -> bool {
        if subreg32 {
            self.var_off.subreg_is_const()
        } else {
            self.var_off.is_const()
        }
    }

    /// The constant value, or its low 32 bits if `subreg32` (kernel `reg_const_value`).
    pub fn const_value(&self, subreg32: bool) -> u64 {
        if subreg32 {
            self.var_off.subreg().value
        } else {
            self.var_off.value
        }
    }

    /// True if all bounds are trivial and the tnum is unknown (kernel `__is_scalar_unbounded`).
    pub fn is_unbounded(&self) -> bool {
        *self == Scalar::unknown()
    }

    /// True if the concrete 64-bit value `x` is described by every component.
    pub fn contains(&self, x: u64) -> bool {
        self.var_off.contains(x)
            && self.umin <= x
            && x <= self.umax
            && self.smin <= x as i64
            && x as i64 <= self.smax
            && self.u32_min <= x as u32
            && x as u32 <= self.u32_max
            && self.s32_min <= x as u32 as i32
            && x as u32 as i32 <= self.s32_max
    }

    /// Kernel `reg_bounds_sanity_check`: ordered ranges and constant tnums agreeing with the bounds.
    pub fn is_valid(&self) -> bool {
        if self.umin > self.umax
            || self.smin > self.smax
            || self.u32_min > self.u32_max
            || self.s32_min > self.s32_max
        {
            return false;
        }
        if self.var_off.is_const() {
            let u = self.var_off.value;
            if self.umin != u || self.umax != u || self.smin != u as i64 || self.smax != u as i64 {
                return false;
            }
        }
        if self.var_off.subreg_is_const() {
            let u = self.var_off.subreg().value as u32;
            if self.u32_min != u
                || self.u32_max != u
                || self.s32_min != u as i32
                || self.s32_max != u as i32
            {
                return false;
            }
        }
        true
    }

    /// Reset all ranges to unbounded, keeping the tnum (kernel `__mark_reg_unbounded`).
    pub fn mark_unbounded(&mut self) {
        self.mark64_unbounded();
        self.mark32_unbounded();
    }

    /// Reset the 64-bit ranges (kernel `__mark_reg64_unbounded`).
    pub fn mark64_unbounded(&mut self) {
        self.smin = i64::MIN;
        self.smax = i64::MAX;
        self.umin = 0;
        self.umax = u64::MAX;
    }

    /// Reset the 32-bit ranges (kernel `__mark_reg32_unbounded`).
    pub fn mark32_unbounded(&mut self) {
        self.s32_min = i32::MIN;
        self.s32_max = i32::MAX;
        self.u32_min = 0;
        self.u32_max = u32::MAX;
    }

    /// Set the low 32 bits to a known constant (kernel `__mark_reg32_known`).
    pub fn mark32_known(&mut self, imm: u64) {
        self.var_off = self.var_off.const_subreg(imm as u32);
        self.s32_min = imm as u32 as i32;
        self.s32_max = imm as u32 as i32;
        self.u32_min = imm as u32;
        self.u32_max = imm as u32;
    }

    /// Tighten the 32-bit bounds from the tnum (kernel `__update_reg32_bounds`).
    pub fn update_reg32_bounds(&mut self) {
        let v = self.var_off.subreg();
        let sbit = 0xffff_ffff_8000_0000u64;
        self.s32_min = self.s32_min.max((v.value | (v.mask & sbit)) as u32 as i32);
        self.s32_max = self
            .s32_max
            .min((v.value | (v.mask & i32::MAX as u64)) as u32 as i32);
        self.u32_min = self.u32_min.max(v.value as u32);
        self.u32_max = self.u32_max.min((v.value | v.mask) as u32);
    }

    /// Tighten the 64-bit bounds from the tnum (kernel `__update_reg64_bounds`).
    pub fn update_reg64_bounds(&mut self) {
        let v = self.var_off;
        self.smin = self.smin.max((v.value | (v.mask & (1u64 << 63))) as i64);
        self.smax = self.smax.min((v.value | (v.mask & i64::MAX as u64)) as i64);
        self.umin = self.umin.max(v.value);
        self.umax = self.umax.min(v.value | v.mask);
    }

    /// Tighten all bounds from the tnum (kernel `__update_reg_bounds`).
    pub fn update_reg_bounds(&mut self) {
        self.update_reg32_bounds();
        self.update_reg64_bounds();
    }

    /// Derive 32-bit bounds from 64-bit ones and s32<->u32 (kernel `__reg32_deduce_bounds`).
    pub fn reg32_deduce_bounds(&mut self) {
        if (self.umin >> 32) == (self.umax >> 32) {
            self.u32_min = self.u32_min.max(self.umin as u32);
            self.u32_max = self.u32_max.min(self.umax as u32);
            if (self.umin as u32 as i32) <= (self.umax as u32 as i32) {
                self.s32_min = self.s32_min.max(self.umin as u32 as i32);
                self.s32_max = self.s32_max.min(self.umax as u32 as i32);
            }
        }
        if (self.smin >> 32) == (self.smax >> 32) {
            if (self.smin as u32) <= (self.smax as u32) {
                self.u32_min = self.u32_min.max(self.smin as u32);
                self.u32_max = self.u32_max.min(self.smax as u32);
            }
            if (self.smin as u32 as i32) <= (self.smax as u32 as i32) {
                self.s32_min = self.s32_min.max(self.smin as u32 as i32);
                self.s32_max = self.s32_max.min(self.smax as u32 as i32);
            }
        }
        if ((self.umin >> 32) as u32).wrapping_add(1) == (self.umax >> 32) as u32
            && (self.umin as u32 as i32) < 0
            && (self.umax as u32 as i32) >= 0
        {
            self.s32_min = self.s32_min.max(self.umin as u32 as i32);
            self.s32_max = self.s32_max.min(self.umax as u32 as i32);
        }
        if ((self.smin >> 32) as u32).wrapping_add(1) == (self.smax >> 32) as u32
            && (self.smin as u32 as i32) < 0
            && (self.smax as u32 as i32) >= 0
        {
            self.s32_min = self.s32_min.max(self.smin as u32 as i32);
            self.s32_max = self.s32_max.min(self.smax as u32 as i32);
        }
        if (self.u32_min as i32) <= (self.u32_max as i32) {
            self.s32_min = self.s32_min.max(self.u32_min as i32);
            self.s32_max = self.s32_max.min(self.u32_max as i32);
        }
        if (self.s32_min as u32) <= (self.s32_max as u32) {
            self.u32_min = self.u32_min.max(self.s32_min as u32);
            self.u32_max = self.u32_max.min(self.s32_max as u32);
        } else if self.u32_max < self.s32_min as u32 {
            // s32 range crosses the sign boundary; u32 range overlaps only its
            // non-negative part (present in 6.12.117's __reg32_deduce_bounds).
            self.s32_min = self.u32_min as i32;
            self.u32_max = self.u32_max.min(self.s32_max as u32);
        } else if (self.s32_max as u32) < self.u32_min {
            // u32 range overlaps only the negative part of the s32 range.
            self.s32_max = self.u32_max as i32;
            self.u32_min = self.u32_min.max(self.s32_min as u32);
        }
    }

    /// Exchange knowledge between s64 and u64 bounds (kernel `__reg64_deduce_bounds`).
    pub fn reg64_deduce_bounds(&mut self) {
        if (self.umin as i64) <= (self.umax as i64) {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
        if (self.smin as u64) <= (self.smax as u64) {
            self.umin = self.umin.max(self.smin as u64);
            self.umax = self.umax.min(self.smax as u64);
        } else if self.umax < self.smin as u64 {
            // u64 range overlaps only the non-negative part of the s64 range.
            self.smin = self.umin as i64;
            self.umax = self.umax.min(self.smax as u64);
        } else if (self.smax as u64) < self.umin {
            // u64 range overlaps only the negative part of the s64 range.
            self.smax = self.umax as i64;
            self.umin = self.umin.max(self.smin as u64);
        }
    }

    /// Tighten 64-bit bounds from 32-bit ones (kernel `__reg_deduce_mixed_bounds`).
    pub fn reg_deduce_mixed_bounds(&mut self) {
        let hi = !0xffff_ffffu64;
        let new_umin = (self.umin & hi) | self.u32_min as u64;
        let new_umax = (self.umax & hi) | self.u32_max as u64;
        self.umin = self.umin.max(new_umin);
        self.umax = self.umax.min(new_umax);
        let new_smin = ((self.smin as u64 & hi) | self.u32_min as u64) as i64;
        let new_smax = ((self.smax as u64 & hi) | self.u32_max as u64) as i64;
        self.smin = self.smin.max(new_smin);
        self.smax = self.smax.min(new_smax);

        // if s32 can be treated as a valid u32 range, use it as well
        if (self.s32_min as u32) <= (self.s32_max as u32) {
            let new_umin = (self.umin & hi) | self.s32_min as u32 as u64;
            let new_umax = (self.umax & hi) | self.s32_max as u32 as u64;
            self.umin = self.umin.max(new_umin);
            self.umax = self.umax.min(new_umax);
            let new_smin = ((self.smin as u64 & hi) | self.s32_min as u32 as u64) as i64;
            let new_smax = ((self.smax as u64 & hi) | self.s32_max as u32 as u64) as i64;
            self.smin = self.smin.max(new_smin);
            self.smax = self.smax.min(new_smax);
        }

        if self.s32_min >= 0 && self.smin >= i32::MIN as i64 && self.smax <= i32::MAX as i64 {
            self.smin = self.s32_min as i64;
            self.smax = self.s32_max as i64;
            self.umin = self.s32_min as i64 as u64;
            self.umax = self.s32_max as i64 as u64;
            self.var_off = self
                .var_off
                .intersect(Tnum::range(self.smin as u64, self.smax as u64));
        }
    }

    /// One round of all bound deductions (kernel `__reg_deduce_bounds`).
    pub fn reg_deduce_bounds(&mut self) {
        self.reg32_deduce_bounds();
        self.reg64_deduce_bounds();
        self.reg_deduce_mixed_bounds();
    }

    /// Improve the tnum from the unsigned bounds (kernel `__reg_bound_offset`).
    pub fn reg_bound_offset(&mut self) {
        let var64 = self.var_off.intersect(Tnum::range(self.umin, self.umax));
        let var32 = var64
            .subreg()
            .intersect(Tnum::range(self.u32_min as u64, self.u32_max as u64));
        self.var_off = var64.clear_subreg().or(var32);
    }

    /// Make tnum and all ranges mutually consistent (kernel `reg_bounds_sync`).
    pub fn sync(&mut self) {
        self.update_reg_bounds();
        for _ in 0..DEDUCE_ROUNDS {
            self.reg_deduce_bounds();
        }
        self.reg_bound_offset();
        self.update_reg_bounds();
    }

    /// Returns a synced copy (see [`Scalar::sync`]).
    pub fn synced(mut self) -> Scalar {
        self.sync();
        self
    }

    /// Copy 32-bit bounds into the 64-bit ones after zero extension (kernel `__reg_assign_32_into_64`).
    pub fn assign_32_into_64(&mut self) {
        self.umin = self.u32_min as u64;
        self.umax = self.u32_max as u64;
        if self.s32_min >= 0 && self.s32_max >= 0 {
            self.smin = self.s32_min as i64;
            self.smax = self.s32_max as i64;
        } else {
            self.smin = 0;
            self.smax = u32::MAX as i64;
        }
    }

    /// Zero-extend the 32-bit subregister into 64 bits (kernel `zext_32_to_64`).
    pub fn zext_32_to_64(&mut self) {
        self.var_off = self.var_off.subreg();
        self.assign_32_into_64();
    }

    /// Truncate to the low `size` bytes, `size < 8`, with sync (kernel `coerce_reg_to_size`).
    pub fn coerce_to_size(&mut self, size: u8) {
        self.var_off = self.var_off.cast(size);
        let mask = (1u64 << (size as u32 * 8)) - 1;
        if (self.umin & !mask) == (self.umax & !mask) {
            self.umin &= mask;
            self.umax &= mask;
        } else {
            self.umin = 0;
            self.umax = mask;
        }
        self.smin = self.umin as i64;
        self.smax = self.umax as i64;
        if size < 4 {
            self.mark32_unbounded();
        }
        self.sync();
    }

    /// Sign-extend the low `size` bytes (1, 2 or 4) into 64 bits (kernel `coerce_reg_to_size_sx`).
    pub fn coerce_to_size_sx(&mut self, size: u8) {
        if self.var_off.is_const() {
            let c = self.var_off.value;
            let v = sext(c, size);
            *self = Scalar::constant(v as u64);
            return;
        }
        let num_bits = size as u32 * 8;
        let top_smax = ((self.smax as u64) >> num_bits) << num_bits;
        let top_smin = ((self.smin as u64) >> num_bits) << num_bits;
        if top_smax == top_smin {
            let init_max = sext(self.smax as u64, size);
            let init_min = sext(self.smin as u64, size);
            let s64_max = init_max.max(init_min);
            let s64_min = init_max.min(init_min);
            if (s64_max >= 0) == (s64_min >= 0) {
                self.smin = s64_min;
                self.s32_min = s64_min as i32;
                self.smax = s64_max;
                self.s32_max = s64_max as i32;
                self.umin = s64_min as u64;
                self.u32_min = s64_min as u32;
                self.umax = s64_max as u64;
                self.u32_max = s64_max as u32;
                self.var_off = Tnum::range(s64_min as u64, s64_max as u64);
                return;
            }
        }
        // set_sext64_default_val
        let (lo, hi) = sext_limits(size);
        self.smin = lo;
        self.s32_min = lo as i32;
        self.smax = hi;
        self.s32_max = hi as i32;
        self.umin = 0;
        self.u32_min = 0;
        self.umax = u64::MAX;
        self.u32_max = u32::MAX;
        self.var_off = Tnum::UNKNOWN;
    }

    /// Sign-extend the low `size` bytes (1 or 2) into the 32-bit subregister (kernel `coerce_subreg_to_size_sx`).
    pub fn coerce_subreg_to_size_sx(&mut self, size: u8) {
        if self.var_off.is_const() {
            let v = sext(self.var_off.value, size) as u64;
            self.var_off = Tnum::constant(v);
            let v32 = v as u32;
            self.s32_min = v32 as i32;
            self.s32_max = v32 as i32;
            self.u32_min = v32;
            self.u32_max = v32;
            return;
        }
        let num_bits = size as u32 * 8;
        let top_smax = ((self.s32_max as u32) >> num_bits) << num_bits;
        let top_smin = ((self.s32_min as u32) >> num_bits) << num_bits;
        if top_smax == top_smin {
            let init_max = sext(self.s32_max as u32 as u64, size) as i32;
            let init_min = sext(self.s32_min as u32 as u64, size) as i32;
            let s32_max = init_max.max(init_min);
            let s32_min = init_max.min(init_min);
            if (s32_min >= 0) == (s32_max >= 0) {
                self.s32_min = s32_min;
                self.s32_max = s32_max;
                self.u32_min = s32_min as u32;
                self.u32_max = s32_max as u32;
                self.var_off = Tnum::range(s32_min as i64 as u64, s32_max as i64 as u64).subreg();
                return;
            }
        }
        // set_sext32_default_val
        let (lo, hi) = sext_limits(size);
        self.s32_min = lo as i32;
        self.s32_max = hi as i32;
        self.u32_min = 0;
        self.u32_max = u32::MAX;
        self.var_off = Tnum::UNKNOWN.subreg();
    }

    /// Debug-build check of the invariants the kernel's `reg_bounds_sanity_check` enforces.
    fn debug_check(&self, ctx: &str) {
        debug_assert!(self.is_valid(), "invariant violation after {ctx}: {self:?}");
    }

    /// Abstract transfer of one ALU instruction on scalars as in Linux 6.12
    /// (kernel `adjust_scalar_min_max_vals` / `check_alu_op`).
    ///
    /// When 6.12's `maybe_fork_scalars` would split the state (`AND`/`OR` with a
    /// constant of a `[-1, 0]` register) this returns the join of both paths;
    /// use [`Scalar::alu_forked`] for the exact per-path results.
    pub fn alu(op: AluOp, is_64: bool, dst: &Scalar, src: &Scalar) -> Scalar {
        Scalar::alu_with(KernelFeatures::LINUX_6_12, op, is_64, dst, src)
    }

    /// [`Scalar::alu`] with explicitly selected post-6.12 behaviour.
    pub fn alu_with(
        features: KernelFeatures,
        op: AluOp,
        is_64: bool,
        dst: &Scalar,
        src: &Scalar,
    ) -> Scalar {
        let (r, fork) = Scalar::alu_forked_with(features, op, is_64, dst, src);
        match fork {
            Some(f) => r.join(&f),
            None => r,
        }
    }

    /// Exact 6.12 result(s): the current path, plus the state 6.12's
    /// `maybe_fork_scalars` pushes for later exploration (dst re-executed as 0).
    pub fn alu_forked(
        op: AluOp,
        is_64: bool,
        dst: &Scalar,
        src: &Scalar,
    ) -> (Scalar, Option<Scalar>) {
        Scalar::alu_forked_with(KernelFeatures::LINUX_6_12, op, is_64, dst, src)
    }

    /// [`Scalar::alu_forked`] with explicitly selected post-6.12 behaviour.
    pub fn alu_forked_with(
        features: KernelFeatures,
        op: AluOp,
        is_64: bool,
        dst: &Scalar,
        src: &Scalar,
    ) -> (Scalar, Option<Scalar>) {
        if matches!(op, AluOp::And | AluOp::Or) && src.var_off.is_const() {
            // maybe_fork_scalars: chooses the width from dst's ranges, not the insn class.
            let fork = if dst.smin == -1 && dst.smax == 0 {
                let mut zero = *dst;
                mark_known(&mut zero, 0);
                let mut ones = *dst;
                mark_known(&mut ones, u64::MAX);
                Some((ones, zero))
            } else if dst.s32_min == -1 && dst.s32_max == 0 {
                let mut zero = *dst;
                zero.mark32_known(0);
                let mut ones = *dst;
                ones.mark32_known(u64::MAX);
                Some((ones, zero))
            } else {
                None
            };
            if let Some((ones, zero)) = fork {
                let a = alu_impl(features, op, is_64, ones, *src);
                let b = alu_impl(features, op, is_64, zero, *src);
                a.debug_check("alu");
                b.debug_check("alu");
                return (a, Some(b));
            }
        }
        let r = alu_impl(features, op, is_64, *dst, *src);
        r.debug_check("alu");
        (r, None)
    }

    /// Kernel `is_branch_taken` for two scalars: `Some(true)` always, `Some(false)` never.
    pub fn branch_taken(r1: &Scalar, r2: &Scalar, op: JmpOp, is_jmp32: bool) -> Option<bool> {
        is_scalar_branch_taken(r1, r2, op, is_jmp32, false)
    }

    /// Kernel `is_branch_taken` when both operands are the same register (`if rX op rX`).
    ///
    /// 6.12 has no special case: this is `is_scalar_branch_taken(r, r)`.
    pub fn branch_taken_same_reg(r: &Scalar, op: JmpOp, is_jmp32: bool) -> Option<bool> {
        Scalar::branch_taken_same_reg_with(KernelFeatures::LINUX_6_12, r, op, is_jmp32)
    }

    /// [`Scalar::branch_taken_same_reg`] with explicitly selected post-6.12 behaviour.
    pub fn branch_taken_same_reg_with(
        features: KernelFeatures,
        r: &Scalar,
        op: JmpOp,
        is_jmp32: bool,
    ) -> Option<bool> {
        is_scalar_branch_taken(r, r, op, is_jmp32, features.same_reg_branch)
    }

    /// Kernel `regs_refine_cond_op` + `reg_bounds_sync` + `reg_bounds_sanity_check`
    /// for one branch. The flag reports an invariant violation; as 6.12 does
    /// without `BPF_F_TEST_REG_INVARIANTS`, the offending register's ranges have
    /// then been reset to unbounded (its tnum is kept).
    pub fn refine(r1: &Scalar, r2: &Scalar, op: JmpOp, is_jmp32: bool) -> ((Scalar, Scalar), bool) {
        let mut a = *r1;
        let mut b = *r2;
        regs_refine_cond_op(&mut a, &mut b, op, is_jmp32);
        a.sync();
        b.sync();
        let va = sanity_check(&mut a);
        let vb = sanity_check(&mut b);
        ((a, b), va || vb)
    }

    /// [`Scalar::refine`] for `if rX op rX`: 6.12 passes the same register as
    /// both operands, so writes to one are seen through the other, and the
    /// register is synced twice.
    pub fn refine_same_reg(r: &Scalar, op: JmpOp, is_jmp32: bool) -> (Scalar, bool) {
        let mut a = *r;
        refine_same_reg_op(&mut a, op, is_jmp32);
        a.sync();
        a.sync();
        let v = sanity_check(&mut a);
        (a, v)
    }

    /// Both branches of `if r1 op r2` (kernel `check_cond_jmp_op`: `is_branch_taken`, then `reg_set_min_max`).
    pub fn reg_set_min_max(r1: &Scalar, r2: &Scalar, op: JmpOp, is_jmp32: bool) -> Branches {
        match Scalar::branch_taken(r1, r2, op, is_jmp32) {
            Some(true) => Branches {
                taken: Some((*r1, *r2)),
                not_taken: None,
                invariant_violation: false,
            },
            Some(false) => Branches {
                taken: None,
                not_taken: Some((*r1, *r2)),
                invariant_violation: false,
            },
            None => {
                let (t, vt) = Scalar::refine(r1, r2, op, is_jmp32);
                let (f, vf) = Scalar::refine(r1, r2, op.reverse(), is_jmp32);
                Branches {
                    taken: Some(t),
                    not_taken: Some(f),
                    invariant_violation: vt || vf,
                }
            }
        }
    }

    /// Both branches of `if rX op rX` (same register on both sides), as 6.12's
    /// `check_cond_jmp_op` handles it. Each tuple holds the register twice.
    pub fn reg_set_min_max_same_reg(r: &Scalar, op: JmpOp, is_jmp32: bool) -> Branches {
        match Scalar::branch_taken_same_reg(r, op, is_jmp32) {
            Some(true) => Branches {
                taken: Some((*r, *r)),
                not_taken: None,
                invariant_violation: false,
            },
            Some(false) => Branches {
                taken: None,
                not_taken: Some((*r, *r)),
                invariant_violation: false,
            },
            None => {
                let (t, vt) = Scalar::refine_same_reg(r, op, is_jmp32);
                let (f, vf) = Scalar::refine_same_reg(r, op.reverse(), is_jmp32);
                Branches {
                    taken: Some((t, t)),
                    not_taken: Some((f, f)),
                    invariant_violation: vt || vf,
                }
            }
        }
    }

    /// Least upper bound for reporting: hull of every range and tnum union, then synced.
    pub fn join(&self, other: &Scalar) -> Scalar {
        let mut r = Scalar {
            var_off: self.var_off.union(other.var_off),
            smin: self.smin.min(other.smin),
            smax: self.smax.max(other.smax),
            umin: self.umin.min(other.umin),
            umax: self.umax.max(other.umax),
            s32_min: self.s32_min.min(other.s32_min),
            s32_max: self.s32_max.max(other.s32_max),
            u32_min: self.u32_min.min(other.u32_min),
            u32_max: self.u32_max.max(other.u32_max),
        };
        r.sync();
        r.debug_check("join");
        r
    }

    /// Render like the 6.12 verifier log (kernel/bpf/log.c `print_reg_state`), with the `P` prefix when `precise`.
    pub fn render(&self, precise: bool) -> String {
        let p = if precise { "P" } else { "" };
        format!("{p}{self}")
    }

    /// Only the range part of the log output, e.g. `smin=smin32=0,smax=umax=...` (kernel `print_scalar_ranges`).
    pub fn render_ranges(&self) -> String {
        struct M {
            name: &'static str,
            val: u64,
            omit: bool,
        }
        let mut m = [
            M {
                name: "smin",
                val: self.smin as u64,
                omit: self.smin == i64::MIN,
            },
            M {
                name: "smax",
                val: self.smax as u64,
                omit: self.smax == i64::MAX,
            },
            M {
                name: "umin",
                val: self.umin,
                omit: self.umin == 0,
            },
            M {
                name: "umax",
                val: self.umax,
                omit: self.umax == u64::MAX,
            },
            // log.c: s32 values are sign-extended only when printed in decimal.
            M {
                name: "smin32",
                val: s32_log_val(self.s32_min),
                omit: self.s32_min == i32::MIN,
            },
            M {
                name: "smax32",
                val: s32_log_val(self.s32_max),
                omit: self.s32_max == i32::MAX,
            },
            M {
                name: "umin32",
                val: self.u32_min as u64,
                omit: self.u32_min == 0,
            },
            M {
                name: "umax32",
                val: self.u32_max as u64,
                omit: self.u32_max == u32::MAX,
            },
        ];
        let mut out = String::new();
        let mut sep = "";
        for i in 0..m.len() {
            if m[i].omit {
                continue;
            }
            let neg1 = m[i].name.starts_with('s') && (m[i].val as i64) < 0;
            out.push_str(sep);
            out.push_str(m[i].name);
            out.push('=');
            sep = ",";
            let mut j = i + 2;
            while j < m.len() {
                if !m[j].omit && m[j].val == m[i].val {
                    let neg2 = m[j].name.starts_with('s') && (m[j].val as i64) < 0;
                    if neg2 == neg1 {
                        m[j].omit = true;
                        out.push_str(m[j].name);
                        out.push('=');
                    }
                }
                j += 2;
            }
            if m[i].name.starts_with('s') {
                out.push_str(&snum(m[i].val as i64));
            } else {
                out.push_str(&unum(m[i].val));
            }
        }
        out
    }
}

impl fmt::Display for Scalar {
    /// Kernel log form: a constant prints as a signed decimal, otherwise `scalar(ranges,var_off=(v; m))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.var_off.is_const() {
            return write!(f, "{}", snum(self.var_off.value as i64));
        }
        let mut body = self.render_ranges();
        if !self.var_off.is_unknown() {
            if !body.is_empty() {
                body.push(',');
            }
            body.push_str("var_off=");
            body.push_str(&self.var_off.strn());
        }
        write!(f, "scalar({body})")
    }
}

/// Kernel log.c `verbose_unum`: decimal up to `U16_MAX`, else `%#llx`.
pub fn unum(v: u64) -> String {
    if v <= u16::MAX as u64 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

/// Kernel log.c `verbose_snum`: decimal within `[S16_MIN, S16_MAX]`, else `%#llx` of the u64.
pub fn snum(v: i64) -> String {
    if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
        v.to_string()
    } else {
        format!("{:#x}", v as u64)
    }
}

/// The value log.c's `print_scalar_ranges` prints for an s32 bound.
fn s32_log_val(v: i32) -> u64 {
    if (i16::MIN as i32..=i16::MAX as i32).contains(&v) {
        v as i64 as u64
    } else {
        v as u32 as u64
    }
}

/// Kernel `range_within`: every range of `cur` lies within the matching range of `old`.
pub fn range_within(old: &Scalar, cur: &Scalar) -> bool {
    old.umin <= cur.umin
        && old.umax >= cur.umax
        && old.smin <= cur.smin
        && old.smax >= cur.smax
        && old.u32_min <= cur.u32_min
        && old.u32_max >= cur.u32_max
        && old.s32_min <= cur.s32_min
        && old.s32_max >= cur.s32_max
}

/// Kernel `regsafe` for scalars (ids ignored): an imprecise `old` accepts anything, else ranges and tnum must contain `cur`.
pub fn scalar_subsumes(old: &Scalar, cur: &Scalar, precise: bool) -> bool {
    if !precise {
        return true;
    }
    range_within(old, cur) && old.var_off.contains_tnum(cur.var_off)
}

/// Sign-extend the low `size` bytes of `v` to i64.
fn sext(v: u64, size: u8) -> i64 {
    match size {
        1 => v as u8 as i8 as i64,
        2 => v as u16 as i16 as i64,
        _ => v as u32 as i32 as i64,
    }
}

/// Signed limits of a `size`-byte integer.
fn sext_limits(size: u8) -> (i64, i64) {
    match size {
        1 => (i8::MIN as i64, i8::MAX as i64),
        2 => (i16::MIN as i64, i16::MAX as i64),
        _ => (i32::MIN as i64, i32::MAX as i64),
    }
}

/// Kernel `is_safe_to_compute_dst_reg_range` (6.12: only ADD, SUB, AND, XOR, OR,
/// MUL and in-range constant shifts; everything else makes dst unknown).
fn is_safe_to_compute(features: KernelFeatures, op: AluOp, is_64: bool, src: &Scalar) -> bool {
    let src_is_const = if !is_64 {
        src.var_off.subreg_is_const() && src.s32_min == src.s32_max && src.u32_min == src.u32_max
    } else {
        src.var_off.is_const() && src.smin == src.smax && src.umin == src.umax
    };
    let bits: u64 = if is_64 { 64 } else { 32 };
    match op {
        AluOp::Add | AluOp::Sub | AluOp::And | AluOp::Xor | AluOp::Or | AluOp::Mul => true,
        AluOp::Neg => features.neg_tracking,
        AluOp::End(..) => features.end_tracking,
        AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod => {
            features.div_mod_tracking && src_is_const
        }
        AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => src_is_const && src.umax < bits,
        _ => false,
    }
}

/// Kernel `reg_bounds_sanity_check` outside `BPF_F_TEST_REG_INVARIANTS` mode:
/// on violation `__mark_reg_unbounded` (tnum kept). Returns true on violation.
fn sanity_check(r: &mut Scalar) -> bool {
    if r.is_valid() {
        false
    } else {
        r.mark_unbounded();
        true
    }
}

fn alu_impl(
    features: KernelFeatures,
    op: AluOp,
    is_64: bool,
    mut dst: Scalar,
    src: Scalar,
) -> Scalar {
    let alu32 = !is_64;
    match op {
        AluOp::Mov => {
            dst = src;
            if alu32 {
                dst.zext_32_to_64();
                dst.sync();
            }
            return dst;
        }
        AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32 => {
            let size = match op {
                AluOp::Movsx8 => 1,
                AluOp::Movsx16 => 2,
                _ => 4,
            };
            dst = src;
            if is_64 {
                dst.coerce_to_size_sx(size);
            } else {
                if size == 4 {
                    // 32-bit movsx with off=32 is rejected by the kernel; a plain mov is the closest meaning.
                    dst.zext_32_to_64();
                    dst.sync();
                    return dst;
                }
                dst.coerce_subreg_to_size_sx(size);
                dst.zext_32_to_64();
                dst.sync();
            }
            return dst;
        }
        _ => {}
    }
    // BPF_END is an ALU (32-bit class) insn except bswap, which is ALU64.
    let (alu32, is_64) = match op {
        AluOp::End(Endian::Bswap, _) => (false, true),
        AluOp::End(..) => (true, false),
        _ => (alu32, is_64),
    };
    // 6.12: unsafe ops (and BPF_NEG/BPF_END via check_reg_arg(DST_OP)) get
    // __mark_reg_unknown: the whole 64-bit register, no zero extension.
    if !is_safe_to_compute(features, op, is_64, &src) {
        return Scalar::unknown();
    }
    let wrap = features.add_sub_wrap;
    match op {
        AluOp::Add => {
            scalar32_add(&mut dst, &src, wrap);
            scalar64_add(&mut dst, &src, wrap);
            dst.var_off = dst.var_off.add(src.var_off);
        }
        AluOp::Sub => {
            scalar32_sub(&mut dst, &src, wrap);
            scalar64_sub(&mut dst, &src, wrap);
            dst.var_off = dst.var_off.sub(src.var_off);
        }
        AluOp::Neg => {
            let fake = dst;
            dst = Scalar::constant(0);
            scalar32_sub(&mut dst, &fake, wrap);
            scalar64_sub(&mut dst, &fake, wrap);
            dst.var_off = fake.var_off.neg();
        }
        AluOp::Mul => {
            dst.var_off = dst.var_off.mul(src.var_off);
            if features.mul_overflow_checks {
                scalar32_mul_checked(&mut dst, &src);
                scalar64_mul_checked(&mut dst, &src);
            } else {
                scalar32_mul(&mut dst, &src);
                scalar64_mul(&mut dst, &src);
            }
        }
        AluOp::Div | AluOp::Sdiv => {
            if (alu32 && src.u32_min == 0) || (!alu32 && src.umin == 0) {
                dst = Scalar::constant(0);
            } else {
                match (alu32, op == AluOp::Sdiv) {
                    (true, true) => scalar32_sdiv(&mut dst, &src),
                    (true, false) => scalar32_udiv(&mut dst, &src),
                    (false, true) => scalar64_sdiv(&mut dst, &src),
                    (false, false) => scalar64_udiv(&mut dst, &src),
                }
            }
        }
        AluOp::Mod | AluOp::Smod => {
            if !((alu32 && src.u32_min == 0) || (!alu32 && src.umin == 0)) {
                match (alu32, op == AluOp::Smod) {
                    (true, true) => scalar32_smod(&mut dst, &src),
                    (true, false) => scalar32_umod(&mut dst, &src),
                    (false, true) => scalar64_smod(&mut dst, &src),
                    (false, false) => scalar64_umod(&mut dst, &src),
                }
            }
        }
        AluOp::And => {
            dst.var_off = dst.var_off.and(src.var_off);
            scalar32_and(&mut dst, &src);
            scalar64_and(&mut dst, &src);
        }
        AluOp::Or => {
            dst.var_off = dst.var_off.or(src.var_off);
            scalar32_or(&mut dst, &src);
            scalar64_or(&mut dst, &src);
        }
        AluOp::Xor => {
            dst.var_off = dst.var_off.xor(src.var_off);
            scalar32_xor(&mut dst, &src);
            scalar64_xor(&mut dst, &src);
        }
        AluOp::Lsh => {
            if alu32 {
                scalar32_lsh(&mut dst, &src)
            } else {
                scalar64_lsh(&mut dst, &src)
            }
        }
        AluOp::Rsh => {
            if alu32 {
                scalar32_rsh(&mut dst, &src)
            } else {
                scalar64_rsh(&mut dst, &src)
            }
        }
        AluOp::Arsh => {
            if alu32 {
                scalar32_arsh(&mut dst, &src)
            } else {
                scalar64_arsh(&mut dst, &src)
            }
        }
        AluOp::End(kind, bits) => scalar_byte_swap(&mut dst, kind, bits),
        AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32 => unreachable!(),
    }
    if alu32 && !matches!(op, AluOp::End(..)) {
        dst.zext_32_to_64();
    }
    dst.sync();
    dst
}

/// Kernel `scalar32_min_max_add`; `wrap` keeps a range whose bounds both wrapped (post-6.12).
fn scalar32_add(dst: &mut Scalar, src: &Scalar, wrap: bool) {
    match (
        dst.s32_min.checked_add(src.s32_min),
        dst.s32_max.checked_add(src.s32_max),
    ) {
        (Some(a), Some(b)) => {
            dst.s32_min = a;
            dst.s32_max = b;
        }
        _ => {
            dst.s32_min = i32::MIN;
            dst.s32_max = i32::MAX;
        }
    }
    let (umin, min_ov) = dst.u32_min.overflowing_add(src.u32_min);
    let (umax, max_ov) = dst.u32_max.overflowing_add(src.u32_max);
    dst.u32_min = umin;
    dst.u32_max = umax;
    let overflow = if wrap {
        !min_ov && max_ov
    } else {
        min_ov || max_ov
    };
    if overflow {
        dst.u32_min = 0;
        dst.u32_max = u32::MAX;
    }
}

/// Kernel `scalar_min_max_add`; `wrap` as in [`scalar32_add`].
fn scalar64_add(dst: &mut Scalar, src: &Scalar, wrap: bool) {
    match (
        dst.smin.checked_add(src.smin),
        dst.smax.checked_add(src.smax),
    ) {
        (Some(a), Some(b)) => {
            dst.smin = a;
            dst.smax = b;
        }
        _ => {
            dst.smin = i64::MIN;
            dst.smax = i64::MAX;
        }
    }
    let (umin, min_ov) = dst.umin.overflowing_add(src.umin);
    let (umax, max_ov) = dst.umax.overflowing_add(src.umax);
    dst.umin = umin;
    dst.umax = umax;
    let overflow = if wrap {
        !min_ov && max_ov
    } else {
        min_ov || max_ov
    };
    if overflow {
        dst.umin = 0;
        dst.umax = u64::MAX;
    }
}

/// Kernel `scalar32_min_max_sub` (6.12: unbounded if `u32_min < src.u32_max`).
fn scalar32_sub(dst: &mut Scalar, src: &Scalar, wrap: bool) {
    match (
        dst.s32_min.checked_sub(src.s32_max),
        dst.s32_max.checked_sub(src.s32_min),
    ) {
        (Some(a), Some(b)) => {
            dst.s32_min = a;
            dst.s32_max = b;
        }
        _ => {
            dst.s32_min = i32::MIN;
            dst.s32_max = i32::MAX;
        }
    }
    let (umin, min_uf) = dst.u32_min.overflowing_sub(src.u32_max);
    let (umax, max_uf) = dst.u32_max.overflowing_sub(src.u32_min);
    dst.u32_min = umin;
    dst.u32_max = umax;
    let underflow = if wrap { min_uf && !max_uf } else { min_uf };
    if underflow {
        dst.u32_min = 0;
        dst.u32_max = u32::MAX;
    }
}

/// Kernel `scalar_min_max_sub` (6.12: unbounded if `umin < src.umax`).
fn scalar64_sub(dst: &mut Scalar, src: &Scalar, wrap: bool) {
    match (
        dst.smin.checked_sub(src.smax),
        dst.smax.checked_sub(src.smin),
    ) {
        (Some(a), Some(b)) => {
            dst.smin = a;
            dst.smax = b;
        }
        _ => {
            dst.smin = i64::MIN;
            dst.smax = i64::MAX;
        }
    }
    let (umin, min_uf) = dst.umin.overflowing_sub(src.umax);
    let (umax, max_uf) = dst.umax.overflowing_sub(src.umin);
    dst.umin = umin;
    dst.umax = umax;
    let underflow = if wrap { min_uf && !max_uf } else { min_uf };
    if underflow {
        dst.umin = 0;
        dst.umax = u64::MAX;
    }
}

/// Kernel 6.12 `scalar32_min_max_mul`.
fn scalar32_mul(dst: &mut Scalar, src: &Scalar) {
    if src.s32_min < 0 || dst.s32_min < 0 {
        dst.mark32_unbounded();
        return;
    }
    if src.u32_max > u16::MAX as u32 || dst.u32_max > u16::MAX as u32 {
        dst.mark32_unbounded();
        return;
    }
    dst.u32_min *= src.u32_min;
    dst.u32_max *= src.u32_max;
    if dst.u32_max > i32::MAX as u32 {
        dst.s32_min = i32::MIN;
        dst.s32_max = i32::MAX;
    } else {
        dst.s32_min = dst.u32_min as i32;
        dst.s32_max = dst.u32_max as i32;
    }
}

/// Kernel 6.12 `scalar_min_max_mul`.
fn scalar64_mul(dst: &mut Scalar, src: &Scalar) {
    if src.smin < 0 || dst.smin < 0 {
        dst.mark64_unbounded();
        return;
    }
    if src.umax > u32::MAX as u64 || dst.umax > u32::MAX as u64 {
        dst.mark64_unbounded();
        return;
    }
    dst.umin *= src.umin;
    dst.umax *= src.umax;
    if dst.umax > i64::MAX as u64 {
        dst.smin = i64::MIN;
        dst.smax = i64::MAX;
    } else {
        dst.smin = dst.umin as i64;
        dst.smax = dst.umax as i64;
    }
}

/// Post-6.12 multiplication with product overflow checks.
fn scalar32_mul_checked(dst: &mut Scalar, src: &Scalar) {
    // check_mul_overflow stores the wrapped product even on overflow; the
    // second multiplication is skipped when the first overflows (short-circuit ||).
    let (umax, ov1) = dst.u32_max.overflowing_mul(src.u32_max);
    dst.u32_max = umax;
    let ov = ov1 || {
        let (umin, ov2) = dst.u32_min.overflowing_mul(src.u32_min);
        dst.u32_min = umin;
        ov2
    };
    if ov {
        dst.u32_min = 0;
        dst.u32_max = u32::MAX;
    }
    let p = [
        dst.s32_min.checked_mul(src.s32_min),
        dst.s32_min.checked_mul(src.s32_max),
        dst.s32_max.checked_mul(src.s32_min),
        dst.s32_max.checked_mul(src.s32_max),
    ];
    if p.iter().any(|x| x.is_none()) {
        dst.s32_min = i32::MIN;
        dst.s32_max = i32::MAX;
    } else {
        let v = p.map(|x| x.unwrap_or(0));
        dst.s32_min = *v.iter().min().unwrap_or(&i32::MIN);
        dst.s32_max = *v.iter().max().unwrap_or(&i32::MAX);
    }
}

/// Post-6.12 multiplication with product overflow checks.
fn scalar64_mul_checked(dst: &mut Scalar, src: &Scalar) {
    let (umax, ov1) = dst.umax.overflowing_mul(src.umax);
    dst.umax = umax;
    let ov = ov1 || {
        let (umin, ov2) = dst.umin.overflowing_mul(src.umin);
        dst.umin = umin;
        ov2
    };
    if ov {
        dst.umin = 0;
        dst.umax = u64::MAX;
    }
    let p = [
        dst.smin.checked_mul(src.smin),
        dst.smin.checked_mul(src.smax),
        dst.smax.checked_mul(src.smin),
        dst.smax.checked_mul(src.smax),
    ];
    if p.iter().any(|x| x.is_none()) {
        dst.smin = i64::MIN;
        dst.smax = i64::MAX;
    } else {
        let v = p.map(|x| x.unwrap_or(0));
        dst.smin = *v.iter().min().unwrap_or(&i64::MIN);
        dst.smax = *v.iter().max().unwrap_or(&i64::MAX);
    }
}

fn reset_reg64_and_tnum(dst: &mut Scalar) {
    dst.mark64_unbounded();
    dst.var_off = Tnum::UNKNOWN;
}

fn reset_reg32_and_tnum(dst: &mut Scalar) {
    dst.mark32_unbounded();
    dst.var_off = Tnum::UNKNOWN;
}

fn scalar32_udiv(dst: &mut Scalar, src: &Scalar) {
    let d = src.u32_min;
    dst.u32_min /= d;
    dst.u32_max /= d;
    dst.s32_min = i32::MIN;
    dst.s32_max = i32::MAX;
    reset_reg64_and_tnum(dst);
}

fn scalar64_udiv(dst: &mut Scalar, src: &Scalar) {
    let d = src.umin;
    dst.umin /= d;
    dst.umax /= d;
    dst.smin = i64::MIN;
    dst.smax = i64::MAX;
    reset_reg32_and_tnum(dst);
}

fn scalar32_sdiv(dst: &mut Scalar, src: &Scalar) {
    let d = src.s32_min;
    if dst.s32_min == i32::MIN && d == -1 {
        if dst.s32_max != i32::MIN {
            dst.s32_min = i32::MIN;
            dst.s32_max = i32::MAX;
        }
    } else {
        let r1 = dst.s32_min.wrapping_div(d);
        let r2 = dst.s32_max.wrapping_div(d);
        dst.s32_min = r1.min(r2);
        dst.s32_max = r1.max(r2);
    }
    dst.u32_min = 0;
    dst.u32_max = u32::MAX;
    reset_reg64_and_tnum(dst);
}

fn scalar64_sdiv(dst: &mut Scalar, src: &Scalar) {
    let d = src.smin;
    if dst.smin == i64::MIN && d == -1 {
        if dst.smax != i64::MIN {
            dst.smin = i64::MIN;
            dst.smax = i64::MAX;
        }
    } else {
        let r1 = dst.smin.wrapping_div(d);
        let r2 = dst.smax.wrapping_div(d);
        dst.smin = r1.min(r2);
        dst.smax = r1.max(r2);
    }
    dst.umin = 0;
    dst.umax = u64::MAX;
    reset_reg32_and_tnum(dst);
}

fn scalar32_umod(dst: &mut Scalar, src: &Scalar) {
    let res_max = src.u32_min - 1;
    if dst.u32_max <= res_max {
        return;
    }
    dst.u32_min = 0;
    dst.u32_max = dst.u32_max.min(res_max);
    dst.s32_min = i32::MIN;
    dst.s32_max = i32::MAX;
    reset_reg64_and_tnum(dst);
}

fn scalar64_umod(dst: &mut Scalar, src: &Scalar) {
    let res_max = src.umin - 1;
    if dst.umax <= res_max {
        return;
    }
    dst.umin = 0;
    dst.umax = dst.umax.min(res_max);
    dst.smin = i64::MIN;
    dst.smax = i64::MAX;
    reset_reg32_and_tnum(dst);
}

fn scalar32_smod(dst: &mut Scalar, src: &Scalar) {
    let d = src.s32_min;
    let src_abs: u32 = if d > 0 {
        d as u32
    } else {
        (d as u32).wrapping_neg()
    };
    let res_max_abs = src_abs.wrapping_sub(1) as i32;
    if dst.s32_min >= -res_max_abs && dst.s32_max <= res_max_abs {
        return;
    }
    if dst.s32_min >= 0 {
        dst.s32_min = 0;
        dst.s32_max = dst.s32_max.min(res_max_abs);
    } else if dst.s32_max <= 0 {
        dst.s32_max = 0;
        dst.s32_min = dst.s32_min.max(-res_max_abs);
    } else {
        dst.s32_min = -res_max_abs;
        dst.s32_max = res_max_abs;
    }
    dst.u32_min = 0;
    dst.u32_max = u32::MAX;
    reset_reg64_and_tnum(dst);
}

fn scalar64_smod(dst: &mut Scalar, src: &Scalar) {
    let d = src.smin;
    let src_abs: u64 = if d > 0 {
        d as u64
    } else {
        (d as u64).wrapping_neg()
    };
    let res_max_abs = src_abs.wrapping_sub(1) as i64;
    if dst.smin >= -res_max_abs && dst.smax <= res_max_abs {
        return;
    }
    if dst.smin >= 0 {
        dst.smin = 0;
        dst.smax = dst.smax.min(res_max_abs);
    } else if dst.smax <= 0 {
        dst.smax = 0;
        dst.smin = dst.smin.max(-res_max_abs);
    } else {
        dst.smin = -res_max_abs;
        dst.smax = res_max_abs;
    }
    dst.umin = 0;
    dst.umax = u64::MAX;
    reset_reg32_and_tnum(dst);
}

fn set_s32_from_u32(dst: &mut Scalar) {
    if (dst.u32_min as i32) <= (dst.u32_max as i32) {
        dst.s32_min = dst.u32_min as i32;
        dst.s32_max = dst.u32_max as i32;
    } else {
        dst.s32_min = i32::MIN;
        dst.s32_max = i32::MAX;
    }
}

fn set_s64_from_u64(dst: &mut Scalar) {
    if (dst.umin as i64) <= (dst.umax as i64) {
        dst.smin = dst.umin as i64;
        dst.smax = dst.umax as i64;
    } else {
        dst.smin = i64::MIN;
        dst.smax = i64::MAX;
    }
}

/// Kernel `__mark_reg_known` on the numeric part.
fn mark_known(dst: &mut Scalar, v: u64) {
    *dst = Scalar::constant(v);
}

fn scalar32_and(dst: &mut Scalar, src: &Scalar) {
    let src_known = src.var_off.subreg_is_const();
    let dst_known = dst.var_off.subreg_is_const();
    let v = dst.var_off.subreg();
    if src_known && dst_known {
        dst.mark32_known(v.value);
        return;
    }
    dst.u32_min = v.value as u32;
    dst.u32_max = dst.u32_max.min(src.u32_max);
    set_s32_from_u32(dst);
}

fn scalar64_and(dst: &mut Scalar, src: &Scalar) {
    if src.var_off.is_const() && dst.var_off.is_const() {
        mark_known(dst, dst.var_off.value);
        return;
    }
    dst.umin = dst.var_off.value;
    dst.umax = dst.umax.min(src.umax);
    set_s64_from_u64(dst);
    dst.update_reg_bounds();
}

fn scalar32_or(dst: &mut Scalar, src: &Scalar) {
    let src_known = src.var_off.subreg_is_const();
    let dst_known = dst.var_off.subreg_is_const();
    let v = dst.var_off.subreg();
    if src_known && dst_known {
        dst.mark32_known(v.value);
        return;
    }
    dst.u32_min = dst.u32_min.max(src.u32_min);
    dst.u32_max = (v.value | v.mask) as u32;
    set_s32_from_u32(dst);
}

fn scalar64_or(dst: &mut Scalar, src: &Scalar) {
    if src.var_off.is_const() && dst.var_off.is_const() {
        mark_known(dst, dst.var_off.value);
        return;
    }
    dst.umin = dst.umin.max(src.umin);
    dst.umax = dst.var_off.value | dst.var_off.mask;
    set_s64_from_u64(dst);
    dst.update_reg_bounds();
}

fn scalar32_xor(dst: &mut Scalar, src: &Scalar) {
    let src_known = src.var_off.subreg_is_const();
    let dst_known = dst.var_off.subreg_is_const();
    let v = dst.var_off.subreg();
    if src_known && dst_known {
        dst.mark32_known(v.value);
        return;
    }
    dst.u32_min = v.value as u32;
    dst.u32_max = (v.value | v.mask) as u32;
    set_s32_from_u32(dst);
}

fn scalar64_xor(dst: &mut Scalar, src: &Scalar) {
    if src.var_off.is_const() && dst.var_off.is_const() {
        mark_known(dst, dst.var_off.value);
        return;
    }
    dst.umin = dst.var_off.value;
    dst.umax = dst.var_off.value | dst.var_off.mask;
    set_s64_from_u64(dst);
    dst.update_reg_bounds();
}

fn scalar32_lsh_bounds(dst: &mut Scalar, umin_val: u64, umax_val: u64) {
    dst.s32_min = i32::MIN;
    dst.s32_max = i32::MAX;
    if umax_val > 31 || dst.u32_max as u64 > 1u64 << (31 - umax_val) {
        dst.u32_min = 0;
        dst.u32_max = u32::MAX;
    } else {
        dst.u32_min <<= umin_val;
        dst.u32_max <<= umax_val;
    }
}

fn scalar32_lsh(dst: &mut Scalar, src: &Scalar) {
    let umax_val = src.u32_max as u64;
    let umin_val = src.u32_min as u64;
    let subreg = dst.var_off.subreg();
    scalar32_lsh_bounds(dst, umin_val, umax_val);
    dst.var_off = subreg.lshift(umin_val as u8).subreg();
    dst.mark64_unbounded();
    dst.update_reg32_bounds();
}

fn scalar64_lsh_bounds(dst: &mut Scalar, umin_val: u64, umax_val: u64) {
    if umin_val == 32 && umax_val == 32 {
        dst.smax = (dst.s32_max as i64) << 32;
        dst.smin = (dst.s32_min as i64) << 32;
    } else {
        dst.smax = i64::MAX;
        dst.smin = i64::MIN;
    }
    if dst.umax > 1u64 << (63 - umax_val) {
        dst.umin = 0;
        dst.umax = u64::MAX;
    } else {
        dst.umin <<= umin_val;
        dst.umax <<= umax_val;
    }
}

fn scalar64_lsh(dst: &mut Scalar, src: &Scalar) {
    let umax_val = src.umax;
    let umin_val = src.umin;
    scalar64_lsh_bounds(dst, umin_val, umax_val);
    scalar32_lsh_bounds(dst, umin_val, umax_val);
    dst.var_off = dst.var_off.lshift(umin_val as u8);
    dst.update_reg_bounds();
}

fn scalar32_rsh(dst: &mut Scalar, src: &Scalar) {
    let subreg = dst.var_off.subreg();
    let umax_val = src.u32_max;
    let umin_val = src.u32_min;
    dst.s32_min = i32::MIN;
    dst.s32_max = i32::MAX;
    dst.var_off = subreg.rshift(umin_val as u8);
    dst.u32_min >>= umax_val;
    dst.u32_max >>= umin_val;
    dst.mark64_unbounded();
    dst.update_reg32_bounds();
}

fn scalar64_rsh(dst: &mut Scalar, src: &Scalar) {
    let umax_val = src.umax;
    let umin_val = src.umin;
    dst.smin = i64::MIN;
    dst.smax = i64::MAX;
    dst.var_off = dst.var_off.rshift(umin_val as u8);
    dst.umin >>= umax_val;
    dst.umax >>= umin_val;
    dst.mark32_unbounded();
    dst.update_reg_bounds();
}

fn scalar32_arsh(dst: &mut Scalar, src: &Scalar) {
    let umin_val = src.u32_min;
    dst.s32_min >>= umin_val;
    dst.s32_max >>= umin_val;
    dst.var_off = dst.var_off.subreg().arshift(umin_val as u8, 32);
    dst.u32_min = 0;
    dst.u32_max = u32::MAX;
    dst.mark64_unbounded();
    dst.update_reg32_bounds();
}

fn scalar64_arsh(dst: &mut Scalar, src: &Scalar) {
    let umin_val = src.umin;
    dst.smin >>= umin_val;
    dst.smax >>= umin_val;
    dst.var_off = dst.var_off.arshift(umin_val as u8, 64);
    dst.umin = 0;
    dst.umax = u64::MAX;
    dst.mark32_unbounded();
    dst.update_reg_bounds();
}

/// Kernel `scalar_byte_swap`, assuming a little-endian host.
fn scalar_byte_swap(dst: &mut Scalar, kind: Endian, bits: u8) {
    let need_bswap = matches!(kind, Endian::Bswap | Endian::ToBe);
    if need_bswap {
        match bits {
            16 => dst.var_off = dst.var_off.bswap16(),
            32 => dst.var_off = dst.var_off.bswap32(),
            64 => dst.var_off = dst.var_off.bswap64(),
            _ => {}
        }
        dst.mark_unbounded();
    }
    if bits == 16 || bits == 32 {
        dst.coerce_to_size(bits / 8);
    }
}

/// Kernel `is_scalar_branch_taken`: `Some(true)`/`Some(false)` if decided, `None` otherwise.
fn is_scalar_branch_taken(
    reg1: &Scalar,
    reg2: &Scalar,
    op: JmpOp,
    is_jmp32: bool,
    same_reg: bool,
) -> Option<bool> {
    let sel = |r: &Scalar| -> (Tnum, u64, u64, i64, i64) {
        if is_jmp32 {
            (
                r.var_off.subreg(),
                r.u32_min as u64,
                r.u32_max as u64,
                r.s32_min as i64,
                r.s32_max as i64,
            )
        } else {
            (r.var_off, r.umin, r.umax, r.smin, r.smax)
        }
    };
    let (mut t1, umin1, umax1, smin1, smax1) = sel(reg1);
    let (mut t2, umin2, umax2, smin2, smax2) = sel(reg2);
    use JmpOp::*;
    if same_reg {
        return match op {
            Jge | Jle | Jsge | Jsle | Jeq => Some(true),
            Jgt | Jlt | Jsgt | Jslt | Jne => Some(false),
            Jset => {
                if t1.is_const() {
                    Some(t1.value != 0)
                } else if smin1 <= 0 && smax1 >= 0 {
                    None
                } else {
                    Some(true)
                }
            }
            JsetNot => None,
        };
    }
    match op {
        Jeq | Jne => {
            let eq = op == Jeq;
            if t1.is_const() && t2.is_const() {
                return Some((t1.value == t2.value) == eq);
            }
            let differ = !t1.overlap(t2)
                || umin1 > umax2
                || umax1 < umin2
                || smin1 > smax2
                || smax1 < smin2
                || (!is_jmp32
                    && (reg1.u32_min > reg2.u32_max
                        || reg1.u32_max < reg2.u32_min
                        || reg1.s32_min > reg2.s32_max
                        || reg1.s32_max < reg2.s32_min));
            if differ {
                return Some(!eq);
            }
            None
        }
        Jset => {
            if !reg2.is_reg_const(is_jmp32) {
                std::mem::swap(&mut t1, &mut t2);
                if !reg1.is_reg_const(is_jmp32) {
                    return None;
                }
            }
            if (!t1.mask & t1.value) & t2.value != 0 {
                return Some(true);
            }
            if (t1.mask | t1.value) & t2.value == 0 {
                return Some(false);
            }
            None
        }
        JsetNot => None,
        Jgt => {
            if umin1 > umax2 {
                Some(true)
            } else if umax1 <= umin2 {
                Some(false)
            } else {
                None
            }
        }
        Jsgt => {
            if smin1 > smax2 {
                Some(true)
            } else if smax1 <= smin2 {
                Some(false)
            } else {
                None
            }
        }
        Jlt => {
            if umax1 < umin2 {
                Some(true)
            } else if umin1 >= umax2 {
                Some(false)
            } else {
                None
            }
        }
        Jslt => {
            if smax1 < smin2 {
                Some(true)
            } else if smin1 >= smax2 {
                Some(false)
            } else {
                None
            }
        }
        Jge => {
            if umin1 >= umax2 {
                Some(true)
            } else if umax1 < umin2 {
                Some(false)
            } else {
                None
            }
        }
        Jsge => {
            if smin1 >= smax2 {
                Some(true)
            } else if smax1 < smin2 {
                Some(false)
            } else {
                None
            }
        }
        Jle => {
            if umax1 <= umin2 {
                Some(true)
            } else if umin1 > umax2 {
                Some(false)
            } else {
                None
            }
        }
        Jsle => {
            if smax1 <= smin2 {
                Some(true)
            } else if smin1 > smax2 {
                Some(false)
            } else {
                None
            }
        }
    }
}

/// Kernel `regs_refine_cond_op(reg, reg, ...)`: both operands are the same
/// register, so every write to "reg1" is visible when "reg2" is read.
fn refine_same_reg_op(reg: &mut Scalar, op: JmpOp, is_jmp32: bool) {
    use JmpOp::*;
    // GE/GT/SGE/SGT become LE/LT/SLE/SLT with swapped (here: identical) operands.
    let op = match op {
        Jge | Jgt | Jsge | Jsgt => op.flip(),
        _ => op,
    };
    match op {
        Jlt => {
            if is_jmp32 {
                reg.u32_max = reg.u32_max.min(reg.u32_max.wrapping_sub(1));
                reg.u32_min = reg.u32_min.wrapping_add(1).max(reg.u32_min);
            } else {
                reg.umax = reg.umax.min(reg.umax.wrapping_sub(1));
                reg.umin = reg.umin.wrapping_add(1).max(reg.umin);
            }
        }
        Jslt => {
            if is_jmp32 {
                reg.s32_max = reg.s32_max.min(reg.s32_max.wrapping_sub(1));
                reg.s32_min = reg.s32_min.wrapping_add(1).max(reg.s32_min);
            } else {
                reg.smax = reg.smax.min(reg.smax.wrapping_sub(1));
                reg.smin = reg.smin.wrapping_add(1).max(reg.smin);
            }
        }
        _ => {
            // JEQ/JLE/JSLE leave an aliased register unchanged; JNE/JSET/JSET|X
            // read reg2 only before writing reg1: the non-aliased result of reg1.
            let mut other = *reg;
            regs_refine_cond_op(reg, &mut other, op, is_jmp32);
        }
    }
}

/// Kernel `regs_refine_cond_op` (without the final sync).
fn regs_refine_cond_op(r1: &mut Scalar, r2: &mut Scalar, op: JmpOp, is_jmp32: bool) {
    use JmpOp::*;
    let (reg1, reg2, op) = match op {
        Jge | Jgt | Jsge | Jsgt => (r2, r1, op.flip()),
        _ => (r1, r2, op),
    };
    match op {
        Jeq => {
            if is_jmp32 {
                reg1.u32_min = reg1.u32_min.max(reg2.u32_min);
                reg1.u32_max = reg1.u32_max.min(reg2.u32_max);
                reg1.s32_min = reg1.s32_min.max(reg2.s32_min);
                reg1.s32_max = reg1.s32_max.min(reg2.s32_max);
                reg2.u32_min = reg1.u32_min;
                reg2.u32_max = reg1.u32_max;
                reg2.s32_min = reg1.s32_min;
                reg2.s32_max = reg1.s32_max;
                let t = reg1.var_off.subreg().intersect(reg2.var_off.subreg());
                reg1.var_off = reg1.var_off.with_subreg(t);
                reg2.var_off = reg2.var_off.with_subreg(t);
            } else {
                reg1.umin = reg1.umin.max(reg2.umin);
                reg1.umax = reg1.umax.min(reg2.umax);
                reg1.smin = reg1.smin.max(reg2.smin);
                reg1.smax = reg1.smax.min(reg2.smax);
                reg2.umin = reg1.umin;
                reg2.umax = reg1.umax;
                reg2.smin = reg1.smin;
                reg2.smax = reg1.smax;
                reg1.var_off = reg1.var_off.intersect(reg2.var_off);
                reg2.var_off = reg1.var_off;
            }
        }
        Jne | Jset | JsetNot => {
            let (reg1, reg2) = if !reg2.is_reg_const(is_jmp32) {
                (reg2, reg1)
            } else {
                (reg1, reg2)
            };
            if !reg2.is_reg_const(is_jmp32) {
                return;
            }
            let val = reg2.const_value(is_jmp32);
            match op {
                Jne => {
                    if is_jmp32 {
                        if reg1.u32_min == val as u32 {
                            reg1.u32_min = reg1.u32_min.wrapping_add(1);
                        }
                        if reg1.u32_max == val as u32 {
                            reg1.u32_max = reg1.u32_max.wrapping_sub(1);
                        }
                        if reg1.s32_min == val as u32 as i32 {
                            reg1.s32_min = reg1.s32_min.wrapping_add(1);
                        }
                        if reg1.s32_max == val as u32 as i32 {
                            reg1.s32_max = reg1.s32_max.wrapping_sub(1);
                        }
                    } else {
                        if reg1.umin == val {
                            reg1.umin = reg1.umin.wrapping_add(1);
                        }
                        if reg1.umax == val {
                            reg1.umax = reg1.umax.wrapping_sub(1);
                        }
                        if reg1.smin == val as i64 {
                            reg1.smin = reg1.smin.wrapping_add(1);
                        }
                        if reg1.smax == val as i64 {
                            reg1.smax = reg1.smax.wrapping_sub(1);
                        }
                    }
                }
                Jset => {
                    if !val.is_power_of_two() {
                        return;
                    }
                    if is_jmp32 {
                        let t = reg1.var_off.subreg().or(Tnum::constant(val));
                        reg1.var_off = reg1.var_off.with_subreg(t);
                    } else {
                        reg1.var_off = reg1.var_off.or(Tnum::constant(val));
                    }
                }
                _ => {
                    reg1.mark_unbounded();
                    if is_jmp32 {
                        let t = reg1.var_off.subreg().and(Tnum::constant(!val));
                        reg1.var_off = reg1.var_off.with_subreg(t);
                    } else {
                        reg1.var_off = reg1.var_off.and(Tnum::constant(!val));
                    }
                }
            }
        }
        Jle => {
            if is_jmp32 {
                reg1.u32_max = reg1.u32_max.min(reg2.u32_max);
                reg2.u32_min = reg1.u32_min.max(reg2.u32_min);
            } else {
                reg1.umax = reg1.umax.min(reg2.umax);
                reg2.umin = reg1.umin.max(reg2.umin);
            }
        }
        Jlt => {
            if is_jmp32 {
                reg1.u32_max = reg1.u32_max.min(reg2.u32_max.wrapping_sub(1));
                reg2.u32_min = reg1.u32_min.wrapping_add(1).max(reg2.u32_min);
            } else {
                reg1.umax = reg1.umax.min(reg2.umax.wrapping_sub(1));
                reg2.umin = reg1.umin.wrapping_add(1).max(reg2.umin);
            }
        }
        Jsle => {
            if is_jmp32 {
                reg1.s32_max = reg1.s32_max.min(reg2.s32_max);
                reg2.s32_min = reg1.s32_min.max(reg2.s32_min);
            } else {
                reg1.smax = reg1.smax.min(reg2.smax);
                reg2.smin = reg1.smin.max(reg2.smin);
            }
        }
        Jslt => {
            if is_jmp32 {
                reg1.s32_max = reg1.s32_max.min(reg2.s32_max.wrapping_sub(1));
                reg2.s32_min = reg1.s32_min.wrapping_add(1).max(reg2.s32_min);
            } else {
                reg1.smax = reg1.smax.min(reg2.smax.wrapping_sub(1));
                reg2.smin = reg1.smin.wrapping_add(1).max(reg2.smin);
            }
        }
        Jge | Jgt | Jsge | Jsgt => unreachable!(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_and_unknown() {
        let c = Scalar::constant(-5i64 as u64);
        assert!(c.is_valid() && c.is_const());
        assert_eq!(c.to_string(), "-5");
        assert!(Scalar::unknown().is_unbounded());
        assert_eq!(Scalar::imm(-1), Scalar::constant(u64::MAX));
    }

    #[test]
    fn zext_of_32bit_ops() {
        let r = Scalar::alu(
            AluOp::Add,
            false,
            &Scalar::constant(u64::MAX),
            &Scalar::imm(2),
        );
        assert_eq!(r, Scalar::constant(1));
        let r = Scalar::alu(AluOp::Mov, false, &Scalar::unknown(), &Scalar::imm(-1));
        assert_eq!(r, Scalar::constant(0xffff_ffff));
    }

    #[test]
    fn unsafe_shifts_and_div_mark_unknown() {
        // 6.12 is_safe_to_compute_dst_reg_range: DIV/MOD never safe; shifts need a
        // constant in range. __mark_reg_unknown clears the full 64-bit register.
        let d = Scalar::from_urange(0, 100);
        let s = Scalar::from_urange(1, 2);
        assert!(Scalar::alu(AluOp::Lsh, true, &d, &s).is_unbounded());
        assert!(Scalar::alu(AluOp::Div, true, &d, &s).is_unbounded());
        assert!(Scalar::alu(AluOp::Rsh, true, &d, &Scalar::constant(64)).is_unbounded());
        assert!(Scalar::alu(AluOp::Rsh, false, &d, &Scalar::constant(32)).is_unbounded());
        for op in [AluOp::Div, AluOp::Sdiv, AluOp::Mod, AluOp::Smod] {
            for is_64 in [true, false] {
                for k in [0, 1, 10] {
                    let r = Scalar::alu(op, is_64, &d, &Scalar::constant(k));
                    assert!(r.is_unbounded(), "{op:?} {is_64} {k}: {r:?}");
                }
            }
        }
        // The post-6.12 tracking is still available behind a feature flag.
        let f = KernelFeatures::BPF_NEXT_SNAPSHOT;
        let q = Scalar::alu_with(f, AluOp::Div, true, &d, &Scalar::constant(10));
        assert_eq!((q.umin, q.umax), (0, 10));
        assert_eq!(
            Scalar::alu_with(f, AluOp::Div, true, &d, &Scalar::constant(0)),
            Scalar::constant(0)
        );
        assert_eq!(
            Scalar::alu_with(f, AluOp::Mod, true, &d, &Scalar::constant(0)),
            d
        );
    }

    #[test]
    fn neg_and_end_mark_unknown() {
        // 6.12 check_alu_op: BPF_NEG/BPF_END go through check_reg_arg(DST_OP) ->
        // mark_reg_unknown, also for the 32-bit forms (no zero extension).
        let d = Scalar::from_tnum(Tnum::new(0x1200, 0xff));
        assert!(Scalar::alu(AluOp::Neg, true, &d, &d).is_unbounded());
        assert!(Scalar::alu(AluOp::Neg, false, &d, &d).is_unbounded());
        for kind in [Endian::ToLe, Endian::ToBe, Endian::Bswap] {
            for bits in [16, 32, 64] {
                assert!(Scalar::alu(AluOp::End(kind, bits), false, &d, &d).is_unbounded());
            }
        }
        assert!(Scalar::alu(AluOp::Neg, true, &Scalar::constant(5), &d).is_unbounded());
    }

    #[test]
    fn byte_swaps_feature() {
        let f = KernelFeatures::BPF_NEXT_SNAPSHOT;
        let d = Scalar::from_tnum(Tnum::new(0x1200, 0xff));
        let be16 = Scalar::alu_with(f, AluOp::End(Endian::ToBe, 16), false, &d, &d);
        assert_eq!(be16.var_off, Tnum::new(0x12, 0xff00));
        let le16 = Scalar::alu_with(f, AluOp::End(Endian::ToLe, 16), false, &d, &d);
        assert_eq!(le16.var_off, Tnum::new(0x1200, 0xff));
        let le64 = Scalar::alu_with(f, AluOp::End(Endian::ToLe, 64), false, &d, &d);
        assert_eq!(le64, d);
    }

    #[test]
    fn add_sub_mul_6_12() {
        // scalar_min_max_add: any unsigned overflow -> unbounded (even if both wrap).
        let d = Scalar::from_urange(u64::MAX - 1, u64::MAX);
        let r = Scalar::alu(AluOp::Add, true, &d, &Scalar::constant(2));
        assert_eq!((r.umin, r.umax), (0, 1));
        let f = KernelFeatures::BPF_NEXT_SNAPSHOT;
        let r = Scalar::alu_with(f, AluOp::Add, true, &d, &Scalar::constant(2));
        assert_eq!((r.umin, r.umax), (0, 1));
        // scalar_min_max_sub: umin < src.umax -> unbounded unsigned range.
        let a = Scalar::from_urange(0, 1);
        let r = Scalar::alu(AluOp::Sub, true, &a, &Scalar::from_urange(2, 3));
        assert_eq!((r.smin, r.smax), (-3, -1));
        assert_eq!((r.umin, r.umax), ((-3i64) as u64, u64::MAX));
        // scalar_min_max_mul: negative operand -> unbounded 64-bit range.
        let r = Scalar::alu(
            AluOp::Mul,
            true,
            &Scalar::from_srange(-2, 2),
            &Scalar::constant(3),
        );
        assert_eq!((r.smin, r.smax), (i64::MIN, i64::MAX));
        let r = Scalar::alu(
            AluOp::Mul,
            true,
            &Scalar::from_urange(0, 10),
            &Scalar::constant(3),
        );
        assert_eq!((r.umin, r.umax), (0, 30));
        let r = Scalar::alu(
            AluOp::Mul,
            true,
            &Scalar::from_urange(0, 1),
            &Scalar::constant(1 << 33),
        );
        assert_eq!(r.var_off, Tnum::new(0, 1 << 33));
    }

    #[test]
    fn maybe_fork_scalars() {
        // 6.12 maybe_fork_scalars: AND/OR with a constant of a [-1, 0] register.
        let m = Scalar::from_srange(-1, 0);
        let (a, b) = Scalar::alu_forked(AluOp::And, true, &m, &Scalar::imm(0x10));
        assert_eq!(a, Scalar::constant(0x10));
        assert_eq!(b, Some(Scalar::constant(0)));
        let j = Scalar::alu(AluOp::And, true, &m, &Scalar::imm(0x10));
        assert!(j.contains(0) && j.contains(0x10));
        let (_, none) = Scalar::alu_forked(AluOp::Add, true, &m, &Scalar::imm(1));
        assert!(none.is_none());
    }

    #[test]
    fn same_reg_branches_6_12() {
        // No same-register special case in 6.12: rX < rX is refined with aliasing.
        let r = Scalar::from_urange(5, 10);
        assert_eq!(Scalar::branch_taken_same_reg(&r, JmpOp::Jlt, false), None);
        let b = Scalar::reg_set_min_max_same_reg(&r, JmpOp::Jlt, false);
        let (t, _) = b.taken.unwrap();
        assert_eq!((t.umin, t.umax), (6, 9));
        let (f, _) = b.not_taken.unwrap();
        assert_eq!((f.umin, f.umax), (5, 10));
        assert_eq!(
            Scalar::branch_taken_same_reg(&Scalar::constant(3), JmpOp::Jeq, false),
            Some(true)
        );
        let snap = KernelFeatures::BPF_NEXT_SNAPSHOT;
        assert_eq!(
            Scalar::branch_taken_same_reg_with(snap, &r, JmpOp::Jlt, false),
            Some(false)
        );
    }

    #[test]
    fn coerce_sx() {
        let mut r = Scalar::from_urange(0x80, 0xff);
        r.coerce_to_size_sx(1);
        assert_eq!((r.smin, r.smax), (-128, -1));
        let mut r = Scalar::from_urange(0x7f, 0x80);
        r.coerce_to_size_sx(1);
        assert_eq!((r.smin, r.smax), (-128, 127));
        let mut r = Scalar::from_urange(0x1_0000_0000, 0x1_0000_00ff);
        r.coerce_to_size(4);
        assert_eq!((r.umin, r.umax), (0, 0xff));
    }

    #[test]
    fn subsumption() {
        let old = Scalar::from_urange(0, 100);
        let cur = Scalar::from_urange(10, 20);
        assert!(range_within(&old, &cur));
        assert!(scalar_subsumes(&old, &cur, true));
        assert!(!scalar_subsumes(&cur, &old, true));
        assert!(scalar_subsumes(&cur, &old, false));
    }

    #[test]
    fn branch_refinement_basic() {
        let r = Scalar::unknown();
        let b = Scalar::reg_set_min_max(&r, &Scalar::imm(10), JmpOp::Jlt, false);
        let (t, _) = b.taken.unwrap();
        let (f, _) = b.not_taken.unwrap();
        assert!(!b.invariant_violation);
        assert_eq!((t.umin, t.umax), (0, 9));
        assert_eq!(f.umin, 10);
        let c = Scalar::constant(3);
        let b = Scalar::reg_set_min_max(&c, &Scalar::imm(3), JmpOp::Jeq, false);
        assert!(b.taken.is_some() && b.not_taken.is_none());
    }
}
