//! `do_check`: depth-first exploration of every path, one transfer per
//! instruction class, with the kernel's limits and state pruning at the
//! prune points of `check_cfg` (conditional jumps, jump targets, the
//! instruction after a call).

use super::alu::{check_alu_op, check_neg_end};
use super::env::{
    BPF_COMPLEXITY_LIMIT_INSNS, BPF_COMPLEXITY_LIMIT_JMP_SEQ, Env, Stop, bail_reject, unsupported,
};
use super::jmp::{Branch, check_cond_jmp_op};
use super::mem::{Access, Value, check_mem_access};
use super::precision::Hist;
use super::prune::{Checkpoint, Exact, states_equal};
use super::regs::check_reg_read;
use crate::isa::raw::*;
use crate::isa::{AtomicOp, CallKind, Insn};
use crate::platform::ProgType;
use crate::state::{BaseType, FuncState, MAX_BPF_REG, MAX_BPF_STACK, RegState, VerifierState};
use std::collections::HashMap;

/// Counters the kernel reports.
#[derive(Default, Debug, Clone, Copy)]
pub struct Counters {
    /// `total_states`.
    pub total_states: u64,
    /// `peak_states`.
    pub peak_states: u64,
}

struct Path {
    idx: usize,
    st: VerifierState,
    /// Innermost checkpoint on this path.
    ckpt: Option<usize>,
    /// The instructions since that checkpoint.
    hist: Vec<Hist>,
    /// The branch instruction it was pushed at (`usize::MAX`: the start).
    from: usize,
    /// The log position when it was pushed.
    log_pos: usize,
    /// Branch decisions on the way here.
    decisions: super::obligation::DecisionList,
}

/// What `check_cfg`/`visit_insn` marks per instruction.
struct Marks {
    /// `prune_point`.
    prune: Vec<bool>,
    /// `force_checkpoint`: a new state is always stored here.
    force: Vec<bool>,
    /// `jmp_point`: the kernel records this instruction in the state's
    /// history.
    jmp: Vec<bool>,
}

/// `is_sync_callback_calling_function` for helpers.
pub(super) fn is_sync_callback_calling_helper(id: i32) -> bool {
    matches!(
        crate::platform::helper_name(id),
        Some("bpf_loop" | "bpf_for_each_map_elem" | "bpf_find_vma" | "bpf_user_ringbuf_drain")
    )
}

