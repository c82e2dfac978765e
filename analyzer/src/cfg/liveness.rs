//! Static liveness of registers and of the 64 eight-byte stack slots of
//! each frame, per instruction, for the engine's state pruning (what the
//! kernel approximates dynamically with `REG_LIVE_READ` marks).
//!
//! Intra-procedural and conservative (a superset of what is really live):
//! a helper, kfunc or bpf-to-bpf call reads R1–R5 and clobbers R0–R5; exit
//! reads R0. Stack slots are tracked exactly for accesses through R10 with
//! a constant offset; an access through another register that may hold a
//! pointer into the frame (a forward may-analysis of `r10`-derived values),
//! and a call that may receive such a pointer, read every slot. Only an
//! aligned 8-byte store through R10 kills a slot.

use super::graph::{Flow, flow};
use super::{SubprogInfo, insn_len};
use crate::isa::{self, AluOp, AtomicOp, Insn, RawInsn, Src};

/// Registers R0–R10 as bits 0–10.
pub type RegMask = u16;
/// Stack slots as bits: bit k = bytes `[-(k+1)*8, -k*8)` from R10.
pub type SlotMask = u64;

const R0_R5: RegMask = 0x3f;
const R1_R5: RegMask = 0x3e;
const ALL_REGS: RegMask = 0x7ff;

/// Liveness per instruction slot (zero for the second slot of `ld_imm64`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Liveness {
    /// Registers live before each instruction.
    pub regs_in: Vec<RegMask>,
    /// Registers live after each instruction.
    pub regs_out: Vec<RegMask>,
    /// Stack slots of the current frame live before each instruction.
    pub stack_in: Vec<SlotMask>,
}

impl Liveness {
    /// Is register `r` live before instruction `insn`? (true out of range)
    pub fn reg_live_before(&self, insn: usize, r: u8) -> bool {
        r > 10 || self.regs_in.get(insn).is_none_or(|m| m & (1u16 << r) != 0)
    }

    /// Is the 8-byte stack slot `slot` (`fp-8*(slot+1)`) live before
    /// instruction `insn`? (true out of range)
    pub fn slot_live_before(&self, insn: usize, slot: usize) -> bool {
        slot >= 64
            || self
                .stack_in
                .get(insn)
                .is_none_or(|m| m & (1u64 << slot) != 0)
    }
}

/// Slots covering bytes `[off, off + size)` relative to R10, if on the stack.
fn slots(off: i16, size: u32) -> Option<SlotMask> {
    let lo = off as i64;
    let hi = lo + size as i64 - 1;
    if lo < -512 || hi >= 0 {
        return None;
    }
    let k_hi = ((-lo - 1) / 8) as u32;
    let k_lo = ((-hi - 1) / 8) as u32;
    let mut m = 0u64;
    for k in k_lo..=k_hi.min(63) {
        m |= 1u64 << k;
    }
    Some(m)
}

fn bit(r: u8) -> RegMask {
    if r <= 10 { 1u16 << r } else { 0 }
}

/// Register uses and definitions of one instruction.
fn reg_use_def(insn: Option<&Insn>) -> (RegMask, RegMask) {
    let Some(insn) = insn else {
        return (0, 0);
    };
    let src = |s: &Src| match s {
        Src::Reg(r) => bit(*r),
        Src::Imm(_) => 0,
    };
    match insn {
        Insn::Alu {
            op, dst, src: s, ..
        } => match op {
            AluOp::Mov | AluOp::Movsx(_) => (src(s), bit(*dst)),
            _ => (bit(*dst) | src(s), bit(*dst)),
        },
        Insn::Neg { dst, .. } | Insn::End { dst, .. } => (bit(*dst), bit(*dst)),
        Insn::AddrSpaceCast { dst, src, .. } => (bit(*src), bit(*dst)),
        Insn::Ja { .. } | Insn::MayGoto { .. } => (0, 0),
        Insn::Jmp { dst, src: s, .. } => (bit(*dst) | src(s), 0),
        Insn::Call(_) => (R1_R5, R0_R5),
        Insn::Exit => (bit(0), 0),
        Insn::LdImm64 { dst, .. } => (0, bit(*dst)),
        Insn::LdAbs { .. } => (bit(6), R0_R5),
        Insn::LdInd { src, .. } => (bit(6) | bit(*src), R0_R5),
        Insn::Ldx { dst, src, .. } => (bit(*src), bit(*dst)),
        Insn::St { dst, .. } => (bit(*dst), 0),
        Insn::Stx { dst, src, .. } => (bit(*dst) | bit(*src), 0),
        Insn::Atomic { op, dst, src, .. } => match op {
            AtomicOp::LoadAcquire => (bit(*src), bit(*dst)),
            AtomicOp::StoreRelease => (bit(*dst) | bit(*src), 0),
            AtomicOp::Cmpxchg => (bit(*dst) | bit(*src) | bit(0), bit(0)),
            AtomicOp::Xchg => (bit(*dst) | bit(*src), bit(*src)),
            AtomicOp::Add { fetch }
            | AtomicOp::Or { fetch }
            | AtomicOp::And { fetch }
            | AtomicOp::Xor { fetch } => {
                (bit(*dst) | bit(*src), if *fetch { bit(*src) } else { 0 })
            }
        },
    }
}

