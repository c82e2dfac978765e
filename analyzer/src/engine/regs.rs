//! `check_reg_arg`: reads of uninitialised registers and writes to R10.

use super::env::{Env, Stop, bail_reject};
use crate::state::{BPF_REG_FP, BaseType, VerifierState};

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
    if spi >= st.frames[frame].stack_live.len()
        || st.frames[frame].stack_live[spi] & REG_LIVE_WRITTEN != 0
    {
        return;
    }
    let callsite = st.frames[frame].callsite;
    let mut c = env.cur_ckpt;
    while let Some(p) = c {
        let ck = &mut env.ckpts[p];
        let Some(f) = ck.st.frames.get_mut(frame) else {
            return;
        };
        if f.callsite != callsite || f.stack_live[spi] & REG_LIVE_READ != 0 {
            return;
        }
        f.stack_live[spi] |= REG_LIVE_READ;
        env.mark_read += 1;
        if f.stack_live[spi] & REG_LIVE_WRITTEN != 0 {
            return;
        }
        c = ck.parent;
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
    let mut o = lo;
    while o < hi {
        if (-512..0).contains(&o) {
            mark_stack_read(env, st, frame, ((-o - 1) / 8) as usize);
        }
        o += 1;
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
    if r >= BPF_REG_FP || st.frames[frame].live[r] & REG_LIVE_WRITTEN != 0 {
        return;
    }
    let callsite = st.frames[frame].callsite;
    let mut c = env.cur_ckpt;
    while let Some(p) = c {
        let ck = &mut env.ckpts[p];
        let Some(f) = ck.st.frames.get_mut(frame) else {
            return;
        };
        if f.callsite != callsite || f.live[r] & REG_LIVE_READ != 0 {
            return;
        }
        f.live[r] |= REG_LIVE_READ;
        env.mark_read += 1;
        if f.live[r] & REG_LIVE_WRITTEN != 0 {
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
