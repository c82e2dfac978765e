//! Dynptrs (`struct bpf_dynptr`): a 16-byte object on the stack, two
//! `STACK_DYNPTR` slots, created by `bpf_dynptr_from_mem`,
//! `bpf_ringbuf_reserve_dynptr`, `bpf_dynptr_from_skb/xdp` and
//! `bpf_dynptr_clone`, read through helpers and kfuncs, and sliced into
//! `mem` pointers (`bpf_dynptr_data`, `bpf_dynptr_slice[_rdwr]`). Mirrors
//! `process_dynptr_func` and the functions around it in Linux 6.12's
//! `kernel/bpf/verifier.c`: `dynptr_get_spi`, `mark_stack_slots_dynptr`,
//! `unmark_stack_slots_dynptr`, `destroy_if_dynptr_stack_slot`,
//! `is_dynptr_reg_valid_uninit/init`, `is_dynptr_type_expected`,
//! `mark_dynptr_read`.
//!
//! A dynptr's facts live in the `spilled` register of both slots: the
//! type, which slot is the first (higher) one, its `id` (slices remember it
//! as `dynptr_id`) and, for ring-buffer dynptrs, the reference.
//! `CONST_PTR_TO_DYNPTR` (callback and global-function arguments) carries
//! the same facts in the register itself.

use super::env::{Env, Stop, bail_reject, unsupported};
use crate::state::{BaseType, DynptrType, RegState, SlotType, StackSlot, TypeFlags, VerifierState};

/// `BPF_DYNPTR_NR_SLOTS`.
pub const BPF_DYNPTR_NR_SLOTS: usize = 2;
/// `BPF_DYNPTR_SIZE`.
pub const BPF_DYNPTR_SIZE: i32 = 16;

/// What an `ARG_PTR_TO_DYNPTR` argument asks for (the flags of its
/// `enum bpf_arg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DynptrArg {
    /// `MEM_UNINIT`: the function constructs a dynptr there.
    pub uninit: bool,
    /// `MEM_RDONLY`: the function does not mutate or destroy the dynptr.
    pub rdonly: bool,
    /// `DYNPTR_TYPE_*`: the type wanted or constructed; `Invalid` for any.
    pub ty: DynptrType,
}

/// `dynptr_type_refcounted`.
pub fn dynptr_type_refcounted(t: DynptrType) -> bool {
    t == DynptrType::Ringbuf
}

/// `get_dynptr_type_flag` for the register flags of a slice.
pub fn slice_type_flag(t: DynptrType) -> u32 {
    match t {
        DynptrType::Skb => TypeFlags::DYNPTR_SKB,
        DynptrType::Xdp => TypeFlags::DYNPTR_XDP,
        _ => 0,
    }
}

/// `reg_is_dynptr_slice_pkt`: a slice of an skb or xdp dynptr.
pub fn reg_is_dynptr_slice_pkt(r: &RegState) -> bool {
    r.base == BaseType::Mem && r.flags.0 & (TypeFlags::DYNPTR_SKB | TypeFlags::DYNPTR_XDP) != 0
}

/// Where `dynptr_get_spi` finds the dynptr.
#[derive(Clone, Copy, Debug)]
enum Spi {
    /// In the allocated stack of the frame: the first slot.
    At(usize),
    /// `-ERANGE`: past the allocated stack.
    Range,
}

/// `stack_slot_obj_get_spi(env, reg, "dynptr", BPF_DYNPTR_NR_SLOTS)`.
fn dynptr_get_spi(st: &VerifierState, idx: usize, reg: &RegState) -> Result<Spi, Stop> {
    if !reg.var.is_const() {
        bail_reject!("BPF405", idx, "dynptr has to be at a constant offset");
    }
    let off = reg.off as i64 + reg.var.var_off.value as i64;
    if off % 8 != 0 {
        bail_reject!("BPF405", idx, "cannot pass in dynptr at an offset={}", off);
    }
    let spi = (-off - 1).div_euclid(8);
    if spi + 1 < BPF_DYNPTR_NR_SLOTS as i64 {
        bail_reject!("BPF405", idx, "cannot pass in dynptr at an offset={}", off);
    }
    let Some(fr) = st.frames.get(reg.frameno as usize) else {
        return Err(unsupported(idx, "dynptr in a frame that has returned"));
    };
    // is_spi_bounds_valid
    let allocated = i64::from(fr.allocated_stack / 8);
    if spi - (BPF_DYNPTR_NR_SLOTS as i64) + 1 >= 0 && spi < allocated {
        Ok(Spi::At(spi as usize))
    } else {
        Ok(Spi::Range)
    }
}

