//! The proof layer: Z3 (bit-vector theory) on the path the engine
//! recorded to a failing memory access.
//!
//! [`explain_failure`] replays the path symbolically ([`replay`]) and asks
//! Z3 for inputs that satisfy every decision of the path and violate the
//! access's bound:
//! - satisfiable: a [`Counterexample`] in the user's terms (packet length,
//!   packet bytes, helper results, ctx fields);
//! - unsatisfiable: the access is safe on this path and the kernel's
//!   rejection is an [`Imprecision`]; the finding names where the bound was
//!   lost (a spill and fill, a 32-bit operation, a copy of a checked
//!   register) and the checks that make the access safe (the unsat core);
//! - the path cannot be replayed exactly, or Z3 gives up: `unknown`.
//!
//! [`prove_accepted`] does the converse for `check --prove`: every ctx and
//! packet obligation the engine proved on an accepted program is checked
//! again with Z3 on its path; a refuted one is an internal soundness bug.
//! Queries use `QF_BV` solvers with a time limit ([`TIMEOUT_MS`]).

pub mod concrete;
pub mod replay;

use crate::engine::obligation::{Bound, Obligation, ObligationKind};
use crate::engine::{Failure, Finding, Outcome, Verdict};
use crate::isa::{CallKind, Insn};
use crate::object::{Object, Program};
use replay::{Base, Loss, Ptr, Replayed, Val};
use serde::Serialize;
use std::time::Instant;
use z3::ast::{BV, Bool};
use z3::{Params, SatResult, Solver};

/// Time limit of one Z3 query, in milliseconds.
pub const TIMEOUT_MS: u32 = 2000;

/// A concrete input that reaches the failing access and violates it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Counterexample {
    /// The inputs that matter, in the user's terms, with their values.
    pub inputs: Vec<(String, String)>,
    /// What the access does with them (`the 4-byte read at line 42 reaches
    /// bytes 74..78 of the packet, past data_end (20)`).
    pub access: String,
    /// The whole sentence: inputs then access.
    pub text: String,
    /// True when the access is invalid on every input that reaches it (a
    /// rule such as a ctx offset, not a bound that depends on values): the
    /// model only shows that the path is feasible.
    pub reach_only: bool,
}

/// Where the kernel lost the bound that makes the access safe.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Imprecision {
    /// The instruction where the bound was lost, when one is known.
    pub lost_at: Option<usize>,
    /// Its C source line.
    pub line: Option<u32>,
    /// What happened there, in words.
    pub reason: String,
    /// The usual fix.
    pub help: String,
    /// The conditional jumps that together make the access safe (or the
    /// path impossible).
    pub checks: Vec<usize>,
    /// True when the path itself cannot happen (the kernel followed a
    /// branch its ranges did not rule out).
    pub infeasible: bool,
}

/// The result of the proof layer on one failure.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Proof {
    /// Z3 found inputs violating the access.
    Counterexample(Counterexample),
    /// Z3 proved the access safe on the path: the kernel is imprecise.
    Imprecision(Imprecision),
    /// The path could not be replayed exactly, or Z3 gave up.
    Unknown {
        /// Why.
        reason: String,
    },
    /// The error is not about a memory access.
    NotMemory,
}

/// A proof and its cost.
#[derive(Clone, Debug, Serialize)]
pub struct ProofResult {
    /// The result.
    #[serde(flatten)]
    pub proof: Proof,
    /// Time spent (replay and Z3), in µs.
    pub time_us: u64,
}

/// What must be shown about the failing access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Goal {
    /// The access stays within its object.
    Bounds,
    /// The pointer is not NULL.
    NotNull,
    /// The register is a pointer at all.
    Pointer,
    /// The stack bytes read were written.
    StackInit,
    /// A rule that holds or fails regardless of values (ctx offsets,
    /// alignment, read-only memory): only reachability is in question.
    Rule,
}

