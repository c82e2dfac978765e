//! Precision tracking as the kernel does it (`mark_chain_precision`,
//! `backtrack_insn`, `propagate_precision`): scalars start imprecise in
//! every stored state and become precise only when their value decides
//! something (a branch, a pointer offset, a helper size, a return code).
//! Pruning then ignores the values of imprecise scalars (`regsafe`).
//!
//! The kernel records a jump history per state; bpfproof records every
//! instruction of the current path segment (`Env::hist`), which gives the
//! same walk backwards. Whenever the walk meets something it cannot follow,
//! it falls back, as the kernel does, to marking every scalar of the path
//! precise (`mark_all_scalars_precise`): less pruning, never unsound.

use super::env::Env;
use crate::isa::{AluOp, AtomicOp, CallKind, Insn, Src};
use crate::state::{BaseType, VerifierState};

/// The instruction accessed a stack slot as a register spill or fill
/// (`INSN_F_STACK_ACCESS`).
pub const F_STACK_ACCESS: u8 = 1;
/// The source register of a conditional jump was a stack pointer.
pub const F_SRC_REG_STACK: u8 = 2;
/// The destination register of a conditional jump was a stack pointer.
pub const F_DST_REG_STACK: u8 = 4;

/// A register or spilled slot linked to others by a shared scalar id
/// (`struct linked_reg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkedReg {
    /// Frame number.
    pub frameno: u8,
    /// A register (else a stack slot).
    pub is_reg: bool,
    /// Register number or slot index.
    pub no: u8,
}

/// One processed instruction of the path (`struct bpf_insn_hist_entry`).
#[derive(Clone, Debug, Default)]
pub struct Hist {
    /// Instruction index.
    pub idx: u32,
    /// `F_*` flags.
    pub flags: u8,
    /// Frame of the stack slot (with `F_STACK_ACCESS`).
    pub frameno: u8,
    /// Stack slot index (with `F_STACK_ACCESS`).
    pub spi: u8,
    /// Scalars linked at a conditional jump (`linked_regs`).
    /// Boxed twice (a thin pointer) so that the entry keeps to 16 bytes:
    /// most have none, and the stored states keep millions of entries.
    #[allow(clippy::box_collection)]
    pub linked: Option<Box<Vec<LinkedReg>>>,
}

/// `struct backtrack_state`.
struct Bt {
    frame: usize,
    regs: [u32; 8],
    stack: [u64; 8],
}

/// Registers R1–R5.
const REGMASK_ARGS: u32 = 0b11_1110;

impl Bt {
    fn new(frame: usize) -> Self {
        Bt {
            frame,
            regs: [0; 8],
            stack: [0; 8],
        }
    }
    fn empty(&self) -> bool {
        self.regs.iter().all(|m| *m == 0) && self.stack.iter().all(|m| *m == 0)
    }
    fn is_reg(&self, r: usize) -> bool {
        self.regs[self.frame] & (1 << r) != 0
    }
    fn set_reg(&mut self, r: usize) {
        self.regs[self.frame] |= 1 << r;
    }
    fn clear_reg(&mut self, r: usize) {
        self.regs[self.frame] &= !(1 << r);
    }
    fn is_slot(&self, fr: usize, spi: usize) -> bool {
        self.stack[fr] & (1 << spi) != 0
    }
    fn set_slot(&mut self, fr: usize, spi: usize) {
        self.stack[fr] |= 1 << spi;
    }
    fn clear_slot(&mut self, fr: usize, spi: usize) {
        self.stack[fr] &= !(1 << spi);
    }
    /// Walking backwards out of a callee into its caller.
    fn subprog_exit(&mut self) -> Result<(), Fallback> {
        if self.frame == 0 {
            return Err(Fallback);
        }
        self.frame -= 1;
        Ok(())
    }
    /// Walking backwards from a caller into a callee's exit.
    fn subprog_enter(&mut self) -> Result<(), Fallback> {
        if self.frame + 1 >= 8 {
            return Err(Fallback);
        }
        self.frame += 1;
        Ok(())
    }
    fn sync_linked_regs(&mut self, h: &Hist) {
        let Some(linked) = &h.linked else { return };
        let some = linked.iter().any(|e| {
            if e.is_reg {
                self.regs[e.frameno as usize] & (1 << e.no) != 0
            } else {
                self.is_slot(e.frameno as usize, e.no as usize)
            }
        });
        if !some {
            return;
        }
        for e in linked.iter() {
            if e.is_reg {
                self.regs[e.frameno as usize] |= 1 << e.no;
            } else {
                self.set_slot(e.frameno as usize, e.no as usize);
            }
        }
    }
}

