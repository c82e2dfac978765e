//! `check_reg_arg`: reads of uninitialised registers and writes to R10.

use super::env::{Env, Stop, bail_reject};
use crate::state::{BPF_REG_FP, BaseType, FuncState, VerifierState};

/// `check_reg_arg(SRC_OP)`: the register must have been written; the
/// read is recorded for liveness (`mark_reg_read`).
pub fn check_reg_read(
    env: &mut Env<'_>,
    st: &VerifierState,
    idx: usize,
    r: usize,
) -> Result<(), Stop> {
    if r >= 11 {
        bail_reject!("BPF101", idx, "R{} is invalid", r);
    }
    if st.cur().regs[r].base == BaseType::NotInit {
        bail_reject!("BPF201", idx, "R{} !read_ok", r);
    }
    mark_reg_read(env, st, st.frames.len() - 1, r);
    Ok(())
}

/// `mark_reg_read` for stack slot `spi` of frame `frame`
/// (`stack[spi].spilled_ptr`).
pub fn mark_stack_read(env: &mut Env<'_>, st: &VerifierState, frame: usize, spi: usize) {
    if spi < st.frames[frame].stack_live.len() {
        mark_read_up(env, st, frame, Live::Slot(spi));
    }
}

/// Marks every slot holding a byte of `[lo, hi)` (frame offsets) read.
pub fn mark_stack_range_read(
    env: &mut Env<'_>,
    st: &VerifierState,
    frame: usize,
    lo: i64,
    hi: i64,
) {
    // Slot by slot: spi of the lowest and highest byte inside the stack.
    let (lo, hi) = (lo.max(-512), hi.min(0));
    if lo >= hi {
        return;
    }
    let (first, last) = (((-hi) / 8) as usize, ((-lo - 1) / 8) as usize);
    for spi in first..=last {
        mark_stack_read(env, st, frame, spi);
    }
}

/// `REG_LIVE_READ`: a stored state's register was read by a continuation.
pub const REG_LIVE_READ: u8 = 1;
/// `REG_LIVE_WRITTEN`: the register was written since the previous stored
/// state, which screens reads from reaching further up.
pub const REG_LIVE_WRITTEN: u8 = 2;

/// `mark_reg_read`: the value register `r` of frame `frame` had at each
/// stored state up the path, until the one after which it was written,
/// was read.
///
/// A frame is followed up only while the stored states have it at the same call
/// site: arguments and return values crossing frames are marked read
/// eagerly at calls and exits instead (more read marks than the kernel's,
/// so never more pruning).
pub fn mark_reg_read(env: &mut Env<'_>, st: &VerifierState, frame: usize, r: usize) {
    if r < BPF_REG_FP {
        mark_read_up(env, st, frame, Live::Reg(r));
    }
}

/// Which liveness byte of a frame.
#[derive(Clone, Copy)]
enum Live {
    Reg(usize),
    Slot(usize),
}

impl Live {
    fn of(self, f: &mut FuncState) -> &mut u8 {
        match self {
            Live::Reg(r) => &mut f.live[r],
            Live::Slot(spi) => &mut f.stack_live[spi],
        }
    }
}

/// The walk of `mark_reg_read`: unless written in the current segment,
/// the byte is marked read in each stored state up the path until one
/// where it was written (or is already read).
fn mark_read_up(env: &mut Env<'_>, st: &VerifierState, frame: usize, which: Live) {
    let f = &st.frames[frame];
    let written = match which {
        Live::Reg(r) => f.live[r],
        Live::Slot(spi) => f.stack_live[spi],
    } & REG_LIVE_WRITTEN
        != 0;
    if written {
        return;
    }
    let callsite = f.callsite;
    let mut c = env.cur_ckpt;
    while let Some(p) = c {
        let ck = &mut env.ckpts[p];
        let Some(f) = ck.st.frames.get_mut(frame) else {
            return;
        };
        if f.callsite != callsite {
            return;
        }
        let l = which.of(f);
        if *l & REG_LIVE_READ != 0 {
            return;
        }
        *l |= REG_LIVE_READ;
        env.mark_read += 1;
        if *l & REG_LIVE_WRITTEN != 0 {
            return;
        }
        c = ck.parent;
    }
}

/// `check_reg_arg(DST_OP)`: R10 is read-only.
pub fn check_reg_write(idx: usize, r: usize) -> Result<(), Stop> {
    if r >= 11 {
        bail_reject!("BPF101", idx, "R{} is invalid", r);
    }
    if r == BPF_REG_FP {
        bail_reject!("BPF202", idx, "frame pointer is read only");
    }
    Ok(())
}

/// The stack slot a stack pointer at a constant offset points to (in the
/// frame it points into), if it is inside the stack.
pub fn const_stack_slot<'a>(
    st: &'a crate::state::VerifierState,
    reg: &crate::state::RegState,
) -> Option<&'a crate::state::StackSlot> {
    if reg.base != crate::state::BaseType::Stack || !reg.var.is_const() {
        return None;
    }
    let off = reg.off as i64 + reg.var.var_off.value as i64;
    if !(-512..0).contains(&off) {
        return None;
    }
    let spi = ((-off - 1) / 8) as usize;
    st.frames.get(reg.frameno as usize)?.stack.get(spi)
}