/// Forward transfer of "may point into this frame's stack".
fn fp_transfer(insn: Option<&Insn>, mut m: RegMask, escaped: bool) -> RegMask {
    let Some(insn) = insn else {
        return ALL_REGS;
    };
    let set = |m: &mut RegMask, r: u8, v: bool| {
        if v {
            *m |= bit(r);
        } else {
            *m &= !bit(r);
        }
    };
    let has = |m: RegMask, r: u8| m & bit(r) != 0;
    match insn {
        Insn::Alu { op, dst, src, .. } => {
            let s = matches!(src, Src::Reg(r) if has(m, *r));
            match op {
                AluOp::Mov | AluOp::Movsx(_) => set(&mut m, *dst, s),
                _ => {
                    let d = has(m, *dst) || s;
                    set(&mut m, *dst, d);
                }
            }
        }
        Insn::AddrSpaceCast { dst, .. } | Insn::LdImm64 { dst, .. } => set(&mut m, *dst, false),
        Insn::Call(_) | Insn::LdAbs { .. } | Insn::LdInd { .. } => m &= !R0_R5,
        Insn::Ldx { dst, .. } => set(&mut m, *dst, escaped),
        Insn::Atomic { op, src, .. } => match op {
            AtomicOp::LoadAcquire => {}
            AtomicOp::Cmpxchg => set(&mut m, 0, escaped),
            AtomicOp::Xchg
            | AtomicOp::Add { fetch: true }
            | AtomicOp::Or { fetch: true }
            | AtomicOp::And { fetch: true }
            | AtomicOp::Xor { fetch: true } => set(&mut m, *src, escaped),
            _ => {}
        },
        _ => {}
    }
    if let Insn::Atomic {
        op: AtomicOp::LoadAcquire,
        dst,
        ..
    } = insn
    {
        set(&mut m, *dst, escaped);
    }
    m | bit(10)
}

/// Stack slot uses and kills of one instruction, given the registers that
/// may point into the frame before it.
fn stack_use_def(insn: Option<&Insn>, fp: RegMask) -> (SlotMask, SlotMask) {
    let Some(insn) = insn else {
        return (u64::MAX, 0);
    };
    let may_fp = |r: u8| fp & bit(r) != 0;
    let read = |base: u8, off: i16, size: u32| -> SlotMask {
        if base == 10 {
            slots(off, size).unwrap_or(0)
        } else if may_fp(base) {
            u64::MAX
        } else {
            0
        }
    };
    let write_kill = |base: u8, off: i16, size: u32| -> SlotMask {
        if base == 10 && size == 8 && off % 8 == 0 {
            slots(off, size).unwrap_or(0)
        } else {
            0
        }
    };
    match insn {
        Insn::Ldx { size, src, off, .. } => (read(*src, *off, size.bytes()), 0),
        Insn::St { size, dst, off, .. } | Insn::Stx { size, dst, off, .. } => {
            (0, write_kill(*dst, *off, size.bytes()))
        }
        Insn::Atomic {
            op: AtomicOp::LoadAcquire,
            size,
            src,
            off,
            ..
        } => (read(*src, *off, size.bytes()), 0),
        Insn::Atomic {
            op: AtomicOp::StoreRelease,
            size,
            dst,
            off,
            ..
        } => (0, write_kill(*dst, *off, size.bytes())),
        Insn::Atomic { size, dst, off, .. } => (read(*dst, *off, size.bytes()), 0),
        Insn::Call(_) => (if fp & R1_R5 != 0 { u64::MAX } else { 0 }, 0),
        _ => (0, 0),
    }
}

