//! State pruning as `is_state_visited` / `states_equal` / `regsafe` /
//! `stacksafe` / `check_ids` do it. bpfproof has no precision or read-mark
//! tracking yet, so every old scalar counts as precise and every old
//! register as read: a state is pruned only when an explored state covers
//! it completely, which is sound but prunes less than the kernel (more
//! instructions processed, never a different verdict on accepted paths).

use crate::state::{BaseType, RegState, SlotType, Stack, StackSlot, VerifierState};
use bpfproof_domains::scalar::range_within;
use std::collections::HashMap;

/// A stored state (`struct bpf_verifier_state_list`).
pub struct Checkpoint {
    /// The state when it was stored.
    pub st: VerifierState,
    /// Where it was stored (`insn_idx`).
    pub insn_idx: usize,
    /// Unread registers were forgotten (`REG_LIVE_DONE`).
    pub cleaned: bool,
    /// The instructions from the previous stored state on its path to this
    /// one (for precision backtracking).
    pub hist: Vec<super::precision::Hist>,
    /// Paths still being explored below it (`branches`).
    pub branches: u32,
    /// The checkpoint above it on its path.
    pub parent: Option<usize>,
    /// Times a state was pruned against it (`hit_cnt`).
    pub hit_cnt: u32,
    /// Times a state at the same instruction was not (`miss_cnt`).
    pub miss_cnt: u32,
}

/// `get_loop_entry`: the outermost loop head `start` belongs to.
pub fn get_loop_entry(ckpts: &[Checkpoint], start: Option<usize>) -> Option<usize> {
    let mut top = start?;
    let mut steps = 0;
    while let Some(n) = ckpts[top].st.loop_entry {
        if n == top || steps > ckpts.len() {
            break;
        }
        top = n;
        steps += 1;
    }
    Some(top)
}

/// `update_loop_entry`: `cur` (a stored state or the current one) is part of the loop headed by the stored state `hdr` when that
/// loop's head is still being explored above it.
pub fn update_loop_entry(ckpts: &[Checkpoint], cur: &mut VerifierState, hdr: usize) {
    if loop_entry_applies(ckpts, cur.loop_entry, cur.dfs_depth, hdr) {
        cur.loop_entry = Some(hdr);
    }
}

/// `update_loop_entry` for the stored state `c`.
pub fn update_loop_entry_at(ckpts: &mut [Checkpoint], c: usize, hdr: usize) {
    let (le, depth) = (ckpts[c].st.loop_entry, ckpts[c].st.dfs_depth);
    if loop_entry_applies(ckpts, le, depth, hdr) {
        ckpts[c].st.loop_entry = Some(hdr);
    }
}

fn loop_entry_applies(ckpts: &[Checkpoint], le: Option<usize>, depth: u32, hdr: usize) -> bool {
    let cur1_depth = match get_loop_entry(ckpts, le) {
        Some(e) => ckpts[e].st.dfs_depth,
        None => depth,
    };
    let hdr1 = get_loop_entry(ckpts, ckpts[hdr].st.loop_entry).unwrap_or(hdr);
    ckpts[hdr1].branches > 0 && ckpts[hdr1].st.dfs_depth <= cur1_depth
}

/// How strictly to compare.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Exact {
    /// `NOT_EXACT`: the old state covers the current one; imprecise
    /// scalars of the old state match anything.
    NotExact,
    /// `RANGE_WITHIN`: as `NotExact`, with every scalar taken as precise.
    RangeWithin,
    /// `EXACT`: the states are the same up to id renaming.
    Exact,
}

/// `struct bpf_idmap`: a consistent renaming of ids between the states.
#[derive(Default)]
pub struct IdMap {
    map: HashMap<u32, u32>,
    rev: HashMap<u32, u32>,
}

impl IdMap {
    /// `check_ids`: `old` and `cur` must map one to one.
    pub fn check_ids(&mut self, old: u32, cur: u32) -> bool {
        if old == 0 || cur == 0 {
            return old == cur;
        }
        match (self.map.get(&old), self.rev.get(&cur)) {
            (Some(&c), _) => c == cur,
            (None, Some(_)) => false,
            (None, None) => {
                self.map.insert(old, cur);
                self.rev.insert(cur, old);
                true
            }
        }
    }

