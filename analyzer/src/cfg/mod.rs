//! The control-flow graph of a program and the kernel's first pass over it.
//!
//! The structural checks mirror `kernel/bpf/verifier.c` of Linux 6.12, in
//! the order `bpf_check` runs them: [`subprogs::add_subprog_and_kfunc`]
//! (subprogram discovery), [`subprogs::check_subprogs`] (jumps stay inside
//! their subprogram, every subprogram ends in `exit`/`ja`), the instruction
//! shape checks of `resolve_pseudo_ldimm64`, then [`walk::check_cfg`] (the
//! iterative depth-first walk of `visit_insn`/`push_insn` that finds
//! unreachable instructions and, unprivileged, back-edges, and marks prune
//! points, forced checkpoints and jump points where the kernel does). The
//! first failure carries the kernel's message verbatim.
//!
//! On top of that, for the engine and the reports: basic blocks and one
//! `petgraph` graph per subprogram with a call graph between them
//! ([`graph`]), dominators and natural loops with irreducible regions flagged
//! ([`loops`]), and static liveness of registers and stack slots
//! ([`liveness`]). These are built best-effort even when a structural check
//! fails, so that a broken program can still be drawn.

pub mod graph;
pub mod liveness;
pub mod loops;
pub mod subprogs;
pub mod walk;

#[cfg(test)]
mod tests;

use crate::isa::{self, RawInsn};
use crate::object::Program;
use petgraph::graph::DiGraph;
use std::fmt;

/// The graph library the CFG is built on, for callers that walk the graphs.
pub use petgraph;

pub use graph::{BasicBlock, CallEdge, CallKindEdge, EdgeKind, FuncCfg};
pub use liveness::Liveness;
pub use loops::{IrreducibleRegion, Loop};
pub use subprogs::{BPF_MAX_SUBPROGS, SubprogInfo, bpf_find_exception_callback_insn_off};

/// What kind of structural rejection a [`CfgError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CfgErrorKind {
    /// The program has no instructions (`bpf_prog_load` refuses it with
    /// `-E2BIG` before the verifier runs; the kernel prints nothing).
    Empty,
    /// `loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN`.
    NotCapable,
    /// `call to invalid destination`.
    CallToInvalidDestination,
    /// `too many subprograms`.
    TooManySubprograms,
    /// The exception callback named by the main program's BTF decl tag is
    /// unusable (the messages of `bpf_find_exception_callback_insn_off`).
    ExceptionCallback,
    /// `jump out of range from insn %d to %d`.
    JumpOutOfRange,
    /// `last insn is not an exit or jmp`.
    LastInsnNotExit,
    /// An instruction that `resolve_pseudo_ldimm64` rejects (`BPF_LDX uses
    /// reserved fields`, `invalid bpf_ld_imm64 insn`, `unknown opcode %02x`, ...).
    BadInsn,
    /// `back-edge from insn %d to %d` (loops are not allowed).
    BackEdge,
    /// `unreachable insn %d`.
    Unreachable,
    /// `jump into the middle of ldimm64 insn %d`.
    JumpIntoLdImm64,
    /// An inconsistency the kernel reports as an internal bug.
    Internal,
}

/// A structural rejection: the instruction it is about and the kernel's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CfgError {
    /// The instruction the error is about (the jump, the call, the
    /// unreachable instruction, the last instruction of the subprogram).
    pub insn: usize,
    /// The kernel's message, verbatim, without the trailing newline.
    pub message: String,
    /// Which check failed.
    pub kind: CfgErrorKind,
}

impl CfgError {
    pub(crate) fn new(kind: CfgErrorKind, insn: usize, message: impl Into<String>) -> Self {
        CfgError {
            insn,
            message: message.into(),
            kind,
        }
    }
}

impl fmt::Display for CfgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CfgError {}

/// How the program is loaded.
#[derive(Clone, Debug)]
pub struct CfgOptions {
    /// `env->bpf_capable`: loaded with `CAP_BPF` (or `CAP_SYS_ADMIN`).
    /// Without it, bpf-to-bpf calls, callbacks and kfuncs are refused and
    /// every back-edge is an error.
    pub bpf_capable: bool,
    /// The target kernel allows bounded loops (since 5.3). When false,
    /// back-edges are errors even for privileged loads.
    pub bounded_loops: bool,
    /// Instruction offset of the exception callback (the main program's
    /// `exception_callback:` BTF decl tag, see
    /// [`bpf_find_exception_callback_insn_off`]); 0 or `None` = none.
    pub exception_callback: Option<usize>,
}