/// The walk cannot be followed: mark everything precise (`-ENOTSUPP`, and
/// the kernel's "backtracking bug" cases, which it rejects on).
struct Fallback;

fn insn_at(env: &Env<'_>, idx: usize) -> Option<Insn> {
    match env.insns.get(idx) {
        Some(Some(Ok(i))) => Some(*i),
        _ => None,
    }
}

/// `backtrack_insn`: what must be precise before `idx` for the marked
/// registers and slots to be precise after it.
fn backtrack_insn(
    env: &Env<'_>,
    idx: usize,
    subseq: Option<usize>,
    h: &Hist,
    bt: &mut Bt,
) -> Result<(), Fallback> {
    let Some(insn) = insn_at(env, idx) else {
        return Err(Fallback);
    };
    bt.sync_linked_regs(h);
    let stack_slot = |h: &Hist| (h.flags & F_STACK_ACCESS != 0).then_some((h.frameno, h.spi));
    match insn {
        Insn::Alu { op, dst, src, .. } => {
            let d = dst as usize;
            if !bt.is_reg(d) {
                return Ok(());
            }
            let is_mov = matches!(op, AluOp::Mov | AluOp::Movsx(_));
            match src {
                Src::Reg(s) => {
                    if is_mov {
                        bt.clear_reg(d);
                    }
                    if s != 10 {
                        bt.set_reg(s as usize);
                    }
                }
                Src::Imm(_) => {
                    if is_mov {
                        bt.clear_reg(d);
                    }
                }
            }
        }
        Insn::Neg { .. } | Insn::End { .. } => {}
        Insn::AddrSpaceCast { dst, .. } => {
            if bt.is_reg(dst as usize) {
                return Err(Fallback);
            }
        }
        Insn::Ldx { dst, .. } => {
            let d = dst as usize;
            if !bt.is_reg(d) {
                return Ok(());
            }
            bt.clear_reg(d);
            if let Some((fr, spi)) = stack_slot(h) {
                bt.set_slot(fr as usize, spi as usize);
            }
        }
        Insn::Atomic { op, dst, src, .. } => {
            // Atomics that load write src (R0 for cmpxchg, dst for
            // load-acquire); none of them is followed: the fallback marks
            // everything precise.
            let loads = match op {
                AtomicOp::Add { fetch }
                | AtomicOp::Or { fetch }
                | AtomicOp::And { fetch }
                | AtomicOp::Xor { fetch } => fetch.then_some(src as usize),
                AtomicOp::Xchg => Some(src as usize),
                AtomicOp::Cmpxchg => Some(0),
                AtomicOp::LoadAcquire => Some(dst as usize),
                AtomicOp::StoreRelease => None,
            };
            if bt.is_reg(dst as usize) || loads.is_some_and(|r| bt.is_reg(r)) {
                return Err(Fallback);
            }
            if bt.stack[bt.frame] != 0 && stack_slot(h).is_some() {
                return Err(Fallback);
            }
        }
        Insn::Stx { dst, .. } | Insn::St { dst, .. } => {
            if bt.is_reg(dst as usize) {
                return Err(Fallback);
            }
            let Some((fr, spi)) = stack_slot(h) else {
                return Ok(());
            };
            let (fr, spi) = (fr as usize, spi as usize);
            if !bt.is_slot(fr, spi) {
                return Ok(());
            }
            bt.clear_slot(fr, spi);
            if let Insn::Stx { src, .. } = insn {
                bt.set_reg(src as usize);
            }
        }
        Insn::Call(CallKind::Local(imm)) => {
            let target = idx as i64 + imm as i64 + 1;
            if super::explore::is_global_subprog(env, target as usize) {
                if bt.regs[bt.frame] & REGMASK_ARGS != 0 {
                    return Err(Fallback);
                }
                bt.clear_reg(0);
                return Ok(());
            }
            if bt.regs[bt.frame] & !REGMASK_ARGS != 0 || bt.stack[bt.frame] != 0 {
                return Err(Fallback);
            }
            let args = bt.regs[bt.frame] & REGMASK_ARGS;
            bt.regs[bt.frame] = 0;
            if bt.frame == 0 {
                return Err(Fallback);
            }
            bt.regs[bt.frame - 1] |= args;
            bt.subprog_exit()?;
        }
        Insn::Call(CallKind::Helper(id))
            if super::explore::is_sync_callback_calling_helper(id) && subseq != Some(idx + 1) =>
        {
            // Backwards out of the callback body into the calling frame.
            if bt.regs[bt.frame] & !REGMASK_ARGS != 0 || bt.stack[bt.frame] != 0 {
                return Err(Fallback);
            }
            bt.regs[bt.frame] = 0;
            bt.subprog_exit()?;
        }
        Insn::Call(kind) => {
            if matches!(kind, CallKind::Kfunc { btf_id: 0, .. }) {
                return Err(Fallback);
            }
            bt.clear_reg(0);
            if bt.regs[bt.frame] & REGMASK_ARGS != 0 {
                return Err(Fallback);
            }
        }
        Insn::Exit => {
            let from_subprog_call = subseq.is_some_and(|s| {
                s > 0 && matches!(insn_at(env, s - 1), Some(Insn::Call(CallKind::Local(_))))
            });
            let r0 = from_subprog_call && bt.is_reg(0);
            if from_subprog_call && bt.regs[bt.frame] & REGMASK_ARGS != 0 {
                return Err(Fallback);
            }
            bt.clear_reg(0);
            bt.subprog_enter()?;
            if r0 {
                bt.set_reg(0);
            }
        }
        Insn::Jmp { dst, src, .. } => {
            if let Src::Reg(s) = src {
                let (d, s) = (dst as usize, s as usize);
                if !bt.is_reg(d) && !bt.is_reg(s) {
                    return Ok(());
                }
                if h.flags & F_SRC_REG_STACK == 0 {
                    bt.set_reg(s);
                }
                if h.flags & F_DST_REG_STACK == 0 {
                    bt.set_reg(d);
                }
            }
        }
        Insn::Ja { .. } | Insn::MayGoto { .. } => {}
        Insn::LdImm64 { dst, .. } => {
            bt.clear_reg(dst as usize);
        }
        Insn::LdAbs { .. } | Insn::LdInd { .. } => {
            if bt.is_reg(0) {
                return Err(Fallback);
            }
            if subseq != Some(idx + 1) {
                // The hidden exit of LD_ABS in a subprogram.
                bt.subprog_enter()?;
            }
        }
    }
    bt.sync_linked_regs(h);
    Ok(())
}

