//! The kernel's `check_cfg`: a non-recursive depth-first walk from the entry
//! (and from the exception callback) over fall-through, jump and call
//! edges, with `visit_insn` / `push_insn` / `visit_func_call_insn` and the
//! `mark_prune_point` / `mark_force_checkpoint` / `mark_jmp_point` /
//! `mark_jump_target` / `mark_calls_callback` marks, then the
//! `unreachable insn` and `jump into the middle of ldimm64` checks.

use super::subprogs::{
    bpf_helper_call, bpf_helper_changes_pkt_data, bpf_pseudo_func, bpf_pseudo_kfunc_call,
    rel_target,
};
use super::{CfgError, CfgErrorKind, InsnFlags, SubprogInfo};
use crate::isa::RawInsn;
use crate::isa::raw::*;
use crate::platform::helper_name;

const DISCOVERED: u8 = 0x10;
const EXPLORED: u8 = 0x20;
const FALLTHROUGH: u8 = 1;
const BRANCH: u8 = 2;

/// `visit_insn`'s verdict (`DONE_EXPLORING` / `KEEP_EXPLORING`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Visit {
    Done,
    Keep,
}

struct Walk<'a> {
    insns: &'a [RawInsn],
    state: Vec<u8>,
    stack: Vec<usize>,
    flags: &'a mut [InsnFlags],
    subs: &'a mut [SubprogInfo],
    allow_back_edges: bool,
    kfunc_name: &'a dyn Fn(usize) -> Option<String>,
}

/// `is_sync_callback_calling_function`, by helper name.
pub fn is_sync_callback_calling_function(id: i32) -> bool {
    matches!(
        helper_name(id),
        Some("bpf_for_each_map_elem" | "bpf_find_vma" | "bpf_loop" | "bpf_user_ringbuf_drain")
    )
}

/// `is_async_callback_calling_function`, by helper name.
pub fn is_async_callback_calling_function(id: i32) -> bool {
    helper_name(id) == Some("bpf_timer_set_callback")
}

/// The naming rule the kernel enforces for `KF_ITER_NEXT` kfuncs
/// (`btf_check_iter_kfuncs`: `bpf_iter_<type>_next`).
pub fn is_iter_next_kfunc_name(name: &str) -> bool {
    name.strip_prefix("bpf_iter_")
        .and_then(|r| r.strip_suffix("_next"))
        .is_some_and(|t| !t.is_empty())
}