/// Prune points, jump points and forced checkpoints as
/// `check_cfg`/`visit_insn`/`push_insn` mark them.
fn prune_points(env: &Env<'_>) -> Marks {
    let n = env.insns.len();
    let mut m = Marks {
        prune: vec![false; n],
        force: vec![false; n],
        jmp: vec![false; n],
    };
    // push_insn(.., BRANCH) and the explicit marks: prune and jump point.
    let both = |m: &mut Marks, w: i64| {
        if (0..n as i64).contains(&w) {
            m.prune[w as usize] = true;
            m.jmp[w as usize] = true;
        }
    };
    for (t, d) in env.insns.iter().enumerate() {
        let Some(Ok(insn)) = d else { continue };
        let ti = t as i64;
        match *insn {
            Insn::Jmp { off, .. } => {
                m.prune[t] = true;
                both(&mut m, ti + off as i64 + 1);
            }
            Insn::MayGoto { off } => {
                m.prune[t] = true;
                m.force[t] = true;
                both(&mut m, ti + off as i64 + 1);
            }
            Insn::Ja { off, .. } => both(&mut m, ti + off as i64 + 1),
            Insn::LdImm64 {
                pseudo: BPF_PSEUDO_FUNC,
                imm,
                ..
            } => {
                // visit_func_call_insn(visit_callee = true).
                both(&mut m, ti + 2);
                m.prune[t] = true;
                both(&mut m, ti + imm as i64 + 1);
            }
            Insn::Call(kind) => {
                both(&mut m, ti + 1);
                match kind {
                    CallKind::Local(imm) => {
                        m.prune[t] = true;
                        both(&mut m, ti + imm as i64 + 1);
                    }
                    CallKind::Helper(id)
                        if crate::platform::helper_name(id) == Some("bpf_timer_set_callback") =>
                    {
                        m.prune[t] = true
                    }
                    CallKind::Helper(id) if is_sync_callback_calling_helper(id) => {
                        m.prune[t] = true;
                        m.force[t] = true;
                        m.jmp[t] = true;
                    }
                    CallKind::Kfunc { .. }
                        if env.prog.externs.iter().any(|e| {
                            e.insn == t
                                && e.kind == "kfunc"
                                && super::kfunc::is_iter_next_kfunc(&e.name)
                        }) =>
                    {
                        m.prune[t] = true;
                        m.force[t] = true;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    m
}

/// The initial state: R1 = ctx, R10 = fp (`init_func_state`).
fn initial_state() -> VerifierState {
    let mut f = FuncState::new(0);
    f.regs[1] = RegState::pointer(BaseType::Ctx);
    VerifierState::with_frame(f)
}

/// `do_check_main` then `do_check_subprogs`: the main program, then every
/// global function it (transitively) calls, each on its own.
pub fn do_check_all(env: &mut Env<'_>) -> Result<Counters, Stop> {
    let mut total = do_check(env, 0, initial_state())?;
    let mut k = 0;
    while k < env.called_globals.len() {
        let g = env.called_globals[k].clone();
        env.in_global = true;
        let st = super::global::global_entry_state(env, &g);
        let c = do_check(env, g.start, st)?;
        total.total_states += c.total_states;
        total.peak_states = total.peak_states.max(c.peak_states);
        k += 1;
    }
    Ok(total)
}

/// Runs the exploration from `start` with state `init`. `Ok` means every
/// path reached `exit` safely.
pub fn do_check(env: &mut Env<'_>, start: usize, init: VerifierState) -> Result<Counters, Stop> {
    let marks = prune_points(env);
    env.ckpts.clear();
    // `env->explored_states`: bucket (see `explored_state`) -> stored states, oldest first.
    let mut explored: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut pending: Vec<Path> = Vec::new();
    let mut counters = Counters::default();
    let mut live_states: u64 = 0;
    env.path_start = start;
    env.path_entry = init
        .frames
        .last()
        .map(|f| f.regs.to_vec())
        .unwrap_or_default();
    let mut path = Some(Path {
        idx: start,
        st: init,
        ckpt: None,
        hist: Vec::new(),
        from: usize::MAX,
        log_pos: 0,
        decisions: None,
    });
    while let Some(Path {
        mut idx,
        mut st,
        ckpt,
        hist,
        from,
        log_pos,
        decisions,
    }) = path.take()
    {
        env.cur_ckpt = ckpt;
        env.hist = hist;
        env.decisions = decisions;
        if from != usize::MAX {
            super::log::path_start(env, from, idx, log_pos, &st);
        } else {
            super::log::entry_state(env, idx, &st);
        }
        loop {
            if idx >= env.insns.len() {
                bail_reject!(
                    "BPF102",
                    idx,
                    "invalid insn idx {} insn_cnt {}",
                    idx,
                    env.insns.len()
                );
            }
            env.insn_processed += 1;
            env.check_deadline(idx)?;
            if env.insn_processed > BPF_COMPLEXITY_LIMIT_INSNS {
                // The kernel says "BPF program is too large. Processed %d insn"
                // here. Inside a loop of the CFG the count grows with the
                // iterations explored, and bpfproof's per-iteration count is
                // the kernel's (the loop programs of the scale set process
                // exactly the kernel's number of instructions): the limit is
                // the kernel's verdict, reported with the loop. Outside any
                // loop the count is paths times what pruning saves, where
                // bpfproof's pruning is close to the kernel's but not proven
                // equal: unsupported.
                if let Some(report) = loop_report(env, idx) {
                    return Err(Stop::Reject(super::Finding {
                        code: "BPF601",
                        message: format!(
                            "BPF program is too large. Processed {} insn",
                            env.insn_processed
                        ),
                        insn: Some(idx),
                        more: vec![report],
                    }));
                }
                return Err(unsupported(
                    idx,
                    format!(
                        "the 1,000,000-instruction limit was reached; bpfproof's state pruning \
                         is close to the kernel's but not proven equal, so the kernel may still finish \
                         (kernel message if it does not: BPF program is too large. Processed {} insn)",
                        env.insn_processed
                    ),
                ));
            }
            if marks.prune[idx] && env.visited.is_none() {
                // Avoid accumulating an infinitely long history: the
                // kernel counts the entries its jump history would hold.
                let long_hist = env
                    .hist
                    .iter()
                    .filter(|h| marks.jmp[h.idx as usize] || h.flags != 0 || h.linked.is_some())
                    .count()
                    > 40;
                let force = marks.force[idx] || env.test_state_freq || long_hist;
                let force_ckpt = marks.force[idx];
                match is_state_visited(env, &mut explored, idx, &mut st, force, force_ckpt)? {
                    Visit::Prune(old) => {
                        env.hist.push(Hist {
                            idx: idx as u32,
                            ..Hist::default()
                        });
                        propagate_liveness(env, old, &st);
                        super::log::safe(env, idx);
                        super::precision::propagate_precision(env, old);
                        record_stack_depth(env, &st);
                        break;
                    }
                    Visit::Continue => {}
                    Visit::NewState(c) => {
                        env.cur_ckpt = Some(c);
                        // Writes from here on are the new state's children's.
                        for f in &mut st.frames {
                            f.live = [0; MAX_BPF_REG];
                            f.stack_live.iter_mut().for_each(|l| *l = 0);
                        }
                        counters.total_states += 1;
                        live_states += 1;
                        counters.peak_states = counters.peak_states.max(live_states);
                    }
                }
            }
            let insn = match &env.insns[idx] {
                Some(Ok(i)) => *i,
                Some(Err(e)) => bail_reject!("BPF101", idx, "{}", e.message),
                None => bail_reject!(
                    "BPF102",
                    idx,
                    "jump into the middle of ldimm64 insn {}",
                    idx
                ),
            };
            if insn.is_jmp_class() {
                env.jmps_processed += 1;
            }
            env.hist.push(Hist {
                idx: idx as u32,
                ..Hist::default()
            });
            let frames_before = st.frames.len();
            super::collect::record(env, idx, &st)?;
            super::log::before_insn(env, idx, &st);
            let next = match step(env, &mut st, idx, insn) {
                Ok(n) => n,
                Err(Stop::Reject(finding)) if env.collect_errors => {
                    // Beyond the kernel, which stops here: note the error,
                    // abandon this path and go on with the pending ones.
                    let obligation = env.cur_obligation.take();
                    env.errors.push(super::env::CollectedError {
                        finding,
                        state: st.clone(),
                        path: env.decisions.clone(),
                        obligation,
                    });
                    if env.errors.len() >= super::MAX_COLLECTED_ERRORS {
                        return Ok(counters);
                    }
                    break;
                }
                Err(e) => {
                    env.failure = Some((st, env.decisions.clone()));
                    return Err(e);
                }
            };

            mark_insn_writes(&mut st, insn, frames_before);
            let dst = match insn {
                Insn::Alu { dst, .. }
                | Insn::Neg { dst, .. }
                | Insn::End { dst, .. }
                | Insn::Ldx { dst, .. }
                | Insn::LdImm64 { dst, .. } => Some(dst as usize),
                _ => None,
            };
            super::log::after_insn(env, &st, dst);
            if let Some((target, other)) = env.pushed.take() {
                // push_callback_call: the callback is explored later, in a
                // copy of the state taken at the call.
                let cur = super::obligation::push_fork(&env.decisions, idx, false);
                env.decisions = super::obligation::push_fork(&env.decisions, idx, true);
                push_path(env, &mut pending, idx, target, other)?;
                env.decisions = cur;
            }
            if let (Insn::Jmp { off, .. }, Next::Go(n)) = (insn, &next) {
                let taken = *n as i64 == idx as i64 + off as i64 + 1 && *n != idx + 1;
                env.decisions = super::obligation::push_decision(&env.decisions, idx, taken);
            }
            match next {
                Next::Go(n) => idx = n,
                Next::Exit => break,
                Next::CallbackExit(callsite) => {
                    // prepare_func_exit: back to the calling helper, which
                    // schedules the next visit; imprecise scalars are
                    // widened against the previous visit (find_prev_entry).
                    widen_against_prev_visit(env, callsite, &mut st, false);
                    idx = callsite;
                }
                Next::Fork {
                    fallthrough,
                    target,
                    other,
                } => {
                    let not_taken = super::obligation::push_decision(&env.decisions, idx, false);
                    env.decisions = super::obligation::push_decision(&env.decisions, idx, true);
                    push_path(env, &mut pending, idx, target, *other)?;
                    env.decisions = not_taken;
                    idx = fallthrough;
                }
            }
        }
        // update_branch_counts: this path is done; a finished state that
        // was part of a loop makes its parent part of it too.
        if let (Some(p), Some(le)) = (env.cur_ckpt, st.loop_entry) {
            super::prune::update_loop_entry_at(&mut env.ckpts, p, le);
        }
        let mut c = env.cur_ckpt;
        while let Some(i) = c {
            env.ckpts[i].branches -= 1;
            if env.ckpts[i].branches > 0 {
                break;
            }
            if let (Some(p), Some(le)) = (env.ckpts[i].parent, env.ckpts[i].st.loop_entry) {
                super::prune::update_loop_entry_at(&mut env.ckpts, p, le);
            }
            c = env.ckpts[i].parent;
        }
        path = pending.pop();
    }
    Ok(counters)
}

/// `check_reg_arg(DST_OP)`'s `REG_LIVE_WRITTEN`, applied after the
/// instruction so that its own reads are never screened.
fn mark_insn_writes(st: &mut VerifierState, insn: Insn, frames_before: usize) {
    use super::regs::REG_LIVE_WRITTEN as W;
    let n = st.frames.len();
    let cur = n - 1;
    let set = |st: &mut VerifierState, fr: usize, regs: std::ops::Range<usize>| {
        for r in regs {
            st.frames[fr].live[r] |= W;
        }
    };
    match insn {
        Insn::Alu { dst, .. }
        | Insn::Neg { dst, .. }
        | Insn::End { dst, .. }
        | Insn::Ldx { dst, .. }
        | Insn::LdImm64 { dst, .. }
            if n == frames_before =>
        {
            let d = dst as usize;
            set(st, cur, d..d + 1);
        }
        Insn::LdAbs { .. } | Insn::LdInd { .. } => set(st, cur, 0..6),
        Insn::Call(CallKind::Local(_)) if n == frames_before + 1 => set(st, n - 2, 0..6),
        Insn::Call(_) if n == frames_before => set(st, cur, 0..6),
        Insn::Exit if n + 1 == frames_before => set(st, cur, 0..1),
        _ => {}
    }
}

/// `propagate_liveness`: the current path was pruned against `old`, so it
/// reads what `old`'s continuation read (caller frames: R6–R9 only).
fn propagate_liveness(env: &mut Env<'_>, old: usize, cur: &VerifierState) {
    let frames = env.ckpts[old].st.frames.len().min(cur.frames.len());
    for f in 0..frames {
        let start = if f + 1 < frames { 6 } else { 0 };
        for r in start..10 {
            if env.ckpts[old].st.frames[f].live[r] & super::regs::REG_LIVE_READ != 0 {
                super::regs::mark_reg_read(env, cur, f, r);
            }
        }
        for spi in 0..env.ckpts[old].st.frames[f].stack_live.len() {
            if env.ckpts[old].st.frames[f].stack_live[spi] & super::regs::REG_LIVE_READ != 0 {
                super::regs::mark_stack_read(env, cur, f, spi);
            }
        }
    }
}

/// `clean_live_states`: once every path below a stored state is explored,
/// its registers that nothing read are forgotten (`NOT_INIT` matches
/// anything in `regsafe`).
fn clean_live_states(env: &mut Env<'_>, insn: usize, list: &[usize], cur: &VerifierState) {
    for &c in list {
        if env.ckpts[c].insn_idx != insn {
            continue;
        }
        // Not while the loop the state belongs to is still explored: such
        // states are compared RANGE_WITHIN, dead registers included.
        let le = super::prune::get_loop_entry(&env.ckpts, env.ckpts[c].st.loop_entry);
        if le.is_some_and(|e| env.ckpts[e].branches > 0) {
            continue;
        }
        let ck = &mut env.ckpts[c];
        if ck.branches > 0
            || ck.cleaned
            || ck.st.frames.len() != cur.frames.len()
            || ck
                .st
                .frames
                .iter()
                .zip(&cur.frames)
                .any(|(a, b)| a.callsite != b.callsite)
        {
            continue;
        }
        ck.cleaned = true;
        for f in &mut ck.st.frames {
            for r in 0..10 {
                if f.live[r] & super::regs::REG_LIVE_READ == 0 {
                    f.regs[r] = RegState::not_init();
                }
            }
            for spi in 0..f.stack.len() {
                // Written only when it changes: the slots may be shared.
                if f.stack_live[spi] & super::regs::REG_LIVE_READ == 0
                    && f.stack[spi] != crate::state::StackSlot::default()
                {
                    f.stack[spi] = crate::state::StackSlot::default();
                }
            }
        }
    }
}

/// `push_stack`: a path to explore later, counted as a branch of the
/// current checkpoint, with a copy of the current path segment.
fn push_path(
    env: &mut Env<'_>,
    pending: &mut Vec<Path>,
    idx: usize,
    target: usize,
    st: VerifierState,
) -> Result<(), Stop> {
    if let Some(c) = env.cur_ckpt {
        env.ckpts[c].branches += 1;
    }
    pending.push(Path {
        idx: target,
        st,
        ckpt: env.cur_ckpt,
        hist: env.hist.clone(),
        from: idx,
        log_pos: super::log::pos(env),
        decisions: env.decisions.clone(),
    });
    if pending.len() > BPF_COMPLEXITY_LIMIT_JMP_SEQ {
        bail_reject!(
            "BPF602",
            idx,
            "The sequence of {} jumps is too complex.",
            pending.len()
        );
    }
    Ok(())
}

/// `find_prev_entry` then `widen_imprecise_scalars`: `state`, the next
/// visit of the loop at `idx` (callback call, `may_goto`, iterator
/// `next`), loses the values of imprecise scalars that changed since the
/// previous visit. With `skip_own`, the state just stored at `idx` for
/// this visit is not a previous one (`find_prev_entry(cur->parent)`).
pub(super) fn widen_against_prev_visit(
    env: &Env<'_>,
    idx: usize,
    state: &mut VerifierState,
    skip_own: bool,
) {
    let from = match env.cur_ckpt {
        Some(c) if skip_own && env.ckpts[c].insn_idx == idx => env.ckpts[c].parent,
        other => other,
    };
    if let Some(prev) = find_prev_entry(&env.ckpts, from, idx, state) {
        super::call::widen_imprecise_scalars(&env.ckpts[prev].st, state, !env.privileged);
    }
}

/// `find_prev_entry`: the nearest checkpoint on the current path at
/// `insn_idx` with the same call sites.
fn find_prev_entry(
    ckpts: &[Checkpoint],
    mut c: Option<usize>,
    insn_idx: usize,
    cur: &VerifierState,
) -> Option<usize> {
    while let Some(i) = c {
        let old = &ckpts[i];
        if old.insn_idx == insn_idx
            && old.st.frames.len() == cur.frames.len()
            && old
                .st
                .frames
                .iter()
                .zip(&cur.frames)
                .all(|(a, b)| a.callsite == b.callsite)
        {
            return Some(i);
        }
        c = old.parent;
    }
    None
}

/// `explored_state`: the bucket of `env->explored_states` the stored
/// states at `idx` go to. The kernel hashes the instruction with the call
/// site of the current frame (`(idx ^ callsite) % state_htab_size`, where
/// `state_htab_size` is the program's length and the main frame's call
/// site is `BPF_MAIN_FUNC` = -1), and `is_state_visited` looks only at
/// that bucket. So a state at a subprogram's instruction is compared with,
/// counted as a miss against, and kept from being stored by (the
/// `branches` heuristic) only the states stored there from the same call
/// site, up to hash collisions: not with the states of the other calls of
/// the same subprogram.
fn explored_state(env: &Env<'_>, idx: usize, cur: &VerifierState) -> usize {
    let callsite = cur
        .frames
        .last()
        .and_then(|f| f.callsite)
        .map_or(-1i32, |c| c as i32);
    let htab_size = env.insns.len().max(1) as u32;
    ((idx as i32 ^ callsite) as u32 % htab_size) as usize
}

enum Visit {
    /// Pruned against this stored state.
    Prune(usize),
    Continue,
    NewState(usize),
}

/// `is_state_visited`.
#[allow(clippy::too_many_arguments)]
fn is_state_visited(
    env: &mut Env<'_>,
    explored: &mut HashMap<usize, Vec<usize>>,
    idx: usize,
    cur: &mut VerifierState,
    force_new_state: bool,
    force_ckpt: bool,
) -> Result<Visit, Stop> {
    let not_exact = if env.privileged {
        Exact::NotExact
    } else {
        // Unprivileged programs have every scalar precise.
        Exact::RangeWithin
    };
    let head = explored_state(env, idx, cur);
    if let Some(list) = explored.get(&head) {
        clean_live_states(env, idx, list, cur);
    }
    let ckpts = &mut env.ckpts;
    let mut add_new_state = force_new_state
        || (env.jmps_processed - env.prev_jmps_processed >= 2
            && env.insn_processed - env.prev_insn_processed >= 8);
    let calls_callback = matches!(
        env.insns[idx],
        Some(Ok(Insn::Call(CallKind::Helper(id)))) if is_sync_callback_calling_helper(id)
    );
    let may_goto = matches!(env.insns[idx], Some(Ok(Insn::MayGoto { .. })));
    let iter_next = matches!(env.insns[idx], Some(Ok(Insn::Call(CallKind::Kfunc { .. }))))
        && env.prog.externs.iter().any(|e| {
            e.insn == idx && e.kind == "kfunc" && super::kfunc::is_iter_next_kfunc(&e.name)
        });
    let mut states_cnt = 0u64;
    if let Some(list) = explored.get_mut(&head) {
        // Newest first, as the kernel's list (new states go to its head).
        let mut k = list.len();
        while k > 0 {
            k -= 1;
            let c = list[k];
            states_cnt += 1;
            let old = &ckpts[c];
            if old.insn_idx != idx {
                continue;
            }
            if old.branches > 0 {
                // Still being explored. At a callback call the visits
                // converge when a state repeats (RANGE_WITHIN: bpfproof's
                // NOT_EXACT already treats every scalar as precise);
                // elsewhere only the infinite-loop check applies.
                if iter_next {
                    // Open-coded iterator loops converge here.
                    if states_equal(&old.st, cur, Exact::RangeWithin)
                        && super::iter::iter_state_at_next(cur) == Some(super::iter::ITER_ACTIVE)
                    {
                        super::prune::update_loop_entry(ckpts, cur, c);
                        ckpts[c].hit_cnt += 1;
                        return Ok(Visit::Prune(c));
                    }
                } else if may_goto
                    && old.st.may_goto_depth != cur.may_goto_depth
                    && states_equal(&old.st, cur, Exact::RangeWithin)
                {
                    super::prune::update_loop_entry(ckpts, cur, c);
                    ckpts[c].hit_cnt += 1;
                    return Ok(Visit::Prune(c));
                }
                if calls_callback {
                    if states_equal(&old.st, cur, Exact::RangeWithin) {
                        ckpts[c].hit_cnt += 1;
                        return Ok(Visit::Prune(c));
                    }
                } else if !iter_next
                    && old.st.callback_unroll_depth == cur.callback_unroll_depth
                    && old.st.may_goto_depth == cur.may_goto_depth
                    && !super::iter::iter_active_depths_differ(&old.st, cur)
                    && states_equal(&old.st, cur, Exact::Exact)
                {
                    bail_reject!("BPF603", idx, "infinite loop detected at insn {}", idx);
                }
                if !force_new_state
                    && env.jmps_processed - env.prev_jmps_processed < 20
                    && env.insn_processed - env.prev_insn_processed < 100
                {
                    add_new_state = false;
                }
            } else {
                // A state inside a loop whose head is still being explored
                // is compared exactly (`force_exact`).
                let loop_entry = super::prune::get_loop_entry(ckpts, old.st.loop_entry);
                let force_exact = loop_entry.is_some_and(|e| ckpts[e].branches > 0);
                let exact = if force_exact {
                    Exact::RangeWithin
                } else {
                    not_exact
                };
                if states_equal(&old.st, cur, exact) {
                    if let Some(e) = loop_entry.filter(|_| force_exact) {
                        super::prune::update_loop_entry(ckpts, cur, e);
                    }
                    ckpts[c].hit_cnt += 1;
                    return Ok(Visit::Prune(c));
                }
            }
            // miss: evict states that keep missing, as the kernel does.
            let old = &mut ckpts[c];
            if add_new_state {
                old.miss_cnt += 1;
            }
            let n = if force_ckpt && old.branches > 0 {
                64
            } else {
                3
            };
            if old.miss_cnt > old.hit_cnt * n + n {
                list.remove(k);
            }
        }
    }
    env.max_states_per_insn = env.max_states_per_insn.max(states_cnt);
    if !add_new_state {
        return Ok(Visit::Continue);
    }
    env.prev_insn_processed = env.insn_processed;
    env.prev_jmps_processed = env.jmps_processed;
    let id = env.ckpts.len();
    let parent = env.cur_ckpt;
    // A copy of exactly its length (the path's buffer, with room to
    // grow, is reused): the stored states' histories are a large part of
    // the memory.
    let hist = env.hist.clone();
    env.hist.clear();
    let new_st = cur.clone();
    cur.dfs_depth = new_st.dfs_depth + 1;
    env.ckpts.push(Checkpoint {
        st: new_st,
        cleaned: false,
        hist,
        insn_idx: idx,
        branches: 1,
        parent,
        hit_cnt: 0,
        miss_cnt: 0,
    });
    explored.entry(head).or_default().push(id);
    Ok(Visit::NewState(id))
}

enum Next {
    Go(usize),
    Exit,
    /// A callback returned to the helper call at this instruction.
    CallbackExit(usize),
    Fork {
        fallthrough: usize,
        target: usize,
        other: Box<VerifierState>,
    },
}

fn jump_target(idx: usize, off: i64, len: usize) -> Result<usize, Stop> {
    let t = idx as i64 + off + 1;
    if t < 0 || t as usize >= len {
        bail_reject!(
            "BPF102",
            idx,
            "jump out of range from insn {} to {}",
            idx,
            t
        );
    }
    Ok(t as usize)
}

/// One instruction.
fn step(env: &mut Env<'_>, st: &mut VerifierState, idx: usize, insn: Insn) -> Result<Next, Stop> {
    let len = env.insns.len();
    match insn {
        Insn::Alu { is64, op, dst, src } => check_alu_op(env, st, idx, is64, op, dst, src)?,
        Insn::Neg { is64, dst } => check_neg_end(env, st, idx, is64, dst, None)?,
        Insn::End { kind, bits, dst } => {
            check_neg_end(env, st, idx, true, dst, Some((kind, bits)))?
        }
        Insn::AddrSpaceCast { dst, src, imm } => {
            super::arena::check_addr_space_cast(env, st, idx, dst, src, imm)?
        }
        Insn::Ldx {
            size,
            sx,
            dst,
            src,
            off,
        } => {
            check_reg_read(env, st, idx, src as usize)?;
            super::regs::check_reg_write(idx, dst as usize)?;
            let src_type = st.cur().regs[src as usize].base;
            check_mem_access(
                env,
                st,
                idx,
                src as usize,
                off as i32,
                size,
                Access::Read,
                Value::Reg(dst as usize),
                sx,
                false,
            )?;
            save_aux_ptr_type(env, idx, src_type)?;
        }
        Insn::Stx {
            size,
            dst,
            src,
            off,
        } => {
            check_reg_read(env, st, idx, src as usize)?;
            check_reg_read(env, st, idx, dst as usize)?;
            let dst_type = st.cur().regs[dst as usize].base;
            check_mem_access(
                env,
                st,
                idx,
                dst as usize,
                off as i32,
                size,
                Access::Write,
                Value::Reg(src as usize),
                false,
                false,
            )?;
            save_aux_ptr_type(env, idx, dst_type)?;
        }
        Insn::St {
            size,
            dst,
            off,
            imm,
        } => {
            check_reg_read(env, st, idx, dst as usize)?;
            let dst_type = st.cur().regs[dst as usize].base;
            check_mem_access(
                env,
                st,
                idx,
                dst as usize,
                off as i32,
                size,
                Access::Write,
                Value::Imm(imm),
                false,
                false,
            )?;
            save_aux_ptr_type(env, idx, dst_type)?;
        }
        Insn::Atomic {
            size,
            op,
            dst,
            src,
            off,
        } => check_atomic(env, st, idx, size, op, dst, src, off)?,
        Insn::LdAbs { .. } | Insn::LdInd { .. } => {
            let src = match insn {
                Insn::LdInd { src, .. } => Some(src as usize),
                _ => None,
            };
            if let Some(next) = check_ld_abs(env, st, idx, src)? {
                return Ok(Next::Go(next));
            }
        }
        Insn::LdImm64 {
            dst,
            pseudo,
            imm,
            imm_hi,
        } => {
            // check_ld_imm: the first half's offset is reserved.
            if env.prog.insns.get(idx).is_some_and(|i| i.off != 0) {
                bail_reject!("BPF101", idx, "BPF_LD_IMM64 uses reserved fields");
            }
            super::regs::check_reg_write(idx, dst as usize)?;
            let r = match pseudo {
                0 => RegState::known(((imm_hi as u32 as u64) << 32) | imm as u32 as u64),
                BPF_PSEUDO_MAP_FD
                | BPF_PSEUDO_MAP_IDX
                | BPF_PSEUDO_MAP_VALUE
                | BPF_PSEUDO_MAP_IDX_VALUE
                    if !env.prog.map_relocs.contains(&idx) =>
                {
                    bail_reject!("BPF401", idx, "fd {} is not pointing to valid bpf_map", imm);
                }
                BPF_PSEUDO_MAP_FD | BPF_PSEUDO_MAP_IDX => {
                    if env.obj.maps.get(imm as usize).is_none() {
                        bail_reject!("BPF401", idx, "fd {} is not pointing to valid bpf_map", imm);
                    }
                    check_map_prog_compatibility(env, idx, imm as u32)?;
                    let mut r = RegState::pointer(BaseType::MapPtr);
                    r.map = Some(imm as u32);
                    r
                }
                BPF_PSEUDO_MAP_VALUE | BPF_PSEUDO_MAP_IDX_VALUE => {
                    let Some(m) = env.obj.maps.get(imm as usize) else {
                        bail_reject!("BPF401", idx, "fd {} is not pointing to valid bpf_map", imm);
                    };
                    if imm_hi as u32 >= super::env::BPF_MAX_VAR_OFF as u32 {
                        bail_reject!(
                            "BPF302",
                            idx,
                            "direct value offset of {} is not allowed",
                            imm_hi as u32
                        );
                    }
                    if m.map_type == super::arena::MAP_TYPE_ARENA {
                        super::arena::check_ld_imm_arena_value(idx, m, imm_hi as u32)?
                    } else {
                        if m.max_entries != 1 || m.map_type != crate::object::maps::MAP_TYPE_ARRAY {
                            return Err(unsupported(idx, "direct value access to this map type"));
                        }
                        if imm_hi as u32 >= m.value_size {
                            bail_reject!(
                                "BPF302",
                                idx,
                                "invalid access to map value pointer, value_size={} off={}",
                                m.value_size,
                                imm_hi as u32
                            );
                        }
                        let mut r = RegState::pointer(BaseType::MapValue);
                        r.map = Some(imm as u32);
                        r.off = imm_hi;
                        r
                    }
                }
                BPF_PSEUDO_FUNC => check_ld_imm_func(env, idx, imm)?,
                _ => {
                    return Err(unsupported(
                        idx,
                        format!("ld_imm64 with src_reg {pseudo} (BTF ids)"),
                    ));
                }
            };
            st.cur_mut().regs[dst as usize] = r;
            return Ok(Next::Go(idx + 2));
        }
        Insn::Ja { off, .. } => return Ok(Next::Go(jump_target(idx, off as i64, len)?)),
        Insn::Jmp {
            is32,
            op,
            dst,
            src,
            off,
        } => {
            let target = jump_target(idx, off as i64, len)?;
            return Ok(match check_cond_jmp_op(env, st, idx, is32, op, dst, src)? {
                Branch::FallThrough => Next::Go(idx + 1),
                Branch::Taken => Next::Go(target),
                Branch::Both(other) => Next::Fork {
                    fallthrough: idx + 1,
                    target,
                    other,
                },
            });
        }
        Insn::MayGoto { off } => {
            if off == 0 {
                bail_reject!("BPF101", idx, "invalid may_goto off {} imm {}", off, 0);
            }
            // The path goes on at the target (the budget is spent); the
            // next iteration is explored later, one level deeper.
            let target = jump_target(idx, off as i64, len)?;
            let mut queued = st.clone();
            queued.may_goto_depth += 1;
            widen_against_prev_visit(env, idx, &mut queued, true);
            env.pushed = Some((idx + 1, queued));
            return Ok(Next::Go(target));
        }
        Insn::Call(kind) => {
            return match kind {
                CallKind::Helper(id) => {
                    super::call::check_helper_call(env, st, idx, id)?;
                    Ok(Next::Go(idx + 1))
                }
                CallKind::Local(_) | CallKind::Kfunc { .. } if st.active_lock.is_some() => {
                    bail_reject!(
                        "BPF503",
                        idx,
                        "function calls are not allowed while holding a lock"
                    )
                }
                CallKind::Local(imm) => {
                    let target = jump_target(idx, imm as i64, len)?;
                    let next = check_func_call(env, st, idx, target)?;
                    Ok(Next::Go(next))
                }
                CallKind::Kfunc { .. } => {
                    super::kfunc::check_kfunc_call(env, st, idx)?;
                    Ok(Next::Go(idx + 1))
                }
            };
        }
        Insn::Exit => {
            if st.frames.len() > 1 {
                let in_callback = st.cur().in_callback_fn;
                let next = prepare_func_exit(env, st, idx)?;
                return Ok(if in_callback {
                    Next::CallbackExit(next)
                } else {
                    Next::Go(next)
                });
            }
            record_stack_depth(env, st);
            check_reference_leak(st, idx, "BPF_EXIT instruction in main prog")?;
            if env.in_global {
                super::global::check_global_exit(env, st, idx)?;
                return Ok(Next::Exit);
            }
            check_return_code(env, st, idx)?;
            return Ok(Next::Exit);
        }
    }
    Ok(Next::Go(idx + 1))
}

/// `check_ld_imm` for `BPF_PSEUDO_FUNC`: a pointer to a static function
/// other than the main program.
fn check_ld_imm_func(env: &Env<'_>, idx: usize, imm: i32) -> Result<RegState, Stop> {
    let start = idx as i64 + imm as i64 + 1;
    if env.prog.func_info.is_empty() {
        bail_reject!("BPF401", idx, "missing btf func_info");
    }
    if start == 0 {
        bail_reject!(
            "BPF401",
            idx,
            "callback function cannot be the main program"
        );
    }
    if start < 0 || start as usize >= env.insns.len() {
        bail_reject!(
            "BPF102",
            idx,
            "jump out of range from insn {} to {}",
            idx,
            start
        );
    }
    let start = start as usize;
    if is_global_subprog(env, start) {
        bail_reject!("BPF401", idx, "callback function not static");
    }
    let mut r = RegState::pointer(BaseType::Func);
    r.subprog = start as u32;
    Ok(r)
}

/// `check_reference_leak`: every acquired reference must be released; with
/// no lock held (`check_resource_leak`).
pub fn check_reference_leak(st: &VerifierState, idx: usize, prefix: &str) -> Result<(), Stop> {
    if st.active_lock.is_some() {
        bail_reject!(
            "BPF503",
            idx,
            "{} cannot be used inside bpf_spin_lock-ed region",
            prefix
        );
    }
    if let Some(&(id, insn)) = st.refs.first() {
        return Err(super::env::Stop::Reject(super::Finding {
            code: "BPF501",
            message: format!("Unreleased reference id={id} alloc_insn={insn}"),
            insn: Some(idx),
            more: vec![format!("{prefix} would lead to reference leak")],
        }));
    }
    Ok(())
}

/// `check_map_prog_compatibility`: maps with graph roots, spin locks,
/// timers or work queues are refused to tracing programs (and spin locks to
/// socket filters), in the kernel's order. Maps whose special fields are
/// not modelled are otherwise `unsupported`.
fn check_map_prog_compatibility(env: &Env<'_>, idx: usize, map: u32) -> Result<(), Stop> {
    use super::mem::{FIELD_GRAPH_ROOT, FIELD_SPIN_LOCK, FIELD_TIMER, FIELD_WQ, MapFields};
    let kinds = match env.map_fields.get(map as usize) {
        Some(MapFields::SpinLock(_)) => FIELD_SPIN_LOCK,
        Some(MapFields::Other(k)) => *k,
        _ => return Ok(()),
    };
    let tracing = matches!(
        env.prog_type,
        ProgType::Kprobe
            | ProgType::Tracepoint
            | ProgType::PerfEvent
            | ProgType::RawTracepoint
            | ProgType::RawTracepointWritable
    );
    if kinds & FIELD_GRAPH_ROOT != 0 && tracing {
        bail_reject!(
            "BPF503",
            idx,
            "tracing progs cannot use bpf_{{list_head,rb_root}} yet"
        );
    }
    if kinds & FIELD_SPIN_LOCK != 0 {
        if env.prog_type == ProgType::SocketFilter {
            bail_reject!(
                "BPF503",
                idx,
                "socket filter progs cannot use bpf_spin_lock yet"
            );
        }
        if tracing {
            bail_reject!("BPF503", idx, "tracing progs cannot use bpf_spin_lock yet");
        }
    }
    if kinds & FIELD_TIMER != 0 && tracing {
        bail_reject!("BPF503", idx, "tracing progs cannot use bpf_timer yet");
    }
    if kinds & FIELD_WQ != 0 && tracing {
        bail_reject!("BPF503", idx, "tracing progs cannot use bpf_wq yet");
    }
    if matches!(env.map_fields.get(map as usize), Some(MapFields::Other(_))) {
        return Err(unsupported(
            idx,
            "maps whose values hold timers, kptrs or graph roots",
        ));
    }
    Ok(())
}

/// `MAX_CALL_FRAMES`.
pub(super) const MAX_CALL_FRAMES: usize = 8;

/// True when the function starting at `start` is a global function
/// (BTF `FUNC` with global linkage): the kernel verifies those on their own,
/// with their BTF argument types.
pub(super) fn is_global_subprog(env: &Env<'_>, start: usize) -> bool {
    is_global_subprog_of(env.obj, env.prog, start)
}

/// [`is_global_subprog`] from the object and program alone.
pub(crate) fn is_global_subprog_of(
    obj: &crate::object::Object,
    prog: &crate::object::Program,
    start: usize,
) -> bool {
    let Some(btf) = obj.btf.as_ref() else {
        return false;
    };
    if prog
        .subprogs
        .iter()
        .any(|s| s.start == start && (s.hidden || !s.global))
    {
        // libbpf loads hidden and static functions with static BTF linkage.
        return false;
    }
    prog.func_info.iter().filter(|f| f.insn == start).any(|f| {
        matches!(
            btf.type_by_id(f.type_id).map(|t| &t.kind),
            Some(crate::object::btf::BtfTypeKind::Func {
                linkage: crate::object::btf::FuncLinkage::Global,
                ..
            })
        )
    })
}

/// `check_func_call` for a static function: a new frame with R1–R5 copied
/// (`setup_func_entry`, `set_callee_state`), the caller's R0–R5 cleared.
fn check_func_call(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    target: usize,
) -> Result<usize, Stop> {
    if is_global_subprog(env, target) {
        let g = super::global::prepare_func_args(env, idx, target)?;
        let subprog_no = env.subprog_number(target);
        super::global::check_global_call(env, st, idx, &g, subprog_no)?;
        return Ok(idx + 1);
    }
    // References travel with the call chain (`copy_reference_state` into
    // the callee, back to the caller at exit).
    if st.frames.len() >= MAX_CALL_FRAMES {
        bail_reject!(
            "BPF407",
            idx,
            "the call stack of {} frames is too deep",
            st.frames.len() + 1
        );
    }
    // The callee's reads of its arguments are the caller's reads.
    for r in 1..=5 {
        super::regs::mark_reg_read(env, st, st.frames.len() - 1, r);
    }
    let frameno = st.frames.len() as u8;
    let mut callee = FuncState::new(frameno);
    callee.callsite = Some(idx);
    callee.subprog_start = target;
    for r in 1..=5 {
        callee.regs[r] = st.cur().regs[r].clone();
    }
    for r in 0..=5 {
        st.cur_mut().regs[r] = RegState::not_init();
    }
    st.frames.push(callee);
    Ok(target)
}

/// `prepare_func_exit`: back to the caller with the callee's R0; a
/// callback returns to its calling helper instruction with R0 checked
/// against the callback's return range and the caller's R0 untouched.
fn prepare_func_exit(env: &mut Env<'_>, st: &mut VerifierState, idx: usize) -> Result<usize, Stop> {
    let r0 = st.cur().regs[0].clone();
    if r0.base == BaseType::Stack {
        bail_reject!("BPF407", idx, "cannot return stack pointer to the caller");
    }
    let callee = st.cur();
    if callee.in_callback_fn {
        if !r0.is_scalar() {
            bail_reject!("BPF205", idx, "R0 not a scalar value");
        }
        super::precision::mark_chain_precision(env, st, 0);
        let range = callee.callback_ret_range;
        if r0.var.smin < range.0 || r0.var.smax > range.1 {
            bail_reject!(
                "BPF205",
                idx,
                "{}",
                invalid_scalar_message(&r0, range, "At callback return", "R0")
            );
        }
    }
    // The caller's reads of R0 are reads of the callee's R0.
    super::regs::mark_reg_read(env, st, st.frames.len() - 1, 0);
    record_stack_depth(env, st);
    let callee = st.frames.pop().expect("nested frame");
    if callee.in_callback_fn {
        return Ok(callee.callsite.unwrap_or(idx));
    }
    st.cur_mut().regs[0] = r0;
    Ok(callee.callsite.map_or(idx + 1, |c| c + 1))
}

/// `verbose_invalid_scalar`: "`ctx` the register `name` has smin=.. smax=..
/// should have been in [a, b]".
fn invalid_scalar_message(reg: &RegState, range: (i64, i64), ctx: &str, name: &str) -> String {
    let v = &reg.var;
    let mut msg = format!("{ctx} the register {name} has");
    let mut unknown = true;
    if v.smin > i64::MIN {
        msg += &format!(" smin={}", v.smin);
        unknown = false;
    }
    if v.smax < i64::MAX {
        msg += &format!(" smax={}", v.smax);
        unknown = false;
    }
    if unknown {
        msg += " unknown scalar value";
    }
    msg += &format!(" should have been in [{}, {}]", range.0, range.1);
    msg
}

/// Remembers the deepest stack each function used (`subprog_info[].stack_depth`).
fn record_stack_depth(env: &mut Env<'_>, st: &VerifierState) {
    for f in &st.frames {
        let d = env.stack_depth.entry(f.subprog_start).or_default();
        *d = (*d).max(f.allocated_stack);
    }
}

/// True when the kernel may give this program a private stack
/// (`bpf_enable_priv_stack`, Linux 6.13+): then the combined stack depth is
/// not the plain sum.
fn private_stack_possible(env: &Env<'_>) -> bool {
    matches!(
        env.prog_type,
        ProgType::Kprobe
            | ProgType::Tracepoint
            | ProgType::PerfEvent
            | ProgType::RawTracepoint
            | ProgType::Tracing
            | ProgType::Lsm
            | ProgType::StructOps
    )
}

/// `check_max_stack_depth`: walks the static call graph from the main
/// program (calls and function pointers, as the kernel does): more than
/// `MAX_CALL_FRAMES` nested frames (recursion) is rejected with the kernel's
/// message. Subprograms whose `bpf_fastcall` spills/fills the kernel removes
/// count with their reduced depth. A combined stack above 512 bytes is the
/// kernel's rejection, except where a private stack may apply (unsupported).
pub fn check_max_stack_depth(env: &Env<'_>) -> Result<(), Stop> {
    let end_of = |s: usize| env.subprog_end(s);
    fn walk(
        env: &Env<'_>,
        end_of: &dyn Fn(usize) -> usize,
        s: usize,
        frame: usize,
        depth: i64,
    ) -> Result<(), Stop> {
        // Tail calls in a subprogram unwind only its own frame: the
        // callers' stack must stay below 256 bytes (32 tail calls * 256 =
        // 8k at worst).
        let has_tail_call = (s..end_of(s)).any(|i| {
            matches!(
                env.insns.get(i),
                Some(Some(Ok(Insn::Call(CallKind::Helper(12)))))
            )
        });
        if s != 0 && has_tail_call && depth >= 256 {
            bail_reject!(
                "BPF604",
                s,
                "tail_calls are not allowed when call stack of previous frames is {} bytes. Too large",
                depth
            );
        }
        let own = super::fastcall::fastcall_stack_depth(env, s)
            .unwrap_or_else(|| env.stack_depth.get(&s).copied().unwrap_or(0))
            as i64;
        let depth = depth + ((own + 15) / 16) * 16;
        if depth > MAX_BPF_STACK as i64 {
            // Private stacks (tracing program types) change the kernel's
            // depth: not modelled.
            if private_stack_possible(env) {
                return Err(unsupported(
                    s,
                    format!(
                        "combined stack size of {} calls is {depth} (private stacks are not modelled)",
                        frame + 1
                    ),
                ));
            }
            bail_reject!(
                "BPF604",
                s,
                "combined stack size of {} calls is {}. Too large",
                frame + 1,
                depth
            );
        }
        for i in s..end_of(s) {
            let t = match env.insns.get(i) {
                Some(Some(Ok(Insn::Call(CallKind::Local(imm))))) => i as i64 + *imm as i64 + 1,
                Some(Some(Ok(Insn::LdImm64 {
                    pseudo: BPF_PSEUDO_FUNC,
                    imm,
                    ..
                }))) => i as i64 + *imm as i64 + 1,
                _ => continue,
            };
            if frame + 1 >= MAX_CALL_FRAMES {
                bail_reject!(
                    "BPF407",
                    i,
                    "the call stack of {} frames is too deep !",
                    frame + 1
                );
            }
            walk(env, end_of, t as usize, frame + 1, depth)?;
        }
        Ok(())
    }
    walk(env, &end_of, 0, 0, 0)
}

/// `check_ld_abs`: legacy packet loads through the skb in R6.
fn check_ld_abs(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    ind_src: Option<usize>,
) -> Result<Option<usize>, Stop> {
    if st.frames.iter().any(|f| f.in_callback_fn) {
        return Err(unsupported(idx, "LD_ABS/LD_IND inside callbacks"));
    }
    if !matches!(
        env.prog_type,
        ProgType::SocketFilter | ProgType::SchedCls | ProgType::SchedAct
    ) {
        bail_reject!(
            "BPF101",
            idx,
            "BPF_LD_[ABS|IND] instructions not allowed for this program type"
        );
    }
    check_reg_read(env, st, idx, 6)?;
    if let Err(super::env::Stop::Reject(mut f)) = check_reference_leak(st, idx, "BPF_LD_[ABS|IND]")
    {
        f.more = vec!["BPF_LD_[ABS|IND] cannot be mixed with socket references".to_string()];
        return Err(super::env::Stop::Reject(f));
    }
    let r6 = st.cur().regs[6].clone();
    if r6.base != BaseType::Ctx || r6.flags.0 != 0 {
        bail_reject!(
            "BPF304",
            idx,
            "at the time of BPF_LD_ABS|IND R6 != pointer to skb"
        );
    }
    if let Some(s) = ind_src {
        check_reg_read(env, st, idx, s)?;
    }
    if r6.off < 0 {
        bail_reject!(
            "BPF304",
            idx,
            "negative offset ctx ptr R6 off={} disallowed",
            r6.off
        );
    }
    if r6.off != 0 {
        bail_reject!(
            "BPF304",
            idx,
            "dereference of modified ctx ptr R6 off={} disallowed",
            r6.off
        );
    }
    if !r6.var.is_const() || r6.var.var_off.value != 0 {
        bail_reject!(
            "BPF304",
            idx,
            "variable ctx access var_off={} disallowed",
            r6.var.var_off
        );
    }
    for r in 1..=5 {
        st.cur_mut().regs[r] = RegState::not_init();
    }
    st.cur_mut().regs[0] = RegState::unknown_scalar();
    if st.frames.len() > 1 {
        // The rewrite may exit the function with R0 = 0 (a hidden
        // BPF_EXIT): both continuations are explored.
        env.pushed = Some((idx + 1, st.clone()));
        st.cur_mut().regs[0] = RegState::known(0);
        return Ok(Some(prepare_func_exit(env, st, idx)?));
    }
    Ok(None)
}

/// `check_btf_func` / `check_abnormal_return` for `LD_ABS`: a subprogram
/// using it needs BTF and an integer return type.
pub(super) fn check_ld_abs_subprogs(env: &Env<'_>) -> Result<(), Stop> {
    for &s in env
        .subprog_starts
        .iter()
        .filter(|&&s| s != 0 && s < env.insns.len())
    {
        let end = env.subprog_end(s);
        let Some(at) = (s..end).find(|&i| {
            matches!(
                env.insns.get(i),
                Some(Some(Ok(Insn::LdAbs { .. } | Insn::LdInd { .. })))
            )
        }) else {
            continue;
        };
        let Some(btf) = env
            .obj
            .btf
            .as_ref()
            .filter(|_| !env.prog.func_info.is_empty())
        else {
            bail_reject!(
                "BPF101",
                at,
                "LD_ABS is not allowed in subprogs without BTF"
            );
        };
        let Some(fi) = env.prog.func_info.iter().find(|f| f.insn == s) else {
            return Err(unsupported(at, "LD_ABS in a function without func_info"));
        };
        let Some((ret, _)) = btf.func_proto_of(fi.type_id) else {
            return Err(unsupported(at, "LD_ABS in a function without a prototype"));
        };
        let r = btf.skip_mods_and_typedefs(ret);
        let scalar = matches!(
            btf.type_by_id(r).map(|t| &t.kind),
            Some(
                crate::object::btf::BtfTypeKind::Int { .. }
                    | crate::object::btf::BtfTypeKind::Enum { .. }
                    | crate::object::btf::BtfTypeKind::Enum64 { .. }
            )
        );
        if !scalar {
            bail_reject!(
                "BPF101",
                at,
                "LD_ABS is only allowed in functions that return 'int'."
            );
        }
    }
    Ok(())
}

/// `check_atomic`.
#[allow(clippy::too_many_arguments)]
fn check_atomic(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    size: crate::isa::Size,
    op: AtomicOp,
    dst: u8,
    src: u8,
    off: i16,
) -> Result<(), Stop> {
    if matches!(op, AtomicOp::LoadAcquire | AtomicOp::StoreRelease) {
        return Err(unsupported(idx, "load-acquire/store-release"));
    }
    let (d, s) = (dst as usize, src as usize);
    check_reg_read(env, st, idx, s)?;
    check_reg_read(env, st, idx, d)?;
    if op == AtomicOp::Cmpxchg {
        check_reg_read(env, st, idx, 0)?;
    }
    let dr = &st.cur().regs[d];
    if matches!(
        dr.base,
        BaseType::Ctx
            | BaseType::Packet
            | BaseType::PacketMeta
            | BaseType::FlowKeys
            | BaseType::Socket
            | BaseType::SockCommon
            | BaseType::TcpSock
            | BaseType::XdpSock
    ) {
        bail_reject!(
            "BPF305",
            idx,
            "BPF_ATOMIC stores into R{} {} is not allowed",
            d,
            dr.type_str()
        );
    }
    if dr.base == BaseType::Arena && !super::arena::jit_supports_arena_atomic(op) {
        bail_reject!(
            "BPF305",
            idx,
            "BPF_ATOMIC stores into R{} {} is not allowed",
            d,
            dr.type_str()
        );
    }
    let dst_type = dr.base;
    let fetch = match op {
        AtomicOp::Add { fetch }
        | AtomicOp::Or { fetch }
        | AtomicOp::And { fetch }
        | AtomicOp::Xor { fetch } => fetch,
        _ => true,
    };
    let load_reg = if !fetch {
        None
    } else if op == AtomicOp::Cmpxchg {
        Some(0)
    } else {
        Some(s)
    };
    if let Some(l) = load_reg {
        super::regs::check_reg_write(idx, l)?;
    }
    check_mem_access(
        env,
        st,
        idx,
        d,
        off as i32,
        size,
        Access::Read,
        Value::None,
        false,
        true,
    )?;
    if let Some(l) = load_reg {
        check_mem_access(
            env,
            st,
            idx,
            d,
            off as i32,
            size,
            Access::Read,
            Value::Reg(l),
            false,
            true,
        )?;
    }
    save_aux_ptr_type(env, idx, dst_type)?;
    check_mem_access(
        env,
        st,
        idx,
        d,
        off as i32,
        size,
        Access::Write,
        Value::None,
        false,
        true,
    )
}

/// `save_aux_ptr_type`: one load/store instruction may not be used with
/// both ctx and another pointer type (its conversion is per instruction).
fn save_aux_ptr_type(env: &mut Env<'_>, idx: usize, t: BaseType) -> Result<(), Stop> {
    let ok = |t: BaseType| {
        !matches!(
            t,
            BaseType::Ctx
                | BaseType::Socket
                | BaseType::SockCommon
                | BaseType::TcpSock
                | BaseType::XdpSock
                | BaseType::BtfId
                | BaseType::Arena
        )
    };
    match env.aux_ptr_type[idx] {
        None => env.aux_ptr_type[idx] = Some(t),
        Some(prev) if prev != t && (!ok(t) || !ok(prev)) => {
            bail_reject!(
                "BPF305",
                idx,
                "same insn cannot be used with different pointers"
            );
        }
        _ => {}
    }
    Ok(())
}

/// `check_return_code` for the main program.
fn check_return_code(env: &mut Env<'_>, st: &VerifierState, idx: usize) -> Result<(), Stop> {
    use crate::platform::AttachType as A;
    if env.prog_type == ProgType::StructOps {
        // A struct_ops member returning void ends here without looking at
        // R0; any other member only needs R0 readable (no range). Which
        // member this program implements is not modelled, so an unreadable
        // R0 is the one case left undecided.
        if st.cur().regs[0].base == crate::state::BaseType::NotInit {
            return Err(unsupported(
                idx,
                "return code rules of struct_ops programs (R0 unset: depends on whether the member returns void)",
            ));
        }
        return Ok(());
    }
    check_reg_read(env, st, idx, 0)?;
    let r0 = &st.cur().regs[0];
    if r0.is_pointer() && !env.privileged {
        bail_reject!("BPF206", idx, "R0 leaks addr as return value");
    }
    let attach = env.prog.attach_type;
    let range: (i64, i64) = match env.prog_type {
        ProgType::CgroupSockAddr => match attach {
            Some(
                A::CgroupUdp4Recvmsg
                | A::CgroupUdp6Recvmsg
                | A::CgroupUnixRecvmsg
                | A::CgroupInet4Getpeername
                | A::CgroupInet6Getpeername
                | A::CgroupUnixGetpeername
                | A::CgroupInet4Getsockname
                | A::CgroupInet6Getsockname
                | A::CgroupUnixGetsockname,
            ) => (1, 1),
            Some(A::CgroupInet4Bind | A::CgroupInet6Bind) => (0, 3),
            _ => (0, 1),
        },
        ProgType::CgroupSkb => {
            if attach == Some(A::CgroupInetEgress) {
                (0, 3)
            } else {
                (0, 1)
            }
        }
        ProgType::CgroupSock
        | ProgType::SockOps
        | ProgType::CgroupDevice
        | ProgType::CgroupSysctl
        | ProgType::CgroupSockopt => (0, 1),
        ProgType::RawTracepoint => {
            if attach.is_none() {
                return Ok(());
            }
            (0, 1)
        }
        ProgType::SkLookup => (0, 1),
        ProgType::Netfilter => (0, 1),
        ProgType::Tracing => match attach {
            Some(A::TraceFentry | A::TraceFexit) => (0, 0),
            Some(A::TraceRawTp | A::ModifyReturn) => return Ok(()),
            Some(A::TraceIter) => (0, 1),
            _ => {
                return Err(unsupported(
                    idx,
                    "return code rules of tracing programs of this attach type",
                ));
            }
        },
        ProgType::Lsm | ProgType::Ext => {
            return Err(unsupported(
                idx,
                format!("return code rules of {} programs", env.prog_type.name()),
            ));
        }
        _ => return Ok(()),
    };
    if !r0.is_scalar() {
        bail_reject!(
            "BPF205",
            idx,
            "At program exit the register R0 is not a known value ({})",
            r0.type_str()
        );
    }
    super::precision::mark_chain_precision(env, st, 0);
    let r0 = &st.cur().regs[0];
    if r0.var.smin < range.0 || r0.var.smax > range.1 {
        bail_reject!(
            "BPF205",
            idx,
            "{}",
            invalid_scalar_message(r0, range, "At program exit", "R0")
        );
    }
    Ok(())
}

/// The loop the exploration is in at `idx` when the complexity limit is
/// reached, in words: its header and source line (`None` outside loops).
fn loop_report(env: &Env<'_>, idx: usize) -> Option<String> {
    let cfg = env.cfg.as_ref()?;
    let (sub, li) = cfg.innermost_loop(idx)?;
    let l = cfg.funcs.get(sub)?.loops.get(li)?;
    let header = cfg.blocks.get(l.header)?.start;
    let at = env
        .prog
        .line_for(header)
        .map(|e| format!(" (line {})", e.line))
        .unwrap_or_default();
    Some(format!(
        "bpfproof: the limit was reached in the loop at insn {header}{at}: its iterations keep \
         giving new states, so the verifier explores it until the budget runs out"
    ))
}