/// `dynptr_get_spi` where only an in-bounds dynptr will do.
fn dynptr_spi_in_bounds(
    st: &VerifierState,
    idx: usize,
    reg: &RegState,
) -> Result<Option<usize>, Stop> {
    Ok(match dynptr_get_spi(st, idx, reg)? {
        Spi::At(s) => Some(s),
        Spi::Range => None,
    })
}

/// The first slot of a dynptr the caller has already validated.
fn validated_dynptr_spi(st: &VerifierState, idx: usize, reg: &RegState) -> Result<usize, Stop> {
    match dynptr_spi_in_bounds(st, idx, reg)? {
        Some(spi) => Ok(spi),
        None => bail_reject!(
            "BPF405",
            idx,
            "verifier internal error: dynptr out of bounds"
        ),
    }
}

/// `__mark_dynptr_reg`: the register a dynptr slot (or a
/// `CONST_PTR_TO_DYNPTR` argument) holds.
pub fn dynptr_reg(ty: DynptrType, first_slot: bool, id: u32) -> RegState {
    let mut r = RegState::pointer(BaseType::DynptrPtr);
    r.id = id;
    r.dynptr_type = ty;
    r.dynptr_first_slot = first_slot;
    r
}

/// `mark_dynptr_cb_reg` / the global-function case: a `CONST_PTR_TO_DYNPTR`
/// argument with a fresh id.
pub fn mark_dynptr_cb_reg(env: &mut Env<'_>, ty: DynptrType) -> RegState {
    let id = env.new_id();
    dynptr_reg(ty, true, id)
}

/// `mark_reg_invalid` (privileged: an unknown scalar).
fn mark_reg_invalid(r: &mut RegState) {
    *r = RegState::unknown_scalar();
}

fn set_slots(st: &mut VerifierState, frame: usize, spi: usize, first: RegState, second: RegState) {
    let fr = &mut st.frames[frame];
    let t = if first.base == BaseType::NotInit {
        SlotType::Invalid
    } else {
        SlotType::Dynptr
    };
    fr.stack[spi] = StackSlot {
        spilled: first,
        slot_type: [t; 8],
    };
    fr.stack[spi - 1] = StackSlot {
        spilled: second,
        slot_type: [t; 8],
    };
    fr.stack_live[spi] |= super::regs::REG_LIVE_WRITTEN;
    fr.stack_live[spi - 1] |= super::regs::REG_LIVE_WRITTEN;
}

/// `destroy_if_dynptr_stack_slot`: a write into either slot of an
/// unreferenced dynptr destroys it and the slices taken from it; a
/// referenced one may not be overwritten.
pub fn destroy_if_dynptr_stack_slot(
    st: &mut VerifierState,
    idx: usize,
    frame: usize,
    spi: usize,
) -> Result<(), Stop> {
    let Some(s) = st.frames[frame].stack.get(spi) else {
        return Ok(());
    };
    if s.slot_type[0] != SlotType::Dynptr {
        return Ok(());
    }
    let spi = if s.spilled.dynptr_first_slot {
        spi
    } else {
        spi + 1
    };
    let first = &st.frames[frame].stack[spi].spilled;
    if dynptr_type_refcounted(first.dynptr_type) {
        bail_reject!("BPF303", idx, "cannot overwrite referenced dynptr");
    }
    let dynptr_id = first.id;
    st.for_each_reg(|r| {
        // Only `mem` and `mem_or_null` slices: read-only and packet
        // slices stay (their memory does).
        if r.base == BaseType::Mem
            && r.flags.0 & !TypeFlags::MAYBE_NULL == 0
            && r.dynptr_id == dynptr_id
        {
            mark_reg_invalid(r);
        }
    });
    set_slots(st, frame, spi, RegState::not_init(), RegState::not_init());
    Ok(())
}

/// `invalidate_dynptr`.
fn invalidate_dynptr(st: &mut VerifierState, frame: usize, spi: usize) {
    set_slots(st, frame, spi, RegState::not_init(), RegState::not_init());
}