impl Default for CfgOptions {
    fn default() -> Self {
        CfgOptions {
            bpf_capable: true,
            bounded_loops: true,
            exception_callback: None,
        }
    }
}

/// Per-instruction marks of the CFG pass (the CFG fields of the kernel's
/// `struct bpf_insn_aux_data`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct InsnFlags {
    /// `prune_point`: `is_state_visited` runs here.
    pub prune_point: bool,
    /// `force_checkpoint`: a state is always saved here (`may_goto`,
    /// iterator `next` kfuncs, synchronous callback calls).
    pub force_checkpoint: bool,
    /// `jmp_point`: non-linear history is recorded when reaching it.
    pub jmp_point: bool,
    /// `jump_target`: the target of a jump or call.
    pub jump_target: bool,
    /// `calls_callback`: a call of a helper/kfunc that calls a callback
    /// synchronously (`bpf_loop`, `bpf_for_each_map_elem`, ...).
    pub calls_callback: bool,
    /// The call is an open-coded iterator's `bpf_iter_*_next` kfunc (the
    /// kernel learns this in `check_kfunc_call`; here from the kfunc name).
    pub iter_next: bool,
    /// Explored by the depth-first walk (reachable from an entry).
    pub explored: bool,
}

/// Everything the CFG pass learns about a program.
#[derive(Clone, Debug)]
pub struct CfgInfo {
    /// The subprogram table, sorted by start as the kernel keeps it
    /// (`env->subprog_info`): index 0 is the main program.
    pub subprogs: Vec<SubprogInfo>,
    /// Index of the exception callback subprogram, if any.
    pub exception_callback_subprog: Option<usize>,
    /// Marks per instruction slot (the second slot of `ld_imm64` has none).
    pub flags: Vec<InsnFlags>,
    /// Basic blocks of all subprograms, in instruction order.
    pub blocks: Vec<BasicBlock>,
    /// Block of each instruction slot (`None` out of any subprogram).
    pub insn_block: Vec<Option<usize>>,
    /// One graph per subprogram, parallel to `subprogs`.
    pub funcs: Vec<FuncCfg>,
    /// Calls between subprograms: node weight = subprogram index.
    pub call_graph: DiGraph<usize, CallEdge>,
    /// Static liveness of registers and stack slots.
    pub liveness: Liveness,
    /// The first structural rejection in the kernel's order, if any. When
    /// set, the flags are those of the walk up to the failure.
    pub error: Option<CfgError>,
}

impl CfgInfo {
    /// The subprogram containing instruction `insn` (`find_containing_subprog`).
    pub fn subprog_of(&self, insn: usize) -> Option<usize> {
        if insn >= self.flags.len() || self.subprogs.is_empty() {
            return None;
        }
        let i = self.subprogs.partition_point(|s| s.start <= insn);
        i.checked_sub(1)
    }

    /// The subprogram starting exactly at `insn` (`find_subprog`).
    pub fn find_subprog(&self, insn: usize) -> Option<usize> {
        self.subprog_of(insn)
            .filter(|&i| self.subprogs.get(i).is_some_and(|s| s.start == insn))
    }

    /// Flags of instruction `insn` (all false out of range).
    pub fn flags_at(&self, insn: usize) -> InsnFlags {
        self.flags.get(insn).copied().unwrap_or_default()
    }

    /// The innermost natural loop containing instruction `insn`, as
    /// (subprogram index, loop index in `funcs[sub].loops`).
    pub fn innermost_loop(&self, insn: usize) -> Option<(usize, usize)> {
        let b = (*self.insn_block.get(insn)?)?;
        let sub = self.blocks.get(b)?.subprog;
        let f = self.funcs.get(sub)?;
        f.loops
            .iter()
            .enumerate()
            .filter(|(_, l)| l.body.contains(&b))
            .max_by_key(|(_, l)| l.depth)
            .map(|(i, _)| (sub, i))
    }

    /// Every back-edge of every loop as (from insn, to insn): the jump at
    /// the end of the latch block and the header's first instruction.
    pub fn back_edges(&self) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        for f in &self.funcs {
            for l in &f.loops {
                for &(from, to) in &l.back_edges {
                    if let (Some(fb), Some(tb)) = (self.blocks.get(from), self.blocks.get(to)) {
                        v.push((fb.last, tb.start));
                    }
                }
            }
        }
        v.sort_unstable();
        v
    }
}

/// The number of slots of the instruction at `idx`: 2 for `ld_imm64` when
/// its second slot exists, else 1 (`bpf_is_ldimm64`).
pub(crate) fn insn_len(insns: &[RawInsn], idx: usize) -> usize {
    match insns.get(idx) {
        Some(i) if i.is_ldimm64() && idx + 1 < insns.len() => 2,
        _ => 1,
    }
}

