//! Open-coded iterators (`bpf_iter_<type>_new/next/destroy` kfuncs,
//! `process_iter_arg`, `process_iter_next_call`): the iterator state lives
//! in `STACK_ITER` stack slots and holds a reference; `next` forks the path
//! into "drained" (R0 = NULL, explored first) and "one more element" (queued
//! one level deeper, with imprecise scalars widened against the previous
//! visit), and the visits converge when `is_state_visited` finds an
//! equivalent state at the `next` call.
//!
//! The iterator slot keeps its facts in the slot's `spilled` register:
//! `btf_id` = the iterator struct, `ref_obj_id` = its reference (first slot
//! only), `range` = the state ([`ITER_ACTIVE`] / [`ITER_DRAINED`]),
//! `mem_size` = the depth.

use super::env::{Env, Stop, bail_reject, unsupported};
use crate::state::{BaseType, RegState, SlotType, StackSlot, VerifierState};

/// `BPF_ITER_STATE_ACTIVE`.
pub const ITER_ACTIVE: i32 = 0;
/// `BPF_ITER_STATE_DRAINED`.
pub const ITER_DRAINED: i32 = 1;

/// Which iterator kfunc.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum IterOp {
    /// `KF_ITER_NEW`.
    New,
    /// `KF_ITER_NEXT`.
    Next,
    /// `KF_ITER_DESTROY`.
    Destroy,
}

/// Where an iterator lives: frame and first (highest) slot.
#[derive(Clone, Copy)]
pub struct IterLoc {
    /// Frame of the stack.
    pub frame: usize,
    /// `spi` of the first slot.
    pub spi: usize,
}

/// `iter_get_spi`: the slots an iterator argument points to.
fn iter_get_spi(
    idx: usize,
    regno: usize,
    reg: &RegState,
    nr_slots: usize,
) -> Result<IterLoc, Stop> {
    if reg.base != BaseType::Stack {
        bail_reject!(
            "BPF405",
            idx,
            "arg#{} expected pointer to an iterator on stack",
            regno - 1
        );
    }
    if !reg.var.is_const() {
        return Err(unsupported(idx, "iterator at a variable stack offset"));
    }
    let off = reg.off as i64 + reg.var.var_off.value as i64;
    if off % 8 != 0 {
        bail_reject!("BPF405", idx, "cannot pass in iter at an offset={}", off);
    }
    if !(-512..0).contains(&off) {
        return Err(unsupported(idx, "iterator outside the stack"));
    }
    let spi = ((-off - 1) / 8) as usize;
    if spi + 1 < nr_slots {
        return Err(unsupported(idx, "iterator past the stack start"));
    }
    Ok(IterLoc {
        frame: reg.frameno as usize,
        spi,
    })
}

fn slots(loc: IterLoc, nr_slots: usize) -> impl Iterator<Item = usize> {
    (0..nr_slots).map(move |i| loc.spi - i)
}