/// Computes liveness for every subprogram.
pub(crate) fn compute(insns: &[RawInsn], subs: &[SubprogInfo]) -> Liveness {
    let n = insns.len();
    let mut lv = Liveness {
        regs_in: vec![0; n],
        regs_out: vec![0; n],
        stack_in: vec![0; n],
    };
    for s in subs {
        let (start, end) = (s.start.min(n), s.end.min(n));
        let mut starts = Vec::new();
        let mut i = start;
        while i < end {
            starts.push(i);
            i += insn_len(insns, i).min(end - i);
        }
        if starts.is_empty() {
            continue;
        }
        // Position of each instruction start in `starts`.
        let mut pos = vec![usize::MAX; end - start];
        for (k, &i) in starts.iter().enumerate() {
            if let Some(p) = pos.get_mut(i - start) {
                *p = k;
            }
        }
        let at = |t: i64| -> Option<usize> {
            let t = usize::try_from(t).ok()?;
            let p = *pos.get(t.checked_sub(start)?)?;
            (p != usize::MAX).then_some(p)
        };
        let decoded: Vec<Option<Insn>> =
            starts.iter().map(|&i| isa::decode(insns, i).ok()).collect();
        let m = starts.len();
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); m];
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); m];
        for (k, &i) in starts.iter().enumerate() {
            let next = (i + insn_len(insns, i)) as i64;
            let targets: Vec<i64> = match flow(insns, i) {
                Flow::Exit => vec![],
                Flow::Ja(t) => vec![t],
                Flow::Cond(t) => vec![next, t],
                Flow::Next | Flow::Call(_) | Flow::Func(_) => vec![next],
            };
            for t in targets {
                if let Some(p) = at(t)
                    && let Some(v) = succs.get_mut(k)
                    && !v.contains(&p)
                {
                    v.push(p);
                    if let Some(pp) = preds.get_mut(p) {
                        pp.push(k);
                    }
                }
            }
        }
        // Forward: registers that may point into this frame.
        let mut fp_in: Vec<RegMask> = vec![0; m];
        let mut escaped = false;
        let mut converged = false;
        for _round in 0..8 {
            fp_in.iter_mut().for_each(|x| *x = 0);
            if let Some(x) = fp_in.first_mut() {
                *x = bit(10);
            }
            let mut changed = true;
            let mut passes = 0;
            while changed && passes < 256 {
                changed = false;
                passes += 1;
                for k in 0..m {
                    let inm = fp_in.get(k).copied().unwrap_or(ALL_REGS);
                    let out = fp_transfer(decoded.get(k).and_then(Option::as_ref), inm, escaped);
                    for &w in succs.get(k).map(Vec::as_slice).unwrap_or(&[]) {
                        if let Some(x) = fp_in.get_mut(w)
                            && *x | out != *x
                        {
                            *x |= out;
                            changed = true;
                        }
                    }
                }
            }
            if changed {
                break;
            }
            let now_escaped = escaped
                || (0..m).any(|k| {
                    let d = decoded.get(k).and_then(Option::as_ref);
                    let f = fp_in.get(k).copied().unwrap_or(ALL_REGS);
                    match d {
                        Some(Insn::Stx { src, .. }) | Some(Insn::Atomic { src, .. }) => {
                            f & bit(*src) != 0
                        }
                        _ => false,
                    }
                });
            if now_escaped == escaped {
                converged = true;
                break;
            }
            escaped = now_escaped;
        }
        if !converged {
            fp_in.iter_mut().for_each(|x| *x = ALL_REGS);
        }
        // Backward: liveness.
        let ud: Vec<(RegMask, RegMask, SlotMask, SlotMask)> = (0..m)
            .map(|k| {
                let d = decoded.get(k).and_then(Option::as_ref);
                let (ru, rd) = reg_use_def(d);
                let (su, sd) = stack_use_def(d, fp_in.get(k).copied().unwrap_or(ALL_REGS));
                // An undecodable instruction: assume it reads everything.
                if d.is_none() {
                    (ALL_REGS, 0, u64::MAX, 0)
                } else {
                    (ru, rd, su, sd)
                }
            })
            .collect();
        let mut rin: Vec<RegMask> = vec![0; m];
        let mut rout: Vec<RegMask> = vec![0; m];
        let mut sin: Vec<SlotMask> = vec![0; m];
        let mut changed = true;
        while changed {
            changed = false;
            for k in (0..m).rev() {
                let mut ro: RegMask = 0;
                let mut so: SlotMask = 0;
                for &w in succs.get(k).map(Vec::as_slice).unwrap_or(&[]) {
                    ro |= rin.get(w).copied().unwrap_or(0);
                    so |= sin.get(w).copied().unwrap_or(0);
                }
                let (ru, rd, su, sd) = ud.get(k).copied().unwrap_or((ALL_REGS, 0, u64::MAX, 0));
                let ri = ru | (ro & !rd);
                let si = su | (so & !sd);
                if let (Some(a), Some(b), Some(c)) =
                    (rin.get_mut(k), rout.get_mut(k), sin.get_mut(k))
                    && (*a != ri || *b != ro || *c != si)
                {
                    *a = ri;
                    *b = ro;
                    *c = si;
                    changed = true;
                }
            }
        }
        for (k, &i) in starts.iter().enumerate() {
            if let Some(x) = lv.regs_in.get_mut(i) {
                *x = rin.get(k).copied().unwrap_or(ALL_REGS);
            }
            if let Some(x) = lv.regs_out.get_mut(i) {
                *x = rout.get(k).copied().unwrap_or(ALL_REGS);
            }
            if let Some(x) = lv.stack_in.get_mut(i) {
                *x = sin.get(k).copied().unwrap_or(u64::MAX);
            }
        }
    }
    lv
}