fn goal(f: &Finding, fail: &Failure) -> Option<Goal> {
    let m = f.message.as_str();
    let memory_code = matches!(
        f.code,
        "BPF301" | "BPF302" | "BPF303" | "BPF304" | "BPF305" | "BPF306" | "BPF307" | "BPF308"
    );
    if !memory_code {
        return None;
    }
    f.insn?;
    Some(if m.contains("or_null") || m.contains("_or_null'") {
        Goal::NotNull
    } else if m.contains("invalid mem access 'scalar'") {
        Goal::Pointer
    } else if m.contains("invalid read from stack")
        || m.contains("invalid indirect read from stack")
    {
        Goal::StackInit
    } else if f.code == "BPF304"
        || f.code == "BPF308"
        || m.contains("misaligned")
        || m.contains("write into map forbidden")
        || m.contains("cannot write into")
        || m.contains("modified ctx ptr")
        || m.contains("variable ctx access")
        || m.contains("read-only")
        || m.contains("forbidden")
        || m.contains("register fill")
        || m.contains("not allowed")
        || m.contains("disallowed")
        || m.contains("dynptr")
        || m.contains("invalid mem access")
        || fail.obligation.is_none()
    {
        Goal::Rule
    } else {
        Goal::Bounds
    })
}

/// The instruction's memory offset and the access kind in words.
fn access_words(prog: &Program, at: usize, ob: Option<&Obligation>) -> (i64, &'static str) {
    let insns = crate::isa::decode_all(&prog.insns);
    let off = match insns.get(at) {
        Some(Some(Ok(
            Insn::Ldx { off, .. }
            | Insn::St { off, .. }
            | Insn::Stx { off, .. }
            | Insn::Atomic { off, .. },
        ))) => *off as i64,
        _ => 0,
    };
    let atomic = matches!(insns.get(at), Some(Some(Ok(Insn::Atomic { .. }))));
    let kind = match ob.map(|o| o.kind) {
        _ if atomic => "atomic access",
        Some(ObligationKind::Read) => "read",
        Some(ObligationKind::Write) => "write",
        Some(ObligationKind::HelperMem) => "helper access",
        None => "access",
    };
    (off, kind)
}

fn new_solver() -> Solver {
    let s = Solver::new_for_logic("QF_BV").unwrap_or_default();
    let mut p = Params::new();
    p.set_u32("timeout", TIMEOUT_MS);
    s.set_params(&p);
    s
}

/// Starts Z3 in this thread (its context is created on first use) with a
/// trivial query; returns the time it took in µs.
pub fn warm_up() -> u64 {
    let start = Instant::now();
    let s = new_solver();
    let x = BV::fresh_const("x", 64);
    s.assert(x.bvugt(bv(1)));
    let _ = s.check();
    start.elapsed().as_micros() as u64
}

/// Runs the proof layer on a rejected program's first error.
pub fn explain_failure(obj: &Object, prog: &Program, out: &Outcome) -> ProofResult {
    let start = Instant::now();
    let proof = explain_inner(obj, prog, out);
    ProofResult {
        proof,
        time_us: start.elapsed().as_micros() as u64,
    }
}

