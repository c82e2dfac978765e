//! `struct bpf_verifier_env`: what one analysis carries besides the path
//! states — the program, id generator, counters, per-instruction aux data —
//! and the way an analysis stops (`Stop`).

use super::Finding;
use crate::isa::{Insn, IsaError, decode_all};
use crate::object::{Object, Program};
use crate::platform::ProgType;
use crate::state::BaseType;

/// `BPF_COMPLEXITY_LIMIT_INSNS`.
pub const BPF_COMPLEXITY_LIMIT_INSNS: u64 = 1_000_000;
/// `BPF_COMPLEXITY_LIMIT_JMP_SEQ`.
pub const BPF_COMPLEXITY_LIMIT_JMP_SEQ: usize = 8192;
/// `BPF_MAX_VAR_OFF`.
pub const BPF_MAX_VAR_OFF: i64 = 1 << 29;
/// `MAX_PACKET_OFF`.
pub const MAX_PACKET_OFF: u64 = 0xffff;

/// How the `what` of a wall-clock timeout begins (`CheckOptions::timeout`).
pub const TIMEOUT_PREFIX: &str = "timeout after ";

/// Why the walk stopped before finishing every path.
#[derive(Debug)]
pub enum Stop {
    /// The kernel would reject: its message lines, first one first.
    Reject(Finding),
    /// Something bpfproof does not model; names it.
    Unsupported { insn: usize, what: String },
}

/// Builds a rejection at `insn` with the kernel's wording.
#[cold]
pub fn reject(code: &'static str, insn: usize, message: impl Into<String>) -> Stop {
    Stop::Reject(Finding {
        code,
        message: message.into(),
        insn: Some(insn),
        more: Vec::new(),
    })
}

/// Builds an `unsupported` stop.
#[cold]
pub fn unsupported(insn: usize, what: impl Into<String>) -> Stop {
    Stop::Unsupported {
        insn,
        what: what.into(),
    }
}

/// `return Err(reject(code, insn, format!(...)))`.
macro_rules! bail_reject {
    ($code:expr, $insn:expr, $($arg:tt)*) => {
        return Err($crate::engine::env::reject($code, $insn, format!($($arg)*)))
    };
}
pub(crate) use bail_reject;