impl Walk<'_> {
    fn len(&self) -> usize {
        self.insns.len()
    }

    fn flag(&mut self, idx: i64, f: impl FnOnce(&mut InsnFlags)) {
        if let Some(x) = usize::try_from(idx)
            .ok()
            .and_then(|i| self.flags.get_mut(i))
        {
            f(x);
        }
    }

    fn mark_prune_point(&mut self, idx: i64) {
        self.flag(idx, |f| f.prune_point = true);
    }
    fn mark_force_checkpoint(&mut self, idx: i64) {
        self.flag(idx, |f| f.force_checkpoint = true);
    }
    fn mark_jmp_point(&mut self, idx: i64) {
        self.flag(idx, |f| f.jmp_point = true);
    }
    fn mark_jump_target(&mut self, idx: i64) {
        self.flag(idx, |f| f.jump_target = true);
    }
    fn mark_calls_callback(&mut self, idx: i64) {
        self.flag(idx, |f| f.calls_callback = true);
    }

    fn containing(&self, off: i64) -> Option<usize> {
        let off = usize::try_from(off).ok().filter(|&o| o < self.len())?;
        self.subs.partition_point(|s| s.start <= off).checked_sub(1)
    }

    /// `mark_subprog_changes_pkt_data`.
    fn mark_subprog_changes_pkt_data(&mut self, t: usize) {
        if let Some(s) = self.containing(t as i64).and_then(|i| self.subs.get_mut(i)) {
            s.changes_pkt_data = true;
        }
    }

    /// `merge_callee_effects`.
    fn merge_callee_effects(&mut self, t: usize, w: i64) {
        let (Some(caller), Some(callee)) = (self.containing(t as i64), self.containing(w)) else {
            return;
        };
        let c = self.subs.get(callee).is_some_and(|s| s.changes_pkt_data);
        if let Some(s) = self.subs.get_mut(caller) {
            s.changes_pkt_data |= c;
        }
    }

    fn state_at(&self, i: usize) -> u8 {
        self.state.get(i).copied().unwrap_or(0)
    }

    fn set_state(&mut self, i: usize, v: u8) {
        if let Some(s) = self.state.get_mut(i) {
            *s = v;
        }
    }

    /// `push_insn(t, w, e)`.
    fn push_insn(&mut self, t: usize, w: i64, e: u8) -> Result<Visit, CfgError> {
        let st = self.state_at(t);
        if e == FALLTHROUGH && st >= DISCOVERED | FALLTHROUGH {
            return Ok(Visit::Done);
        }
        if e == BRANCH && st >= DISCOVERED | BRANCH {
            return Ok(Visit::Done);
        }
        if w < 0 || w >= self.len() as i64 {
            return Err(CfgError::new(
                CfgErrorKind::JumpOutOfRange,
                t,
                format!("jump out of range from insn {t} to {w}"),
            ));
        }
        if e == BRANCH {
            // mark branch target for state pruning
            self.mark_prune_point(w);
            self.mark_jmp_point(w);
            self.mark_jump_target(w);
        }
        let wu = w as usize;
        let ws = self.state_at(wu);
        if ws == 0 {
            // tree-edge
            self.set_state(t, DISCOVERED | e);
            self.set_state(wu, DISCOVERED);
            if self.stack.len() >= self.len() {
                return Err(CfgError::new(
                    CfgErrorKind::Internal,
                    t,
                    "cfg walk stack overflow",
                ));
            }
            self.stack.push(wu);
            return Ok(Visit::Keep);
        } else if ws & 0xf0 == DISCOVERED {
            if self.allow_back_edges {
                return Ok(Visit::Done);
            }
            return Err(CfgError::new(
                CfgErrorKind::BackEdge,
                t,
                format!("back-edge from insn {t} to {w}"),
            ));
        } else if ws == EXPLORED {
            // forward- or cross-edge
            self.set_state(t, DISCOVERED | e);
        } else {
            return Err(CfgError::new(
                CfgErrorKind::Internal,
                t,
                "insn state internal bug",
            ));
        }
        Ok(Visit::Done)
    }

    /// `visit_func_call_insn`.
    fn visit_func_call_insn(&mut self, t: usize, visit_callee: bool) -> Result<Visit, CfgError> {
        let Some(insn) = self.insns.get(t).copied() else {
            return Ok(Visit::Done);
        };
        let insn_sz: i64 = if insn.is_ldimm64() { 2 } else { 1 };
        let next = t as i64 + insn_sz;
        let ret = self.push_insn(t, next, FALLTHROUGH)?;
        if ret != Visit::Done {
            return Ok(ret);
        }
        self.mark_prune_point(next);
        // when we exit from subprog, we need to record non-linear history
        self.mark_jmp_point(next);
        if visit_callee {
            let w = rel_target(t, insn.imm) as i64;
            self.mark_prune_point(t as i64);
            self.merge_callee_effects(t, w);
            return self.push_insn(t, w, BRANCH);
        }
        Ok(ret)
    }

    /// `visit_insn`.
    fn visit_insn(&mut self, t: usize) -> Result<Visit, CfgError> {
        let Some(insn) = self.insns.get(t).copied() else {
            return Ok(Visit::Done);
        };
        if bpf_pseudo_func(&insn) {
            return self.visit_func_call_insn(t, true);
        }
        let class = insn.class();
        // All non-branch instructions have a single fall-through edge.
        if class != BPF_JMP && class != BPF_JMP32 {
            let insn_sz = if insn.is_ldimm64() { 2 } else { 1 };
            return self.push_insn(t, t as i64 + insn_sz, FALLTHROUGH);
        }
        let ti = t as i64;
        match insn.code & 0xf0 {
            BPF_EXIT => Ok(Visit::Done),
            BPF_CALL => {
                let kfunc = bpf_pseudo_kfunc_call(&insn);
                let kname = if kfunc { (self.kfunc_name)(t) } else { None };
                let helper = bpf_helper_call(&insn);
                let async_cb = (helper && is_async_callback_calling_function(insn.imm))
                    || kname.as_deref() == Some("bpf_wq_set_callback_impl");
                if async_cb {
                    self.mark_prune_point(ti);
                }
                let sync_cb = (helper && is_sync_callback_calling_function(insn.imm))
                    || kname.as_deref() == Some("bpf_rbtree_add_impl");
                if sync_cb {
                    self.mark_calls_callback(ti);
                    self.mark_force_checkpoint(ti);
                    self.mark_prune_point(ti);
                    self.mark_jmp_point(ti);
                }
                if helper && bpf_helper_changes_pkt_data(insn.imm) {
                    self.mark_subprog_changes_pkt_data(t);
                }
                if kname.as_deref().is_some_and(is_iter_next_kfunc_name) {
                    self.flag(ti, |f| f.iter_next = true);
                    self.mark_prune_point(ti);
                    self.mark_force_checkpoint(ti);
                }
                self.visit_func_call_insn(t, insn.src == BPF_PSEUDO_CALL)
            }
            BPF_JA => {
                if insn.code & BPF_X != 0 {
                    return Err(CfgError::new(
                        CfgErrorKind::Internal,
                        t,
                        format!("unknown opcode {:02x}", insn.code),
                    ));
                }
                let off = if class == BPF_JMP {
                    insn.off as i32
                } else {
                    insn.imm
                };
                let w = rel_target(t, off) as i64;
                // unconditional jump with single edge
                let ret = self.push_insn(t, w, FALLTHROUGH)?;
                if ret != Visit::Done {
                    return Ok(ret);
                }
                self.mark_prune_point(w);
                self.mark_jmp_point(w);
                self.mark_jump_target(w);
                Ok(ret)
            }
            _ => {
                // conditional jump with two edges
                self.mark_prune_point(ti);
                if insn.code == BPF_JMP | BPF_JCOND && insn.src == 0 {
                    // is_may_goto_insn
                    self.mark_force_checkpoint(ti);
                }
                let ret = self.push_insn(t, ti + 1, FALLTHROUGH)?;
                if ret != Visit::Done {
                    return Ok(ret);
                }
                self.push_insn(t, rel_target(t, insn.off as i32) as i64, BRANCH)
            }
        }
    }

    fn walk_from(&mut self, entry: usize) -> Result<(), CfgError> {
        self.set_state(entry, DISCOVERED);
        self.stack.clear();
        self.stack.push(entry);
        while let Some(&t) = self.stack.last() {
            match self.visit_insn(t)? {
                Visit::Done => {
                    self.set_state(t, EXPLORED);
                    self.stack.pop();
                }
                Visit::Keep => {}
            }
        }
        Ok(())
    }
}