fn explain_inner(obj: &Object, prog: &Program, out: &Outcome) -> Proof {
    let (Verdict::Reject, Some(f), Some(fail)) = (out.verdict, &out.finding, &out.failure) else {
        return Proof::NotMemory;
    };
    let Some(goal) = goal(f, fail) else {
        return Proof::NotMemory;
    };
    let at = f.insn.unwrap_or(0);
    let rp = match replay::replay(obj, prog, fail, at) {
        Ok(r) => r,
        Err(e) => return Proof::Unknown { reason: e.0 },
    };
    let ob = fail.obligation.as_ref();
    let (insn_off, kind) = access_words(prog, at, ob);
    let regno = ob.map(|o| o.regno).or_else(|| pointer_reg(prog, at));
    let goal = if regno.is_none() { Goal::Rule } else { goal };
    let regno = regno.unwrap_or(1);
    let val = rp.regs.get(regno).cloned().unwrap_or(Val::Unknown);
    let size = ob.map_or(1, |o| o.size.max(1));
    let size_term = helper_size(prog, at, regno, &rp).unwrap_or_else(|| bv(size));
    // The violation, and what to say about it.
    let violation: Option<Bool> = match (goal, &val) {
        (Goal::Bounds, Val::Ptr(p)) => bounds_violation(&rp, p, insn_off, &size_term, ob),
        (Goal::NotNull, Val::Ptr(p)) => {
            Some(p.null.clone().unwrap_or_else(|| Bool::from_bool(false)))
        }
        (Goal::Pointer, Val::Scalar(_) | Val::Unknown | Val::Uninit) => Some(Bool::from_bool(true)),
        (Goal::Pointer, Val::Ptr(p)) => {
            // A NULL pointer is the number 0 for the kernel.
            Some(p.null.clone().unwrap_or_else(|| Bool::from_bool(false)))
        }
        (Goal::StackInit, Val::Ptr(p)) => stack_init_violation(&rp, p, insn_off, size),
        (Goal::Rule, _) => Some(Bool::from_bool(true)),
        _ => None,
    };
    let Some(violation) = violation else {
        return Proof::Unknown {
            reason: format!(
                "r{regno} at the failing instruction is a value the replay does not model ({})",
                match &val {
                    Val::Uninit => "uninitialized".to_string(),
                    Val::Unknown => "unknown".to_string(),
                    Val::Scalar(_) => "a scalar".to_string(),
                    Val::Ptr(p) => format!("a pointer to {:?}", p.base),
                }
            ),
        };
    };
    let solver = new_solver();
    for fact in &rp.facts {
        solver.assert(fact);
    }
    let trackers: Vec<Bool> = rp
        .constraints
        .iter()
        .map(|c| {
            let t = Bool::fresh_const("p");
            solver.assert(t.implies(&c.cond));
            t
        })
        .collect();
    let v = Bool::fresh_const("v");
    solver.assert(v.implies(&violation));
    let mut assumptions = trackers.clone();
    assumptions.push(v.clone());
    match solver.check_assumptions(&assumptions) {
        SatResult::Sat => {
            if !rp.approx.is_empty() {
                return Proof::Unknown {
                    reason: format!(
                        "Z3 found inputs, but the replay dropped a condition it cannot express ({})",
                        rp.approx[0]
                    ),
                };
            }
            // A more telling packet: the longest one that still fails.
            if let (Goal::Bounds, Val::Ptr(p)) = (goal, &val)
                && let Base::Pkt(g) = p.base
                && let Some(len) = rp.pkt_len.get(&g)
            {
                maximize(&solver, &assumptions, len, 0xffff);
            }
            let Some(model) = solver.get_model() else {
                return Proof::Unknown {
                    reason: "Z3 gave no model".to_string(),
                };
            };
            Proof::Counterexample(concrete::counterexample(
                &concrete::Access {
                    prog,
                    at,
                    kind,
                    regno,
                    insn_off,
                    size,
                    goal_rule: matches!(goal, Goal::Rule | Goal::Pointer | Goal::StackInit),
                    null: goal == Goal::NotNull,
                    message: &f.message,
                    meta: ob.is_some_and(|o| o.base.starts_with("pkt_meta")),
                    obj,
                },
                &rp,
                &val,
                &model,
            ))
        }
        SatResult::Unsat => {
            let core = solver.get_unsat_core();
            let in_core = |t: &Bool| core.iter().any(|c| c == t);
            // The path alone may be impossible (cores are not minimal).
            let infeasible =
                !in_core(&v) || solver.check_assumptions(&trackers) == SatResult::Unsat;
            let core = if infeasible && in_core(&v) {
                solver.get_unsat_core()
            } else {
                core
            };
            let in_core = |t: &Bool| core.iter().any(|c| c == t);
            let checks: Vec<usize> = rp
                .constraints
                .iter()
                .zip(&trackers)
                .filter(|(_, t)| in_core(t))
                .map(|(c, _)| c.insn)
                .collect();
            Proof::Imprecision(imprecision(prog, &rp, regno, goal, checks, infeasible))
        }
        SatResult::Unknown => Proof::Unknown {
            reason: format!("Z3 gave up (time limit {TIMEOUT_MS} ms)"),
        },
    }
}

