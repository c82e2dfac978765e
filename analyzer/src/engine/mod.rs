//! The verifier engine: the entry point that turns a loaded program into a
//! verdict, the way the kernel's `bpf_check` does.
//!
//! What is modelled (Linux 6.12 `kernel/bpf/verifier.c`, privileged
//! loading), each in the file named for it:
//! - `alu`: `check_alu_op`, `adjust_ptr_min_max_vals` (pointer arithmetic
//!   rules and messages), scalars through the kernel-exact domains, linked
//!   scalars with constant deltas (`BPF_ADD_CONST`);
//! - `mem`: `check_mem_access` — stack (fixed offsets, spills and fills,
//!   variable-offset reads, callers' stacks), ctx (`checks::ctx`), packet,
//!   map values (read-only/write-only maps, frozen `.rodata` constants,
//!   `bpf_spin_lock` fields), helper-returned memory, sockets, kernel
//!   structs through BTF pointers (`kfunc::check_ptr_to_btf_access`);
//! - `jmp`: `check_cond_jmp_op` — branch prediction, refinement of both
//!   branches, linked scalars, null checks, packet ranges;
//! - `call`: `check_helper_call` with the generated prototype table, map
//!   compatibility, socket references (acquire/release), socket maps,
//!   ring-buffer reservations, spin locks, `bpf_get_local_storage`, tail
//!   calls, packet-changing helpers, trusted BTF results, callbacks
//!   (`bpf_loop`, `bpf_for_each_map_elem`: `push_callback_call`);
//! - `kfunc`: `check_kfunc_call` with the generated 6.12 kfunc sets and the
//!   kernel BTF's prototypes (acquire/release/ret-null/trusted/RCU);
//! - `iter`: open-coded iterators (`bpf_iter_*_new/next/destroy`);
//! - `dynptr`: `STACK_DYNPTR` slots and `process_dynptr_func`; `arena`:
//!   arena pointers and `addr_space_cast`; `fastcall`: `bpf_fastcall`
//!   spill/fill patterns and the stack depth they leave;
//! - `explore`: `do_check` (DFS, limits, infinite loops, `may_goto`,
//!   `is_state_visited` with loop entries), static bpf-to-bpf calls
//!   (frames), `LD_ABS`, atomics, return codes, `check_max_stack_depth`;
//! - `prune`: `states_equal`/`regsafe`/`stacksafe`; `precision`:
//!   `mark_chain_precision`/`backtrack_insn`; `regs`: register and stack
//!   liveness (`mark_reg_read`); together they make pruning — and so the
//!   processed-instruction counts — match the kernel's on most programs;
//! - `global`: global functions verified on their own with BTF arguments;
//! - `obligation`: each memory access as a proof obligation, the path of
//!   branch decisions; `log`: the kernel-style verifier log.
//!
//! Not modelled yet, reported as `unsupported` naming the construct, never
//! accepted: timers and graph roots in map values (and so `bpf_obj_new`,
//! lists, rbtrees), tracing/LSM contexts typed by the attach target's BTF,
//! LSM return codes, kfunc sets with filters, global-function argument tags
//! other than `ctx`, `nonnull`, `nullable`, `trusted` and `arena`, async
//! callbacks, private stacks, the unprivileged rules; reaching the
//! 1M-instruction limit outside a loop (pruning is close to the kernel's
//! but not proven equal).

mod alu;
mod arena;
mod btf_ctx;
mod call;
pub mod collect;
mod dynptr;
pub mod env;
mod explore;
mod fastcall;
mod global;
mod iter;
mod jmp;
mod kfunc;
mod kptr;
mod log;
mod mem;
pub mod obligation;
mod precision;
pub mod prune;
mod regs;

use crate::object::{Object, Program};
pub(crate) use explore::is_global_subprog_of;
use std::time::Instant;

/// What the kernel would do with a program, as far as bpfproof can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The kernel would load it.
    Accept,
    /// The kernel would refuse it.
    Reject,
    /// bpfproof does not model something the program uses.
    Unsupported,
    /// The program could not be prepared (`BPF9xx`).
    Error,
}