/// `process_iter_arg` for argument `regno` of type `struct <name> *`
/// (`btf_id`, `size` bytes). Returns where the iterator is and its
/// reference (for `next`/`destroy`).
#[allow(clippy::too_many_arguments)]
pub fn process_iter_arg(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    op: IterOp,
    btf_id: u32,
    type_name: &str,
    size: u32,
) -> Result<(IterLoc, u32), Stop> {
    let reg = st.cur().regs[regno].clone();
    if size == 0 || !size.is_multiple_of(8) {
        return Err(unsupported(
            idx,
            format!("iterator {type_name} of size {size}"),
        ));
    }
    let nr_slots = (size / 8) as usize;
    let loc = iter_get_spi(idx, regno, &reg, nr_slots)?;
    if loc.frame >= st.frames.len() {
        return Err(unsupported(idx, "iterator in a frame that has returned"));
    }
    let short = type_name.strip_prefix("bpf_iter_").unwrap_or(type_name);
    if op == IterOp::New {
        // is_iter_reg_valid_uninit
        if slots(loc, nr_slots)
            .any(|s| st.frames[loc.frame].stack[s].slot_type[0] == SlotType::Iter)
        {
            bail_reject!(
                "BPF405",
                idx,
                "expected uninitialized iter_{} as arg #{}",
                short,
                regno - 1
            );
        }
        // mark_stack_slots_iter, with a reference.
        let id = env.new_id();
        st.refs.push((id, idx));
        let fr = &mut st.frames[loc.frame];
        fr.allocated_stack = fr.allocated_stack.max(((loc.spi + 1) * 8) as i32);
        for (i, s) in slots(loc, nr_slots).enumerate() {
            let mut r = RegState::pointer(BaseType::Stack);
            r.btf_id = btf_id;
            r.ref_obj_id = if i == 0 { id } else { 0 };
            r.range = ITER_ACTIVE;
            r.mem_size = 0;
            fr.stack[s] = StackSlot {
                spilled: r,
                slot_type: [SlotType::Iter; 8],
            };
            fr.stack_live[s] |= super::regs::REG_LIVE_WRITTEN;
        }
        return Ok((loc, id));
    }
    // is_iter_reg_valid_init
    let fr = &st.frames[loc.frame];
    let valid = slots(loc, nr_slots).enumerate().all(|(i, s)| {
        let sl = &fr.stack[s];
        sl.slot_type.iter().all(|t| *t == SlotType::Iter)
            && sl.spilled.btf_id == btf_id
            && ((i == 0) == (sl.spilled.ref_obj_id != 0))
    });
    if !valid {
        bail_reject!(
            "BPF405",
            idx,
            "expected an initialized iter_{} as arg #{}",
            short,
            regno - 1
        );
    }
    let ref_id = fr.stack[loc.spi].spilled.ref_obj_id;
    for s in slots(loc, nr_slots) {
        super::regs::mark_stack_read(env, st, loc.frame, s);
    }
    if op == IterOp::Destroy {
        // unmark_stack_slots_iter: release the reference.
        st.refs.retain(|r| r.0 != ref_id);
        st.for_each_reg(|r| {
            if r.ref_obj_id == ref_id {
                *r = RegState::unknown_scalar();
            }
        });
        let fr = &mut st.frames[loc.frame];
        for s in slots(loc, nr_slots) {
            fr.stack[s] = StackSlot::default();
            fr.stack_live[s] |= super::regs::REG_LIVE_WRITTEN;
        }
    }
    Ok((loc, ref_id))
}

/// `process_iter_next_call`: the current path sees the iterator drained
/// (R0 = 0); while it is active, the next element is queued one level
/// deeper with R0 not NULL.
pub fn process_iter_next_call(env: &mut Env<'_>, st: &mut VerifierState, idx: usize, loc: IterLoc) {
    if st.frames[loc.frame].stack[loc.spi].spilled.range == ITER_ACTIVE {
        let mut queued = st.clone();
        let it = &mut queued.frames[loc.frame].stack[loc.spi].spilled;
        it.range = ITER_ACTIVE;
        it.mem_size += 1;
        super::explore::widen_against_prev_visit(env, idx, &mut queued, true);
        let r0 = &mut queued.cur_mut().regs[0];
        r0.flags.0 &= !crate::state::TypeFlags::MAYBE_NULL;
        env.pushed = Some((idx + 1, queued));
    }
    st.frames[loc.frame].stack[loc.spi].spilled.range = ITER_DRAINED;
    st.cur_mut().regs[0] = RegState::known(0);
}

/// The state of the iterator `R1` points to at an iterator `next` call
/// (for `is_state_visited`), when it is one.
pub fn iter_state_at_next(st: &VerifierState) -> Option<i32> {
    let s = super::regs::const_stack_slot(st, &st.cur().regs[1])?;
    (s.slot_type[0] == SlotType::Iter).then_some(s.spilled.range)
}

/// `iter_active_depths_differ`.
pub fn iter_active_depths_differ(old: &VerifierState, cur: &VerifierState) -> bool {
    for (fo, fc) in old.frames.iter().zip(&cur.frames) {
        for (so, sc) in fo.stack.iter().zip(&fc.stack) {
            if so.slot_type[0] == SlotType::Iter
                && so.spilled.range == ITER_ACTIVE
                && so.spilled.mem_size != sc.spilled.mem_size
            {
                return true;
            }
        }
    }
    false
}