/// Leaves `solver` with a model where `t` is as large as it can be (up to
/// `max`), by binary search; the last check is satisfiable.
fn maximize(solver: &Solver, assumptions: &[Bool], t: &BV, max: u64) {
    let (mut lo, mut hi) = (0u64, max);
    let mut best = None;
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        let mut a = assumptions.to_vec();
        a.push(t.bvuge(bv(mid)));
        if solver.check_assumptions(&a) == SatResult::Sat {
            best = Some(mid);
            lo = mid + 1;
        } else if mid == 0 {
            break;
        } else {
            hi = mid - 1;
        }
    }
    let mut a = assumptions.to_vec();
    if let Some(b) = best {
        a.push(t.bvuge(bv(b)));
    }
    let _ = solver.check_assumptions(&a);
}

fn bv(v: u64) -> BV {
    BV::from_u64(v, 64)
}

/// The register a failing instruction accesses memory through.
fn pointer_reg(prog: &Program, at: usize) -> Option<usize> {
    let insns = crate::isa::decode_all(&prog.insns);
    match insns.get(at) {
        Some(Some(Ok(Insn::Ldx { src, .. }))) => Some(*src as usize),
        Some(Some(Ok(Insn::St { dst, .. } | Insn::Stx { dst, .. } | Insn::Atomic { dst, .. }))) => {
            Some(*dst as usize)
        }
        _ => None,
    }
}

/// The size argument of a helper's memory argument in `regno`, as a term.
fn helper_size(prog: &Program, at: usize, regno: usize, rp: &Replayed) -> Option<BV> {
    use crate::platform::protos::ArgBase;
    let insns = crate::isa::decode_all(&prog.insns);
    let Some(Some(Ok(Insn::Call(CallKind::Helper(id))))) = insns.get(at) else {
        return None;
    };
    let p = crate::platform::protos::all_protos()
        .iter()
        .find(|p| p.helper_id == Some(*id))?;
    let next = p.args.get(regno)?;
    if !matches!(next.base, ArgBase::ConstSize | ArgBase::ConstSizeOrZero) {
        return None;
    }
    match rp.regs.get(regno + 1)? {
        Val::Scalar(b) => Some(b.clone()),
        _ => None,
    }
}

/// The access leaves its object: `off < lo || off + size > hi`.
fn bounds_violation(
    rp: &Replayed,
    p: &Ptr,
    insn_off: i64,
    size: &BV,
    ob: Option<&Obligation>,
) -> Option<Bool> {
    let off = p.off.bvadd(BV::from_i64(insn_off, 64));
    let end = off.bvadd(size);
    let outside = |lo: BV, hi: BV| Bool::or(&[off.bvslt(&lo), end.bvsgt(&hi)]);
    match p.base {
        Base::Pkt(g) => {
            let meta = ob.is_some_and(|o| o.base.starts_with("pkt_meta"));
            if meta {
                let m = rp.pkt_meta.get(&g)?.clone();
                Some(outside(m.bvneg(), bv(0)))
            } else {
                let len = rp.pkt_len.get(&g)?.clone();
                Some(outside(bv(0), len))
            }
        }
        Base::Map { size: s, .. } | Base::Mem { size: s, .. } => Some(outside(bv(0), bv(s as u64))),
        Base::Stack(_) => Some(outside(BV::from_i64(-512, 64), bv(0))),
        Base::Ctx | Base::Opaque(_) | Base::MapPtr(_) | Base::Func(_) => {
            // No bound to violate with values: a rule of the pointer type.
            match ob.map(|o| &o.bound) {
                Some(Bound::Region { size: s }) => Some(outside(bv(0), bv(*s as u64))),
                _ => Some(Bool::from_bool(true)),
            }
        }
    }
}

/// Some byte read from the stack was never written on the path.
fn stack_init_violation(rp: &Replayed, p: &Ptr, insn_off: i64, size: u64) -> Option<Bool> {
    let Base::Stack(uid) = p.base else {
        return Some(Bool::from_bool(true));
    };
    let off = {
        use z3::ast::Ast;
        p.off
            .bvadd(BV::from_i64(insn_off, 64))
            .simplify()
            .as_u64()? as i64
    };
    let init = rp.stack_init.get(&uid);
    let missing = (0..size as i64).any(|k| !init.is_some_and(|s| s.contains(&(off + k))));
    Some(Bool::from_bool(missing))
}