/// `unmark_stack_slots_dynptr`: the dynptr a release function (ring-buffer
/// submit/discard) takes ends, with its slices and clones.
fn unmark_stack_slots_dynptr(
    st: &mut VerifierState,
    idx: usize,
    reg: &RegState,
) -> Result<(), Stop> {
    let frame = reg.frameno as usize;
    let spi = validated_dynptr_spi(st, idx, reg)?;
    let first = st.frames[frame].stack[spi].spilled.clone();
    if !dynptr_type_refcounted(first.dynptr_type) {
        invalidate_dynptr(st, frame, spi);
        return Ok(());
    }
    let ref_obj_id = first.ref_obj_id;
    // release_reference: the reference and every register holding it.
    st.refs.retain(|x| x.0 != ref_obj_id);
    st.for_each_reg(|r| {
        if r.ref_obj_id == ref_obj_id {
            mark_reg_invalid(r);
        }
    });
    // The clones in this frame.
    let n = st.frames[frame].stack.len();
    for i in 1..n {
        let s = &st.frames[frame].stack[i];
        if s.slot_type[0] == SlotType::Dynptr
            && s.spilled.ref_obj_id == ref_obj_id
            && s.spilled.dynptr_first_slot
        {
            invalidate_dynptr(st, frame, i);
        }
    }
    Ok(())
}

/// `mark_stack_slots_dynptr`.
fn mark_stack_slots_dynptr(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    reg: &RegState,
    ty: DynptrType,
    clone_ref_obj_id: u32,
) -> Result<(), Stop> {
    let frame = reg.frameno as usize;
    let spi = validated_dynptr_spi(st, idx, reg)?;
    destroy_if_dynptr_stack_slot(st, idx, frame, spi)?;
    destroy_if_dynptr_stack_slot(st, idx, frame, spi - 1)?;
    if ty == DynptrType::Invalid {
        bail_reject!(
            "BPF405",
            idx,
            "verifier internal error: invalid dynptr type"
        );
    }
    let id = env.new_id();
    let mut first = dynptr_reg(ty, true, id);
    let mut second = dynptr_reg(ty, false, id);
    if dynptr_type_refcounted(ty) {
        let r = if clone_ref_obj_id != 0 {
            clone_ref_obj_id
        } else {
            let r = env.new_id();
            st.refs.push((r, idx));
            r
        };
        first.ref_obj_id = r;
        second.ref_obj_id = r;
    }
    set_slots(st, frame, spi, first, second);
    Ok(())
}

/// `is_dynptr_reg_valid_init`.
fn is_dynptr_reg_valid_init(st: &VerifierState, idx: usize, reg: &RegState) -> Result<bool, Stop> {
    if reg.base == BaseType::DynptrPtr {
        return Ok(true);
    }
    let Some(spi) = dynptr_spi_in_bounds(st, idx, reg)? else {
        return Ok(false);
    };
    let fr = &st.frames[reg.frameno as usize];
    Ok(fr.stack[spi].spilled.dynptr_first_slot
        && fr.stack[spi]
            .slot_type
            .iter()
            .all(|t| *t == SlotType::Dynptr)
        && fr.stack[spi - 1]
            .slot_type
            .iter()
            .all(|t| *t == SlotType::Dynptr))
}

/// The register describing an initialised dynptr argument: the first slot's
/// register, or the `CONST_PTR_TO_DYNPTR` register itself.
pub fn dynptr_state(st: &VerifierState, reg: &RegState) -> Option<RegState> {
    if reg.base == BaseType::DynptrPtr {
        return Some(reg.clone());
    }
    let s = super::regs::const_stack_slot(st, reg)?;
    (s.slot_type[0] == SlotType::Dynptr).then(|| s.spilled.clone())
}