impl Verdict {
    /// Lower-case name as in CLI.md.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject => "reject",
            Verdict::Unsupported => "unsupported",
            Verdict::Error => "error",
        }
    }
}

/// The first error (or the reason for `unsupported`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable diagnostic code.
    pub code: &'static str,
    /// The kernel's wording, or `unsupported: ...`.
    pub message: String,
    /// Instruction at fault, when there is one.
    pub insn: Option<usize>,
    /// Further lines the kernel prints with the error (e.g. `R1 offset is
    /// outside of the packet` after `invalid access to packet, ...`).
    pub more: Vec<String>,
}

/// Counters named as the kernel names them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// `insns_processed`; `None` when the engine did not run.
    pub insns_processed: Option<u64>,
    /// `total_states`.
    pub total_states: Option<u64>,
    /// `peak_states`.
    pub peak_states: Option<u64>,
    /// Wall-clock analysis time.
    pub time_us: u64,
}

/// Options of one analysis.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Apply the unprivileged rules.
    pub unprivileged: bool,
    /// `BPF_PROG_LOAD` `prog_flags` (`BPF_F_STRICT_ALIGNMENT`, `BPF_F_ANY_ALIGNMENT`, ...).
    pub prog_flags: u32,
    /// Kernel-style log: 0 none, 1 the path to the end, 2 every instruction.
    pub log_level: u8,
    /// Record the ctx and packet obligations proved, with their paths, in
    /// [`Outcome::proved`] (for `check --prove`).
    pub collect_proved: bool,
    /// Beyond the kernel: after an error, go on exploring the other paths
    /// and collect every error met into [`Outcome::errors`] (the verdict and
    /// statistics of such a run are not the kernel's: use a normal run for
    /// those).
    pub collect_errors: bool,
    /// Wall-clock limit of the analysis: past it the verdict is
    /// `unsupported: timeout after N s` instead of a hang.
    pub timeout: Option<std::time::Duration>,
    /// Collect, per instruction, the abstract registers of the states the
    /// exploration checked there (`Outcome::visited`), exploring without
    /// pruning (`collect`); for soundness tests.
    pub collect_states: bool,
}

/// At most this many proved obligations are recorded per program.
pub const MAX_PROVED_RECORDED: usize = 1000;

/// At most this many errors are collected in one run.
pub const MAX_COLLECTED_ERRORS: usize = 16;

/// `BPF_F_TEST_STATE_FREQ`.
pub const BPF_F_TEST_STATE_FREQ: u32 = 1 << 3;
/// `BPF_F_STRICT_ALIGNMENT`.
pub const BPF_F_STRICT_ALIGNMENT: u32 = 1 << 0;
/// `BPF_F_ANY_ALIGNMENT`.
pub const BPF_F_ANY_ALIGNMENT: u32 = 1 << 1;

/// The result of analysing one program.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Verdict.
    pub verdict: Verdict,
    /// First error, `None` when accepted.
    pub finding: Option<Finding>,
    /// Statistics.
    pub stats: Stats,
    /// The kernel-style log (`log_level` > 0 and the program was explored).
    pub log: Option<String>,
    /// Where the first error was met: the state, the path, the access.
    pub failure: Option<Failure>,
    /// With [`CheckOptions::collect_proved`]: the ctx and packet
    /// obligations the engine proved, each with the path that first
    /// reached it (`state` is empty).
    pub proved: Vec<Failure>,
    /// With [`CheckOptions::collect_errors`]: every error met on the paths
    /// explored, in the order met (the first is the kernel's), one per
    /// instruction and message.
    pub errors: Vec<(Finding, Failure)>,
    /// With `CheckOptions::collect_states`: per instruction, the states
    /// checked there (before the instruction), in the order visited.
    pub visited: Option<Vec<Vec<collect::VisitedRegs>>>,
}