fn line_of(prog: &Program, insn: usize) -> Option<u32> {
    prog.line_for(insn).map(|l| l.line)
}

fn at_words(prog: &Program, insn: usize) -> String {
    match line_of(prog, insn) {
        Some(l) => format!("line {l} (insn {insn})"),
        None => format!("insn {insn}"),
    }
}

fn imprecision(
    prog: &Program,
    rp: &Replayed,
    regno: usize,
    goal: Goal,
    checks: Vec<usize>,
    infeasible: bool,
) -> Imprecision {
    let checks_words = || {
        let v: Vec<String> = checks.iter().map(|&i| at_words(prog, i)).collect();
        if v.is_empty() {
            "the instructions before it".to_string()
        } else {
            v.join(", ")
        }
    };
    if infeasible {
        let last = checks.last().copied();
        return Imprecision {
            lost_at: last,
            line: last.and_then(|i| line_of(prog, i)),
            reason: format!(
                "this path cannot happen: the decisions at {} contradict each other, but the kernel's ranges did not rule the last one out",
                checks_words()
            ),
            help: "make the check explicit on the register that is used afterwards (or add `barrier_var()` after it) so that the verifier sees the contradiction".to_string(),
            checks,
            infeasible,
        };
    }
    // Where the bound was lost: the accessed register's history, then the
    // registers the decisive checks compared (a spill and fill first).
    let mut cands: Vec<Loss> = rp.loss.get(regno).cloned().unwrap_or_default();
    for k in rp.constraints.iter().filter(|k| checks.contains(&k.insn)) {
        cands.extend(k.losses.iter().copied());
    }
    let last_of = |f: fn(&Loss) -> bool| cands.iter().rev().copied().find(f);
    let checked_other = checks.iter().any(|&c| {
        rp.constraints
            .iter()
            .any(|k| k.insn == c && !k.regs.contains(&(regno as u8)))
    });
    let loss = last_of(|l| matches!(l, Loss::Fill(_)))
        .or_else(|| {
            if checked_other {
                last_of(|l| matches!(l, Loss::Copy(_)))
            } else {
                None
            }
        })
        .or_else(|| last_of(|l| matches!(l, Loss::Trunc32(_))))
        .or_else(|| last_of(|l| matches!(l, Loss::Load(_))));
    let (reason, help) = match (goal, loss) {
        (Goal::NotNull, _) => (
            format!(
                "the pointer in r{regno} was checked against NULL at {}, but the kernel did not carry that check to this register",
                checks_words()
            ),
            "test the pointer you dereference, right before using it (not a copy or a value reloaded from the stack)".to_string(),
        ),
        (Goal::Pointer, _) => (
            format!("r{regno} does hold a pointer on this path, but the kernel lost its type"),
            "keep the pointer in a register, or in a full 8-byte stack slot, between where it is obtained and where it is used".to_string(),
        ),
        (_, Some(Loss::Fill(i))) => (
            format!(
                "the value was spilled to the stack and read back at {}; the kernel keeps a spilled scalar's bounds only for full 8-byte spills and fills, so the checks at {} were lost",
                at_words(prog, i),
                checks_words()
            ),
            "keep the checked value in a register until the access (re-check it after reloading, or use a 64-bit variable)".to_string(),
        ),
        (_, Some(Loss::Copy(i))) if checked_other => (
            format!(
                "the access uses a copy made at {}, while the check at {} was made on another register the kernel does not link to it",
                at_words(prog, i),
                checks_words()
            ),
            "check the same value you use: add `barrier_var(x)` (or `asm volatile(\"\" : \"+r\"(x))`) after the check so the compiler cannot use a different copy".to_string(),
        ),
        (_, Some(Loss::Trunc32(i))) => (
            format!(
                "a 32-bit operation at {} changed the value after the checks at {}; the kernel does not carry those bounds through it",
                at_words(prog, i),
                checks_words()
            ),
            "use a 64-bit type (`__u64`) for the offset, or re-check it after the conversion".to_string(),
        ),
        _ => (
            format!(
                "the checks at {} bound the access together, but the kernel tracks each register's range on its own and could not combine them",
                checks_words()
            ),
            "add an explicit bounds check on the offset just before the access (`if (off > MAX) return ...;`)".to_string(),
        ),
    };
    let lost_at = match (goal, loss) {
        (Goal::Bounds | Goal::StackInit, Some(l)) => Some(l.insn()),
        _ => checks.last().copied(),
    };
    Imprecision {
        lost_at,
        line: lost_at.and_then(|i| line_of(prog, i)),
        reason,
        help,
        checks,
        infeasible,
    }
}