/// `mark_all_scalars_precise`: every scalar of every stored state on the
/// current path (the current state itself needs no marks).
fn mark_all_scalars_precise(env: &mut Env<'_>) {
    let mut c = env.cur_ckpt;
    while let Some(i) = c {
        let ck = &mut env.ckpts[i];
        ck.st.for_each_reg(|r| {
            if r.base == BaseType::Scalar {
                r.precise = true;
            }
        });
        c = ck.parent;
    }
}

/// `mark_chain_precision(regno)` for a register of the current frame.
pub fn mark_chain_precision(env: &mut Env<'_>, st: &VerifierState, regno: usize) {
    if !env.privileged || regno >= 10 {
        return;
    }
    if st.cur().regs[regno].base != BaseType::Scalar {
        return;
    }
    let mut bt = Bt::new(st.frames.len() - 1);
    bt.set_reg(regno);
    run(env, bt);
}

/// `bt_set_frame_slot` + `mark_chain_precision_batch` for one spilled stack
/// slot of frame `frame`.
pub fn mark_chain_precision_slot(env: &mut Env<'_>, st: &VerifierState, frame: usize, spi: usize) {
    if !env.privileged {
        return;
    }
    let mut bt = Bt::new(st.frames.len() - 1);
    bt.set_slot(frame, spi);
    run(env, bt);
}