/// Records a proved ctx or packet obligation with its path
/// ([`CheckOptions::collect_proved`]); the first visit of an instruction
/// only.
fn record_proved(
    env: &mut env::Env<'_>,
    st: &crate::state::VerifierState,
    ob: obligation::Obligation,
) {
    if !env.collect_proved
        || env.proved.len() >= MAX_PROVED_RECORDED
        || !matches!(
            ob.bound,
            obligation::Bound::Ctx | obligation::Bound::Packet { .. }
        )
        || env
            .proved
            .iter()
            .any(|f| f.obligation.as_ref().is_some_and(|o| o.insn == ob.insn))
    {
        return;
    }
    env.proved.push(Failure {
        state: String::new(),
        path: Vec::new(),
        obligation: Some(ob),
        replay: obligation::all_decisions(&env.decisions),
        start: env.path_start,
        entry: env.path_entry.clone(),
        frames: st.frames.len(),
        in_callback: st.frames.iter().any(|f| f.in_callback_fn),
    });
}

/// The context of a rejection.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The registers and stack before the failing instruction, as the
    /// kernel's log prints them.
    pub state: String,
    /// Conditional jumps on the path from the program start, in order:
    /// instruction and whether the jump was taken.
    pub path: Vec<(usize, bool)>,
    /// The memory access that could not be proven, when the error is one.
    pub obligation: Option<obligation::Obligation>,
    /// Every decision of the path, forks that are not jumps included
    /// (instruction, taken, is a conditional jump): with `start` and
    /// `entry`, enough to replay the path (`proof`).
    pub replay: Vec<(usize, bool, bool)>,
    /// The instruction the path starts at: 0, or the global function
    /// verified on its own.
    pub start: usize,
    /// The registers at `start`.
    pub entry: Vec<crate::state::RegState>,
    /// Call frames at the failing instruction.
    pub frames: usize,
    /// Whether the failing instruction runs in a callback.
    pub in_callback: bool,
}

/// Beyond the kernel: the errors after the kernel's first one. When a
/// normal run rejects, a second run in [`CheckOptions::collect_errors`]
/// mode explores the remaining paths; the errors it meets at other
/// instructions are returned, in the order met. Empty when the program is
/// not rejected.
pub fn further_errors(
    obj: &Object,
    prog: &Program,
    opts: &CheckOptions,
    first: &Outcome,
) -> Vec<(Finding, Failure)> {
    let Some(f0) = first
        .finding
        .as_ref()
        .filter(|_| first.verdict == Verdict::Reject)
    else {
        return Vec::new();
    };
    let collect = CheckOptions {
        collect_errors: true,
        log_level: 0,
        ..opts.clone()
    };
    check_program(obj, prog, &collect)
        .errors
        .into_iter()
        .filter(|(f, _)| !(f.insn == f0.insn && f.code == f0.code))
        .collect()
}

/// `can_be_sleepable` (checked by `check_attach_btf_id`).
fn can_be_sleepable(
    t: crate::platform::ProgType,
    attach: Option<crate::platform::AttachType>,
) -> bool {
    use crate::platform::AttachType as A;
    match t {
        crate::platform::ProgType::Tracing => matches!(
            attach,
            Some(A::TraceFentry | A::TraceFexit | A::ModifyReturn | A::TraceIter)
        ),
        crate::platform::ProgType::Lsm
        | crate::platform::ProgType::Kprobe
        | crate::platform::ProgType::StructOps
        | crate::platform::ProgType::Syscall => true,
        _ => false,
    }
}

/// The finding of an `unsupported` verdict (BPF990).
fn unsupported_finding(insn: usize, what: &str) -> Finding {
    if what.starts_with(env::TIMEOUT_PREFIX) {
        // The program is not at fault at this instruction: no location.
        return Finding {
            code: "BPF990",
            message: format!("unsupported: {what}"),
            insn: None,
            more: Vec::new(),
        };
    }
    Finding {
        code: "BPF990",
        message: format!("unsupported: {what} (insn {insn})"),
        insn: Some(insn),
        more: Vec::new(),
    }
}