/// How the proof layer's findings read in a diagnostic: a note (and for an
/// imprecision a help line).
pub fn notes(p: &Proof) -> (Vec<String>, Option<String>) {
    match p {
        Proof::Counterexample(c) => (vec![format!("counterexample: {}", c.text)], None),
        Proof::Imprecision(i) => (
            vec![format!(
                "kernel imprecision: Z3 proves this access safe on this path; {}",
                i.reason
            )],
            Some(i.help.clone()),
        ),
        Proof::Unknown { reason } => (vec![format!("no counterexample: {reason}")], None),
        Proof::NotMemory => (Vec::new(), None),
    }
}

/// The `check --prove` result of one accepted program.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ProveSummary {
    /// Obligations discharged by Z3.
    pub proved: usize,
    /// Obligations Z3 refuted: each one is a soundness bug of bpfproof.
    pub refuted: Vec<String>,
    /// Obligations Z3 could not decide (path not replayable, time limit).
    pub unknown: usize,
    /// Time spent, in µs.
    pub time_us: u64,
}

/// `check --prove`: the ctx and packet obligations the engine proved on an
/// accepted program, each checked again by Z3 on the path that reached it.
pub fn prove_accepted(obj: &Object, prog: &Program, out: &Outcome) -> ProveSummary {
    let start = Instant::now();
    let mut s = ProveSummary::default();
    for fail in &out.proved {
        let Some(ob) = &fail.obligation else { continue };
        let rp = match replay::replay(obj, prog, fail, ob.insn) {
            Ok(r) => r,
            Err(_) => {
                s.unknown += 1;
                continue;
            }
        };
        let (insn_off, _) = access_words(prog, ob.insn, Some(ob));
        let violation = match (&ob.bound, rp.regs.get(ob.regno)) {
            (Bound::Packet { .. }, Some(Val::Ptr(p))) if matches!(p.base, Base::Pkt(_)) => {
                bounds_violation(&rp, p, insn_off, &bv(ob.size), Some(ob))
            }
            (Bound::Ctx, Some(Val::Ptr(p))) if p.base == Base::Ctx => {
                // The offset the engine allowed is the offset used.
                use z3::ast::Ast;
                let off = p.off.bvadd(BV::from_i64(insn_off, 64));
                Some(off.eq(BV::from_i64(ob.fixed_off, 64)).not().simplify())
            }
            _ => None,
        };
        let Some(violation) = violation else {
            s.unknown += 1;
            continue;
        };
        let solver = new_solver();
        for f in &rp.facts {
            solver.assert(f);
        }
        for c in &rp.constraints {
            solver.assert(&c.cond);
        }
        solver.assert(&violation);
        match solver.check() {
            SatResult::Unsat => s.proved += 1,
            SatResult::Sat if rp.approx.is_empty() => s.refuted.push(format!(
                "insn {}: {} {}-byte access through r{} ({}) refuted by Z3",
                ob.insn,
                match ob.kind {
                    ObligationKind::Read => "read",
                    ObligationKind::Write => "write",
                    ObligationKind::HelperMem => "helper",
                },
                ob.size,
                ob.regno,
                ob.base
            )),
            _ => s.unknown += 1,
        }
    }
    s.time_us = start.elapsed().as_micros() as u64;
    s
}