/// `propagate_precision`: the current path was pruned against `old`, so
/// what is precise there must be precise on the current path too.
pub fn propagate_precision(env: &mut Env<'_>, old: usize) {
    if !env.privileged {
        return;
    }
    let o = &env.ckpts[old].st;
    let mut bt = Bt::new(o.frames.len() - 1);
    for (fr, f) in o.frames.iter().enumerate() {
        for (i, r) in f.regs.iter().enumerate().take(10) {
            if r.base == BaseType::Scalar && r.precise {
                bt.regs[fr] |= 1 << i;
            }
        }
        for (spi, s) in f.stack.iter().enumerate() {
            if s.is_spilled_reg() && s.spilled.base == BaseType::Scalar && s.spilled.precise {
                bt.set_slot(fr, spi);
            }
        }
    }
    if !bt.empty() {
        run(env, bt);
    }
}

/// `__mark_chain_precision`: walk the current segment, then every stored
/// state up the path, marking in each what has to be precise there.
fn run(env: &mut Env<'_>, mut bt: Bt) {
    let mut subseq: Option<usize> = None;
    let mut skip_first = true;
    // Segment 0 is the current one; then the stored states' segments.
    let mut seg: Option<usize> = None;
    let mut parent = env.cur_ckpt;
    loop {
        let hist: &[Hist] = match seg {
            None => &env.hist,
            Some(c) => &env.ckpts[c].hist,
        };
        for h in hist.iter().rev() {
            if skip_first {
                skip_first = false;
            } else if backtrack_insn(env, h.idx as usize, subseq, h, &mut bt).is_err() {
                mark_all_scalars_precise(env);
                return;
            }
            if bt.empty() {
                return;
            }
            subseq = Some(h.idx as usize);
        }
        let Some(p) = parent else { break };
        let ck = &mut env.ckpts[p];
        if ck.st.frames.len() <= bt.frame {
            mark_all_scalars_precise(env);
            return;
        }
        for fr in (0..=bt.frame).rev() {
            let f = &mut ck.st.frames[fr];
            for i in 0..10 {
                if bt.regs[fr] & (1 << i) == 0 {
                    continue;
                }
                let r = &mut f.regs[i];
                if r.base != BaseType::Scalar || r.precise {
                    bt.regs[fr] &= !(1 << i);
                } else {
                    r.precise = true;
                }
            }
            for spi in 0..64 {
                if !bt.is_slot(fr, spi) {
                    continue;
                }
                // Looked at before it is written: the slots may be shared.
                let Some(s) = f.stack.get(spi) else {
                    bt.clear_slot(fr, spi);
                    continue;
                };
                if !s.is_spilled_scalar_reg() || s.spilled.precise {
                    bt.clear_slot(fr, spi);
                } else {
                    f.stack[spi].spilled.precise = true;
                }
            }
        }
        if bt.empty() {
            return;
        }
        seg = Some(p);
        parent = ck.parent;
    }
    if !bt.empty() {
        mark_all_scalars_precise(env);
    }
}