/// The analysis environment.
pub struct Env<'a> {
    /// The object (maps).
    pub obj: &'a Object,
    /// The program.
    pub prog: &'a Program,
    /// Program type.
    pub prog_type: ProgType,
    /// Decoded instructions (`None` for the second ld_imm64 slot).
    pub insns: Vec<Option<Result<Insn, IsaError>>>,
    /// `id_gen`.
    pub id_gen: u32,
    /// `insn_processed`.
    pub insn_processed: u64,
    /// `jmps_processed`.
    pub jmps_processed: u64,
    /// `prev_insn_processed` / `prev_jmps_processed` at the last new state.
    pub prev_insn_processed: u64,
    /// See `prev_insn_processed`.
    pub prev_jmps_processed: u64,
    /// `insn_aux_data[].ptr_type` for `save_aux_ptr_type`.
    pub aux_ptr_type: Vec<Option<BaseType>>,
    /// Privileged (root: `allow_ptr_leaks`, `bpf_capable`, `allow_uninit_stack`,
    /// `bypass_spec_v1/v4`).
    pub privileged: bool,
    /// `strict_alignment` (`BPF_F_STRICT_ALIGNMENT` without `BPF_F_ANY_ALIGNMENT`).
    pub strict_alignment: bool,
    /// `BPF_F_TEST_STATE_FREQ`: a new state at every prune point.
    pub test_state_freq: bool,
    /// Deepest stack used by each function (by first instruction).
    pub stack_depth: std::collections::HashMap<usize, i32>,
    /// Global functions called so far, verified after the main program.
    pub called_globals: Vec<super::global::GlobalFunc>,
    /// Verifying a global function (exit rules differ).
    pub in_global: bool,
    /// Per map: the special fields of its value (`btf_record`); the inner
    /// maps of map-in-map follow the object's maps.
    pub map_fields: Vec<super::mem::MapFields>,
    /// The inner map definitions of map-in-map maps (`inner_map_meta`),
    /// numbered after the object's maps.
    pub inner_maps: Vec<crate::object::MapDef>,
    /// Per object map: the index of its inner map, for map-in-map.
    pub inner_of: Vec<Option<u32>>,
    /// First instruction of every function (`subprog_info[].start`): 0, call
    /// targets and function-pointer targets, sorted.
    pub subprog_starts: Vec<usize>,
    /// A path pushed by the instruction just checked (`push_callback_call`,
    /// `may_goto`): its first instruction and state.
    pub pushed: Option<(usize, crate::state::VerifierState)>,
    /// Stored states of the current exploration (`explored_states`).
    pub ckpts: Vec<super::prune::Checkpoint>,
    /// The stored state the current path descends from (`parent`).
    pub cur_ckpt: Option<usize>,
    /// The instructions of the current path since `cur_ckpt`.
    pub hist: Vec<super::precision::Hist>,
    /// The kernel-style log, when asked for.
    pub log: Option<super::log::VLog>,
    /// Read marks set (`mark_read` in the kernel's summary line).
    pub mark_read: u64,
    /// Most states stored at one instruction (`max_states_per_insn`).
    pub max_states_per_insn: u64,
    /// The memory access being checked, until it is proven.
    pub cur_obligation: Option<super::obligation::Obligation>,
    /// Memory accesses checked.
    pub obligations: u64,
    /// Branch decisions of the current path.
    pub decisions: super::obligation::DecisionList,
    /// The state and path at the instruction that failed.
    pub failure: Option<(crate::state::VerifierState, super::obligation::DecisionList)>,
    /// Where the current exploration started (0, or a global function).
    pub path_start: usize,
    /// The registers at `path_start`.
    pub path_entry: Vec<crate::state::RegState>,
    /// Record the ctx and packet obligations proved (`check --prove`).
    pub collect_proved: bool,
    /// The proved obligations recorded, with their paths (first visit of
    /// each instruction).
    pub proved: Vec<super::Failure>,
    /// Beyond the kernel: keep exploring the other paths after an error
    /// and collect the errors met ([`Env::errors`]).
    pub collect_errors: bool,
    /// The errors collected in that mode, in the order met, with the state,
    /// the path and the access of each.
    pub errors: Vec<CollectedError>,
    /// Wall-clock deadline and the limit it came from (`CheckOptions::timeout`).
    pub deadline: Option<(std::time::Instant, std::time::Duration)>,
    /// States visited per instruction (`CheckOptions::collect_states`).
    pub visited: Option<Vec<Vec<super::collect::VisitedRegs>>>,
    /// States collected so far.
    pub collected: usize,
    /// The CFG pass's result (loops, for the complexity limit's report).
    pub cfg: Option<Box<crate::cfg::CfgInfo>>,
    /// The program's arena map (`prog->aux->arena`), by map index.
    pub arena: Option<u32>,
    /// A reached kfunc call with BTF id 0 (`check_kfunc_call` skips it;
    /// `fixup_kfunc_call` rejects it unless dead-code elimination removed it).
    pub zero_kfunc_call: Option<usize>,
    /// `bpf_fastcall` pattern marks (`mark_fastcall_patterns`).
    pub fastcall: Option<super::fastcall::Fastcall>,
}

/// One error met while collecting several ([`Env::collect_errors`]).
#[derive(Clone, Debug)]
pub struct CollectedError {
    /// The error.
    pub finding: Finding,
    /// The state before the failing instruction.
    pub state: crate::state::VerifierState,
    /// The branch decisions that led there.
    pub path: super::obligation::DecisionList,
    /// The access that could not be proven, when it is one.
    pub obligation: Option<super::obligation::Obligation>,
}

impl<'a> Env<'a> {
    /// The map numbered `m`: one of the object's, or an inner map.
    pub fn map(&self, m: u32) -> Option<&crate::object::MapDef> {
        let m = m as usize;
        let n = self.obj.maps.len();
        if m < n {
            self.obj.maps.get(m)
        } else {
            self.inner_maps.get(m - n)
        }
    }

    /// Every map: the object's, then the inner maps.
    pub fn all_maps(&self) -> impl Iterator<Item = &crate::object::MapDef> {
        self.obj.maps.iter().chain(self.inner_maps.iter())
    }