/// The `ld_imm64`/opcode checks of `resolve_pseudo_ldimm64`, which
/// `bpf_check` runs between `check_subprogs` and `check_cfg` (the map and
/// BTF id resolution it also does are not structural and not done here).
pub fn resolve_pseudo_ldimm64_shape(insns: &[RawInsn]) -> Result<(), CfgError> {
    let mut i = 0;
    while i < insns.len() {
        match isa::decode(insns, i) {
            Err(e) if e.early => return Err(CfgError::new(CfgErrorKind::BadInsn, i, e.message)),
            Ok(d) => i += d.slots(),
            Err(_) => i += 1,
        }
    }
    Ok(())
}

/// Runs the CFG pass on `insns`; `kfunc_name(insn)` names the kfunc called
/// at `insn` (for iterator `next` and callback kfuncs), `subprog_name(start)`
/// names subprograms. Never fails: see [`CfgInfo::error`].
pub fn analyze_insns(
    insns: &[RawInsn],
    kfunc_name: &dyn Fn(usize) -> Option<String>,
    subprog_name: &dyn Fn(usize) -> Option<String>,
    opts: &CfgOptions,
) -> CfgInfo {
    let mut error: Option<CfgError> = None;
    let n = insns.len();
    if n == 0 {
        error = Some(CfgError::new(CfgErrorKind::Empty, 0, "empty program"));
    }
    // add_subprog_and_kfunc: the kernel's table, or the best-effort one.
    let (mut subprogs, exc) = match subprogs::add_subprog_and_kfunc(insns, opts) {
        Ok(t) => t,
        Err((e, best)) => {
            error.get_or_insert(e);
            best
        }
    };
    for s in &mut subprogs {
        s.name = subprog_name(s.start);
    }
    if error.is_none()
        && let Err(e) = subprogs::check_subprogs(insns, &mut subprogs)
    {
        error = Some(e);
    } else if error.is_some() {
        // Still collect the per-subprogram facts, ignoring errors.
        let _ = subprogs::check_subprogs(insns, &mut subprogs);
    }
    if error.is_none()
        && let Err(e) = resolve_pseudo_ldimm64_shape(insns)
    {
        error = Some(e);
    }
    let mut flags = vec![InsnFlags::default(); n];
    let mut allow_back_edges = opts.bpf_capable && opts.bounded_loops;
    if error.is_some() {
        // Best effort: walk anyway so that the marks exist, without loops
        // being reported.
        allow_back_edges = true;
    }
    let walk_err = walk::check_cfg(
        insns,
        &mut subprogs,
        exc,
        allow_back_edges,
        kfunc_name,
        &mut flags,
    );
    if error.is_none() {
        error = walk_err.err();
    }
    let (blocks, insn_block, funcs, call_graph) = graph::build(insns, &subprogs, exc);
    let mut funcs = funcs;
    for f in &mut funcs {
        loops::analyze(f);
    }
    let liveness = liveness::compute(insns, &subprogs);
    CfgInfo {
        subprogs,
        exception_callback_subprog: exc,
        flags,
        blocks,
        insn_block,
        funcs,
        call_graph,
        liveness,
        error,
    }
}

/// Runs the CFG pass on a loaded program (kfunc names from its externs,
/// subprogram names from its symbols). Never fails: see [`CfgInfo::error`].
pub fn analyze(prog: &Program, opts: &CfgOptions) -> CfgInfo {
    let kfunc = |insn: usize| {
        prog.externs
            .iter()
            .find(|e| e.kind == "kfunc" && e.insn == insn)
            .map(|e| e.name.clone())
    };
    let name = |start: usize| {
        prog.subprogs
            .iter()
            .find(|s| s.start == start)
            .map(|s| s.name.clone())
    };
    analyze_insns(&prog.insns, &kfunc, &name, opts)
}

/// The kernel's structural verdict: `Ok` with the CFG when the program
/// passes `add_subprog_and_kfunc`, `check_subprogs` and `check_cfg`
/// (`privileged` = `bpf_capable`), else the first error in the kernel's words.
pub fn check_cfg(prog: &Program, privileged: bool) -> Result<CfgInfo, CfgError> {
    let opts = CfgOptions {
        bpf_capable: privileged,
        ..CfgOptions::default()
    };
    let info = analyze(prog, &opts);
    match info.error {
        Some(e) => Err(e),
        None => Ok(info),
    }
}