/// `process_dynptr_func` for argument `regno` (R1..R5). `clone_ref_obj_id`
/// is the reference a `bpf_dynptr_clone` of a ring-buffer dynptr shares.
/// Returns the dynptr's state for an initialised argument.
pub fn process_dynptr_func(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    arg: DynptrArg,
    clone_ref_obj_id: u32,
) -> Result<Option<RegState>, Stop> {
    let reg = st.cur().regs[regno].clone();
    if reg.base != BaseType::Stack && reg.base != BaseType::DynptrPtr {
        bail_reject!(
            "BPF405",
            idx,
            "arg#{} expected pointer to stack or const struct bpf_dynptr",
            regno - 1
        );
    }
    if arg.uninit {
        // is_dynptr_reg_valid_uninit
        let valid = reg.base != BaseType::DynptrPtr && {
            dynptr_get_spi(st, idx, &reg)?;
            true
        };
        if !valid {
            bail_reject!("BPF405", idx, "Dynptr has to be an uninitialized dynptr");
        }
        // We write BPF_DW bits (8 bytes) at a time.
        for i in (0..BPF_DYNPTR_SIZE).step_by(8) {
            super::mem::check_mem_access(
                env,
                st,
                idx,
                regno,
                i,
                crate::isa::Size::DW,
                super::mem::Access::Write,
                super::mem::Value::None,
                false,
                false,
            )?;
        }
        mark_stack_slots_dynptr(env, st, idx, &reg, arg.ty, clone_ref_obj_id)?;
        return Ok(None);
    }
    if reg.base == BaseType::DynptrPtr && !arg.rdonly {
        bail_reject!(
            "BPF405",
            idx,
            "cannot pass pointer to const bpf_dynptr, the helper mutates it"
        );
    }
    if !is_dynptr_reg_valid_init(st, idx, &reg)? {
        bail_reject!(
            "BPF405",
            idx,
            "Expected an initialized dynptr as arg #{}",
            regno - 1
        );
    }
    let Some(d) = dynptr_state(st, &reg) else {
        bail_reject!("BPF405", idx, "verifier internal error: no dynptr state");
    };
    // is_dynptr_type_expected
    if arg.ty != DynptrType::Invalid && d.dynptr_type != arg.ty {
        bail_reject!(
            "BPF405",
            idx,
            "Expected a dynptr of type {} as arg #{}",
            arg.ty.name(),
            regno - 1
        );
    }
    // mark_dynptr_read
    if reg.base == BaseType::Stack {
        let spi = ((-(reg.off as i64 + reg.var.var_off.value as i64) - 1) / 8) as usize;
        super::regs::mark_stack_read(env, st, reg.frameno as usize, spi);
        super::regs::mark_stack_read(env, st, reg.frameno as usize, spi - 1);
    }
    Ok(Some(d))
}

/// The release of a dynptr argument (`OBJ_RELEASE`, before
/// `process_dynptr_func`): only a referenced dynptr on the stack.
pub fn check_dynptr_release_arg(st: &VerifierState, idx: usize, regno: usize) -> Result<(), Stop> {
    let reg = &st.cur().regs[regno];
    if reg.base != BaseType::Stack {
        bail_reject!("BPF502", idx, "cannot release unowned const bpf_dynptr");
    }
    let held = match dynptr_get_spi(st, idx, reg) {
        Ok(Spi::At(spi)) => {
            st.frames[reg.frameno as usize].stack[spi]
                .spilled
                .ref_obj_id
                != 0
        }
        _ => false,
    };
    if !held {
        bail_reject!("BPF502", idx, "arg {} is an unacquired reference", regno);
    }
    Ok(())
}

/// After the arguments: the release function ends the dynptr.
pub fn release_dynptr_arg(st: &mut VerifierState, idx: usize, regno: usize) -> Result<(), Stop> {
    let reg = st.cur().regs[regno].clone();
    unmark_stack_slots_dynptr(st, idx, &reg)
}

/// `check_stack_range_initialized`'s raw-mode rule: memory a helper
/// writes may not overlap a dynptr ("potential write to dynptr").
pub fn check_raw_mode_over_dynptr(
    st: &VerifierState,
    idx: usize,
    frame: usize,
    lo: i64,
    hi: i64,
) -> Result<(), Stop> {
    let fr = &st.frames[frame];
    for i in lo..hi {
        let stack_off = -i - 1;
        if stack_off < 0 || i64::from(fr.allocated_stack) <= stack_off {
            continue;
        }
        let (spi, b) = ((stack_off / 8) as usize, (stack_off % 8) as usize);
        if fr.stack[spi].slot_type[b] == SlotType::Dynptr {
            bail_reject!(
                "BPF405",
                idx,
                "potential write to dynptr at off={} disallowed",
                i
            );
        }
    }
    Ok(())
}