    /// A fresh environment for `prog`.
    pub fn new(obj: &'a Object, prog: &'a Program, prog_type: ProgType, privileged: bool) -> Self {
        let mut env = Env {
            obj,
            prog,
            prog_type,
            insns: decode_all(&prog.insns),
            id_gen: 0,
            insn_processed: 0,
            jmps_processed: 0,
            prev_insn_processed: 0,
            prev_jmps_processed: 0,
            aux_ptr_type: vec![None; prog.insns.len()],
            privileged,
            strict_alignment: false,
            test_state_freq: false,
            stack_depth: std::collections::HashMap::new(),
            called_globals: Vec::new(),
            in_global: false,
            subprog_starts: Vec::new(),
            pushed: None,
            ckpts: Vec::new(),
            cur_ckpt: None,
            hist: Vec::new(),
            log: None,
            mark_read: 0,
            max_states_per_insn: 0,
            cur_obligation: None,
            obligations: 0,
            decisions: None,
            failure: None,
            path_start: 0,
            path_entry: Vec::new(),
            collect_proved: false,
            proved: Vec::new(),
            collect_errors: false,
            errors: Vec::new(),
            map_fields: Vec::new(),
            inner_maps: Vec::new(),
            inner_of: Vec::new(),
            deadline: None,
            visited: None,
            collected: 0,
            cfg: None,
            arena: None,
            zero_kfunc_call: None,
            fastcall: None,
        };
        for m in &obj.maps {
            env.inner_of.push(m.inner.as_ref().map(|inner| {
                env.inner_maps.push((**inner).clone());
                (obj.maps.len() + env.inner_maps.len() - 1) as u32
            }));
        }
        env.map_fields = obj
            .maps
            .iter()
            .chain(env.inner_maps.iter())
            .map(|m| super::mem::map_fields(obj, m.btf_value_type_id))
            .collect();
        let mut starts = vec![0];
        for (i, d) in env.insns.iter().enumerate() {
            let target = match d {
                Some(Ok(Insn::Call(crate::isa::CallKind::Local(imm)))) => *imm,
                Some(Ok(Insn::LdImm64 {
                    pseudo: crate::isa::raw::BPF_PSEUDO_FUNC,
                    imm,
                    ..
                })) => *imm,
                _ => continue,
            };
            starts.push((i as i64 + target as i64 + 1) as usize);
        }
        starts.sort_unstable();
        starts.dedup();
        env.subprog_starts = starts;
        env
    }

    /// The end (exclusive) of the function starting at `start`.
    pub fn subprog_end(&self, start: usize) -> usize {
        self.subprog_starts
            .iter()
            .find(|&&x| x > start)
            .copied()
            .unwrap_or(self.insns.len())
            .min(self.insns.len())
    }

    /// The kernel's `func#N` number of the function starting at `start`.
    pub fn subprog_number(&self, start: usize) -> usize {
        self.subprog_starts
            .iter()
            .position(|&s| s == start)
            .unwrap_or(0)
    }

    /// Records on the current instruction's history entry that it spilled
    /// to or filled from stack slot `spi` of frame `frameno`
    /// (`insn_stack_access_flags`).
    pub fn hist_stack_access(&mut self, frameno: usize, spi: usize) {
        if let Some(h) = self.hist.last_mut() {
            h.flags |= super::precision::F_STACK_ACCESS;
            h.frameno = frameno as u8;
            h.spi = spi as u8;
        }
    }

    /// `Err(unsupported(timeout))` once the deadline has passed; checked
    /// every few thousand instructions so that a pathological program ends.
    #[inline]
    pub fn check_deadline(&self, insn: usize) -> Result<(), Stop> {
        match self.deadline {
            Some((at, limit))
                if self.insn_processed.is_multiple_of(1024) && std::time::Instant::now() >= at =>
            {
                Err(unsupported(
                    insn,
                    format!("{TIMEOUT_PREFIX}{} s", fmt_secs(limit)),
                ))
            }
            _ => Ok(()),
        }
    }

    /// `++env->id_gen`.
    pub fn new_id(&mut self) -> u32 {
        self.id_gen += 1;
        self.id_gen
    }
}

/// Seconds as the user wrote them: `2`, `0.5`.
fn fmt_secs(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}