/// Analyses one program of an object (`bpf_check`).
pub fn check_program(obj: &Object, prog: &Program, opts: &CheckOptions) -> Outcome {
    let start = Instant::now();
    let done = |verdict, finding, stats: Stats| Outcome {
        verdict,
        finding,
        log: None,
        failure: None,
        proved: Vec::new(),
        errors: Vec::new(),
        visited: None,
        stats: Stats {
            time_us: start.elapsed().as_micros() as u64,
            ..stats
        },
    };
    if let Some(e) = &prog.load_error {
        let f = Finding {
            code: e.code,
            message: e.message.clone(),
            insn: None,
            more: Vec::new(),
        };
        return done(Verdict::Error, Some(f), Stats::default());
    }
    let Some(prog_type) = prog.prog_type else {
        let f = Finding {
            code: "BPF912",
            message: format!(
                "section '{}' does not name a program type; pass --type",
                prog.section
            ),
            insn: None,
            more: Vec::new(),
        };
        return done(Verdict::Error, Some(f), Stats::default());
    };
    if opts.unprivileged {
        let f = Finding {
            code: "BPF990",
            message: "unsupported: the unprivileged rules are not modelled yet".to_string(),
            insn: None,
            more: Vec::new(),
        };
        return done(Verdict::Unsupported, Some(f), Stats::default());
    }
    // check_btf_func, then check_subprogs / check_cfg, as in bpf_check.
    let mut env = env::Env::new(obj, prog, prog_type, true);
    if let Err(e) = explore::check_ld_abs_subprogs(&env) {
        return match e {
            env::Stop::Reject(f) => done(Verdict::Reject, Some(f), Stats::default()),
            env::Stop::Unsupported { insn, what } => done(
                Verdict::Unsupported,
                Some(unsupported_finding(insn, &what)),
                Stats::default(),
            ),
        };
    }
    if prog.sleepable && !can_be_sleepable(prog_type, prog.attach_type) {
        let f = Finding {
            code: "BPF404",
            message: "Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable".to_string(),
            insn: None,
            more: Vec::new(),
        };
        return done(Verdict::Reject, Some(f), Stats::default());
    }
    match arena::resolve_prog_arena(&env) {
        Ok(a) => env.arena = a,
        Err(env::Stop::Reject(f)) => return done(Verdict::Reject, Some(f), Stats::default()),
        Err(env::Stop::Unsupported { insn, what }) => {
            return done(
                Verdict::Unsupported,
                Some(unsupported_finding(insn, &what)),
                Stats::default(),
            );
        }
    }
    let cfg = crate::cfg::check_cfg(prog, true);
    if let Ok(c) = &cfg {
        env.cfg = Some(Box::new(c.clone()));
        env.fastcall = Some(fastcall::mark_fastcall_patterns(&env));
    }
    if let Err(e) = cfg {
        // A bad instruction found while decoding is an instruction error
        // (BPF101); the rest of `check_cfg` is about control flow (BPF102).
        let code = match e.kind {
            crate::cfg::CfgErrorKind::BadInsn => "BPF101",
            _ => "BPF102",
        };
        let f = Finding {
            code,
            message: e.message,
            insn: Some(e.insn),
            more: Vec::new(),
        };
        return done(Verdict::Reject, Some(f), Stats::default());
    }
    env.collect_proved = opts.collect_proved;
    env.collect_errors = opts.collect_errors;
    env.test_state_freq = opts.prog_flags & BPF_F_TEST_STATE_FREQ != 0;
    env.strict_alignment =
        opts.prog_flags & BPF_F_STRICT_ALIGNMENT != 0 && opts.prog_flags & BPF_F_ANY_ALIGNMENT == 0;
    if opts.log_level > 0 {
        env.log = Some(log::VLog::new(opts.log_level));
    }
    env.deadline = opts.timeout.map(|t| (start + t, t));
    if opts.collect_states {
        env.visited = Some(vec![Vec::new(); env.insns.len()]);
    }
    let result = explore::do_check_all(&mut env)
        .and_then(|c| explore::check_max_stack_depth(&env).map(|_| c))
        .and_then(|c| match env.zero_kfunc_call {
            // fixup_kfunc_call, after verification: the call was reached.
            Some(at) => Err(env::Stop::Reject(Finding {
                code: "BPF402",
                message: "invalid kernel function call not eliminated in verifier pass".into(),
                insn: Some(at),
                more: Vec::new(),
            })),
            None => Ok(c),
        });
    let mut stats = Stats {
        insns_processed: Some(env.insn_processed),
        total_states: None,
        peak_states: None,
        time_us: 0,
    };
    if env.log.is_some() {
        match &result {
            Err(env::Stop::Reject(f)) => {
                log::line(&mut env, &f.message);
                for m in &f.more {
                    log::line(&mut env, m);
                }
            }
            Err(env::Stop::Unsupported { what, .. }) => {
                log::line(&mut env, &format!("bpfproof: unsupported: {what}"));
            }
            Ok(_) => {}
        }
        let (total, peak) = match &result {
            Ok(c) => (c.total_states, c.peak_states),
            Err(_) => (env.ckpts.len() as u64, env.ckpts.len() as u64),
        };
        let summary = format!(
            "processed {} insns (limit {}) max_states_per_insn {} total_states {} peak_states {} mark_read {}",
            env.insn_processed,
            env::BPF_COMPLEXITY_LIMIT_INSNS,
            env.max_states_per_insn,
            total,
            peak,
            env.mark_read
        );
        log::line(&mut env, &summary);
    }
    let log_text = env.log.take().map(|l| l.buf);
    let maps: Vec<crate::state::print::MapInfo<'_>> = obj
        .maps
        .iter()
        .map(|m| crate::state::print::MapInfo {
            name: &m.name,
            key_size: m.key_size,
            value_size: m.value_size,
        })
        .collect();
    let path_start = env.path_start;
    let path_entry = std::mem::take(&mut env.path_entry);
    let to_failure = |st: &crate::state::VerifierState,
                      path: &obligation::DecisionList,
                      ob: Option<obligation::Obligation>| Failure {
        state: crate::state::print::print_cur_state(st, true, &maps)
            .trim()
            .to_string(),
        path: obligation::decisions(path),
        obligation: ob,
        replay: obligation::all_decisions(path),
        start: path_start,
        entry: path_entry.clone(),
        frames: st.frames.len(),
        in_callback: st.frames.iter().any(|f| f.in_callback_fn),
    };
    let failure = match (&result, env.failure.take()) {
        (Err(env::Stop::Reject(_)), Some((st, path))) => {
            Some(to_failure(&st, &path, env.cur_obligation.take()))
        }
        _ => None,
    };
    let mut errors: Vec<(Finding, Failure)> = Vec::new();
    for e in std::mem::take(&mut env.errors) {
        let dup = errors
            .iter()
            .any(|(f, _)| f.insn == e.finding.insn && f.code == e.finding.code);
        if !dup {
            let fail = to_failure(&e.state, &e.path, e.obligation);
            errors.push((e.finding, fail));
        }
    }
    if let (Err(env::Stop::Reject(f)), Some(fail)) = (&result, &failure)
        && opts.collect_errors
    {
        // An error raised outside the per-instruction step ends the run.
        errors.push((f.clone(), fail.clone()));
    }
    let proved = std::mem::take(&mut env.proved);
    let visited = env.visited.take();
    let with_log = move |mut o: Outcome| {
        o.log = log_text.clone();
        o.failure = failure.clone();
        o.errors = errors.clone();
        o.proved = proved;
        o.visited = visited;
        o
    };
    with_log(match result {
        Ok(c) => {
            stats.total_states = Some(c.total_states);
            stats.peak_states = Some(c.peak_states);
            done(Verdict::Accept, None, stats)
        }
        Err(env::Stop::Reject(f)) => done(Verdict::Reject, Some(f), stats),
        Err(env::Stop::Unsupported { insn, what }) => {
            stats.insns_processed = None;
            done(
                Verdict::Unsupported,
                Some(unsupported_finding(insn, &what)),
                stats,
            )
        }
    })
}