    /// `check_scalar_ids`: a zero id on one side gets a fresh one.
    pub fn check_scalar_ids(&mut self, old: u32, cur: u32, fresh: &mut u32) -> bool {
        let mut f = || {
            *fresh += 1;
            *fresh
        };
        let old = if old == 0 { f() | (1 << 30) } else { old };
        let cur = if cur == 0 { f() | (1 << 30) } else { cur };
        self.check_ids(old, cur)
    }
}

fn tnum_in(old: &RegState, cur: &RegState) -> bool {
    old.var.var_off.contains_tnum(cur.var.var_off)
}

/// `regs_exact`.
pub fn regs_exact(old: &RegState, cur: &RegState, ids: &mut IdMap) -> bool {
    old.base == cur.base
        && old.flags == cur.flags
        && old.off == cur.off
        && old.var == cur.var
        && old.range == cur.range
        && old.map == cur.map
        && old.mem_size == cur.mem_size
        && old.frameno == cur.frameno
        && old.subprog == cur.subprog
        && old.btf_id == cur.btf_id
        && old.dynptr_type == cur.dynptr_type
        && old.dynptr_first_slot == cur.dynptr_first_slot
        && old.dynptr_id == cur.dynptr_id
        && ids.check_ids(old.id, cur.id)
        && ids.check_ids(old.ref_obj_id, cur.ref_obj_id)
}

/// `regsafe`.
pub fn regsafe(
    old: &RegState,
    cur: &RegState,
    ids: &mut IdMap,
    fresh: &mut u32,
    exact: Exact,
) -> bool {
    if old.base == BaseType::NotInit {
        return exact == Exact::NotExact || cur.base == BaseType::NotInit;
    }
    if cur.base == BaseType::NotInit {
        return false;
    }
    if exact == Exact::Exact {
        return regs_exact(old, cur, ids);
    }
    if old.base != cur.base || old.flags != cur.flags {
        return false;
    }
    match old.base {
        BaseType::Scalar => {
            if !old.precise && exact == Exact::NotExact {
                return true;
            }
            let add_const = crate::state::BPF_ADD_CONST;
            if (old.id & add_const) != (cur.id & add_const)
                || (old.id & add_const != 0 && old.off != cur.off)
            {
                return false;
            }
            ids.check_scalar_ids(old.id, cur.id, fresh)
                && range_within(&old.var, &cur.var)
                && tnum_in(old, cur)
        }
        BaseType::MapKey
        | BaseType::MapValue
        | BaseType::Mem
        | BaseType::Buf
        | BaseType::TpBuffer => {
            old.off == cur.off
                && old.map == cur.map
                && old.mem_size == cur.mem_size
                && old.dynptr_id == cur.dynptr_id
                && range_within(&old.var, &cur.var)
                && tnum_in(old, cur)
                && ids.check_ids(old.id, cur.id)
                && ids.check_ids(old.ref_obj_id, cur.ref_obj_id)
        }
        BaseType::Packet | BaseType::PacketMeta => {
            old.range <= cur.range
                && old.off == cur.off
                && ids.check_ids(old.id, cur.id)
                && range_within(&old.var, &cur.var)
                && tnum_in(old, cur)
        }
        BaseType::Stack => regs_exact(old, cur, ids) && old.frameno == cur.frameno,
        BaseType::Arena => true,
        _ => regs_exact(old, cur, ids),
    }
}

/// `scalar_reg_for_stack`: a spilled scalar, or an unknown scalar for an
/// all-MISC slot (privileged: INVALID counts as MISC).
fn scalar_reg_for_stack(s: &StackSlot) -> Option<RegState> {
    if s.is_spilled_scalar_reg() && s.slot_type.iter().all(|t| *t == SlotType::Spill) {
        return Some(s.spilled.clone());
    }
    if s.slot_type
        .iter()
        .all(|t| matches!(t, SlotType::Misc | SlotType::Invalid))
        && s.slot_type.contains(&SlotType::Misc)
    {
        return Some(RegState::unknown_scalar());
    }
    None
}