/// Mirrors `check_cfg`. `allow_back_edges` is the kernel's `bpf_capable`
/// (and the profile's bounded-loop support). Fills `flags` (also on error,
/// up to the failure) and the subprograms' `changes_pkt_data`.
pub fn check_cfg(
    insns: &[RawInsn],
    subs: &mut [SubprogInfo],
    exception_callback_subprog: Option<usize>,
    allow_back_edges: bool,
    kfunc_name: &dyn Fn(usize) -> Option<String>,
    flags: &mut [InsnFlags],
) -> Result<(), CfgError> {
    let n = insns.len();
    if n == 0 {
        return Ok(());
    }
    let ex_start = exception_callback_subprog
        .filter(|&i| i > 0)
        .and_then(|i| subs.get(i))
        .map(|s| s.start);
    let mut w = Walk {
        insns,
        state: vec![0; n],
        stack: Vec::new(),
        flags,
        subs,
        allow_back_edges,
        kfunc_name,
    };
    let r = w.walk_from(0).and_then(|()| match ex_start {
        Some(ex) if ex < n => w.walk_from(ex),
        _ => Ok(()),
    });
    for (i, s) in w.state.iter().enumerate() {
        if *s == EXPLORED
            && let Some(f) = w.flags.get_mut(i)
        {
            f.explored = true;
        }
    }
    r?;
    let mut i = 0;
    while i < n {
        if w.state_at(i) != EXPLORED {
            return Err(CfgError::new(
                CfgErrorKind::Unreachable,
                i,
                format!("unreachable insn {i}"),
            ));
        }
        if insns.get(i).is_some_and(|x| x.is_ldimm64()) {
            if w.state_at(i + 1) != 0 {
                return Err(CfgError::new(
                    CfgErrorKind::JumpIntoLdImm64,
                    i,
                    format!("jump into the middle of ldimm64 insn {i}"),
                ));
            }
            i += 1; // skip second half of ldimm64
        }
        i += 1;
    }
    Ok(())
}