/// `stacksafe` (privileged: `allow_uninit_stack`).
fn stacksafe(old: &Stack, cur: &Stack, ids: &mut IdMap, fresh: &mut u32, exact: Exact) -> bool {
    for (spi, (o, c)) in old.iter().zip(cur.iter()).enumerate() {
        let _ = spi;
        if exact == Exact::Exact {
            if o.slot_type != c.slot_type {
                return false;
            }
            if o.is_spilled_reg() && !regsafe(&o.spilled, &c.spilled, ids, fresh, exact) {
                return false;
            }
            if o.slot_type[0] == SlotType::Iter && !iter_slot_safe(o, c, ids) {
                return false;
            }
            if o.slot_type[0] == SlotType::Dynptr && !dynptr_slot_safe(o, c, ids) {
                return false;
            }
            continue;
        }
        if let (Some(or), Some(cr)) = (scalar_reg_for_stack(o), scalar_reg_for_stack(c)) {
            if !regsafe(&or, &cr, ids, fresh, exact) {
                return false;
            }
            continue;
        }
        for k in 0..8 {
            let (ot, ct) = (o.slot_type[k], c.slot_type[k]);
            if ot == SlotType::Invalid || ot == SlotType::Misc {
                continue;
            }
            if ot != ct {
                return false;
            }
        }
        if o.is_spilled_reg() && !regsafe(&o.spilled, &c.spilled, ids, fresh, exact) {
            return false;
        }
        if o.slot_type[0] == SlotType::Iter && !iter_slot_safe(o, c, ids) {
            return false;
        }
        if o.slot_type[0] == SlotType::Dynptr && !dynptr_slot_safe(o, c, ids) {
            return false;
        }
    }
    true
}

/// `STACK_DYNPTR` slots: the same dynptr type and slot and the same
/// reference up to renaming.
fn dynptr_slot_safe(o: &StackSlot, c: &StackSlot, ids: &mut IdMap) -> bool {
    c.slot_type[0] == SlotType::Dynptr
        && o.spilled.dynptr_type == c.spilled.dynptr_type
        && o.spilled.dynptr_first_slot == c.spilled.dynptr_first_slot
        && ids.check_ids(o.spilled.ref_obj_id, c.spilled.ref_obj_id)
}

/// `STACK_ITER` slots: the same iterator type and state and the same
/// reference up to renaming; the depth is ignored.
fn iter_slot_safe(o: &StackSlot, c: &StackSlot, ids: &mut IdMap) -> bool {
    c.slot_type[0] == SlotType::Iter
        && o.spilled.btf_id == c.spilled.btf_id
        && o.spilled.range == c.spilled.range
        && ids.check_ids(o.spilled.ref_obj_id, c.spilled.ref_obj_id)
}

/// `states_equal`.
pub fn states_equal(old: &VerifierState, cur: &VerifierState, exact: Exact) -> bool {
    if old.frames.len() != cur.frames.len() {
        return false;
    }
    let mut ids = IdMap::default();
    let mut fresh = 0u32;
    match (old.active_lock, cur.active_lock) {
        (None, None) => {}
        (Some((om, oid)), Some((cm, cid))) if om == cm && ids.check_ids(oid, cid) => {}
        _ => return false,
    }
    // refsafe: the same references, up to renaming.
    if old.refs.len() != cur.refs.len()
        || !old
            .refs
            .iter()
            .zip(&cur.refs)
            .all(|(o, c)| ids.check_ids(o.0, c.0))
    {
        return false;
    }
    for (o, c) in old.frames.iter().zip(cur.frames.iter()) {
        if o.callsite != c.callsite || o.callback_depth > c.callback_depth {
            return false;
        }
        for (or, cr) in o.regs.iter().zip(c.regs.iter()) {
            if !regsafe(or, cr, &mut ids, &mut fresh, exact) {
                return false;
            }
        }
        if !stacksafe(&o.stack, &c.stack, &mut ids, &mut fresh, exact) {
            return false;
        }
    }
    true
}
