//! Subprogram discovery and the per-subprogram jump checks:
//! `add_subprog`, `add_subprog_and_kfunc`, `check_subprogs` and
//! `bpf_find_exception_callback_insn_off` of `kernel/bpf/verifier.c`.

use super::{CfgError, CfgErrorKind, CfgOptions};
use crate::isa::RawInsn;
use crate::isa::raw::*;
use crate::object::FuncInfoEntry;
use crate::object::btf::{Btf, BtfKind, BtfTypeKind, FuncLinkage};
use crate::platform::helper_name;

/// `BPF_MAX_SUBPROGS` of `include/linux/bpf_verifier.h`.
pub const BPF_MAX_SUBPROGS: usize = 256;

/// One entry of the subprogram table (the CFG part of the kernel's
/// `struct bpf_subprog_info`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubprogInfo {
    /// First instruction.
    pub start: usize,
    /// One past the last instruction (the next subprogram's start).
    pub end: usize,
    /// The function symbol, when the object names it.
    pub name: Option<String>,
    /// Calls `bpf_tail_call` itself (`has_tail_call`).
    pub has_tail_call: bool,
    /// `tail_call_reachable` as `check_subprogs` sets it (the subprogram
    /// itself calls `bpf_tail_call`; the kernel propagates it to callers
    /// later, in `check_max_stack_depth`).
    pub tail_call_reachable: bool,
    /// Uses legacy `LD_ABS`/`LD_IND` (`has_ld_abs`).
    pub has_ld_abs: bool,
    /// Calls a helper that changes packet data, directly or through a
    /// callee seen earlier in the walk (`changes_pkt_data`).
    pub changes_pkt_data: bool,
    /// Target of a bpf-to-bpf `call`.
    pub called: bool,
    /// Target of an `ld_imm64` function pointer (a callback).
    pub is_cb: bool,
    /// The exception callback (`is_exception_cb`).
    pub is_exception_cb: bool,
}

/// `bpf_pseudo_func`: `ld_imm64` with `src_reg == BPF_PSEUDO_FUNC`.
pub(crate) fn bpf_pseudo_func(i: &RawInsn) -> bool {
    i.is_ldimm64() && i.src == BPF_PSEUDO_FUNC
}

/// `bpf_pseudo_call`: a bpf-to-bpf call.
pub(crate) fn bpf_pseudo_call(i: &RawInsn) -> bool {
    i.code == BPF_JMP | BPF_CALL && i.src == BPF_PSEUDO_CALL
}

/// `bpf_pseudo_kfunc_call`: a kfunc call.
pub(crate) fn bpf_pseudo_kfunc_call(i: &RawInsn) -> bool {
    i.code == BPF_JMP | BPF_CALL && i.src == BPF_PSEUDO_KFUNC_CALL
}

/// `bpf_helper_call`: a helper call.
pub(crate) fn bpf_helper_call(i: &RawInsn) -> bool {
    i.code == BPF_JMP | BPF_CALL && i.src == 0
}

/// `i + imm + 1` in the kernel's (wrapping) `int` arithmetic.
pub(crate) fn rel_target(i: usize, delta: i32) -> i32 {
    (i as i32).wrapping_add(delta).wrapping_add(1)
}

/// The subprogram containing `off` (`find_containing_subprog`).
fn find_containing_subprog(subs: &[SubprogInfo], off: usize) -> Option<usize> {
    let i = subs.partition_point(|s| s.start <= off);
    i.checked_sub(1)
}

/// Mirrors `add_subprog`: registers a subprogram starting at `off` and keeps
/// the table sorted; returns its index.
pub fn add_subprog(
    subs: &mut Vec<SubprogInfo>,
    insn_cnt: usize,
    off: i32,
    at: usize,
) -> Result<usize, CfgError> {
    let Ok(off) = usize::try_from(off) else {
        return Err(invalid_destination(at));
    };
    if off >= insn_cnt {
        return Err(invalid_destination(at));
    }
    if let Some(i) = find_containing_subprog(subs, off)
        && subs.get(i).is_some_and(|s| s.start == off)
    {
        return Ok(i);
    }
    if subs.len() >= BPF_MAX_SUBPROGS {
        return Err(CfgError::new(
            CfgErrorKind::TooManySubprograms,
            at,
            "too many subprograms",
        ));
    }
    let pos = subs.partition_point(|s| s.start < off);
    subs.insert(
        pos,
        SubprogInfo {
            start: off,
            ..SubprogInfo::default()
        },
    );
    Ok(pos)
}

fn invalid_destination(at: usize) -> CfgError {
    CfgError::new(
        CfgErrorKind::CallToInvalidDestination,
        at,
        "call to invalid destination",
    )
}

type Table = (Vec<SubprogInfo>, Option<usize>);

/// Mirrors `add_subprog_and_kfunc`: the entry, then every bpf-to-bpf call
/// target and `ld_imm64` function pointer in instruction order, then the
/// exception callback. Returns the sorted table (with `end` filled in) and
/// the exception callback's index; on error, the kernel's first error and a
/// best-effort table built by skipping whatever failed.
pub fn add_subprog_and_kfunc(
    insns: &[RawInsn],
    opts: &CfgOptions,
) -> Result<Table, (CfgError, Table)> {
    let n = insns.len();
    let mut subs = Vec::new();
    let mut first: Option<CfgError> = None;
    if let Err(e) = add_subprog(&mut subs, n, 0, 0) {
        first.get_or_insert(e);
    }
    let mut called = Vec::new();
    let mut cbs = Vec::new();
    for (i, insn) in insns.iter().enumerate() {
        let func = bpf_pseudo_func(insn);
        let call = bpf_pseudo_call(insn);
        if !func && !call && !bpf_pseudo_kfunc_call(insn) {
            continue;
        }
        if !opts.bpf_capable {
            first.get_or_insert(CfgError::new(
                CfgErrorKind::NotCapable,
                i,
                "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
            ));
        }
        if func || call {
            let target = rel_target(i, insn.imm);
            match add_subprog(&mut subs, n, target, i) {
                Ok(_) => {
                    let t = target as usize;
                    if call { &mut called } else { &mut cbs }.push(t);
                }
                Err(e) if e.kind == CfgErrorKind::TooManySubprograms => {
                    // Best effort: keep the table growing past the limit.
                    first.get_or_insert(e);
                    let pos = subs.partition_point(|s| s.start < target as usize);
                    subs.insert(
                        pos,
                        SubprogInfo {
                            start: target as usize,
                            ..SubprogInfo::default()
                        },
                    );
                }
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        // add_kfunc_call (BTF resolution of the kfunc) is not structural
        // and not modelled here.
    }
    let mut exc = None;
    if let Some(ex) = opts.exception_callback.filter(|&x| x > 0) {
        let off = i32::try_from(ex).unwrap_or(-1);
        match add_subprog(&mut subs, n, off, 0) {
            Ok(_) => {
                exc = (1..subs.len()).find(|&i| subs.get(i).is_some_and(|s| s.start == ex));
                if let Some(s) = exc.and_then(|i| subs.get_mut(i)) {
                    s.is_exception_cb = true;
                    s.is_cb = true;
                }
            }
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    subs.dedup_by_key(|s| s.start);
    let starts: Vec<usize> = subs.iter().map(|s| s.start).collect();
    for (k, s) in subs.iter_mut().enumerate() {
        s.end = starts.get(k + 1).copied().unwrap_or(n);
        s.called |= called.contains(&s.start);
        s.is_cb |= cbs.contains(&s.start);
    }
    match first {
        None => Ok((subs, exc)),
        Some(e) => Err((e, (subs, exc))),
    }
}

/// Mirrors `check_subprogs`: every jump stays inside its subprogram and the
/// last instruction of each subprogram is `exit` or an unconditional jump;
/// records `has_tail_call` and `has_ld_abs`. Continues past the first error
/// (to fill in the facts) but returns it.
pub fn check_subprogs(insns: &[RawInsn], subs: &mut [SubprogInfo]) -> Result<(), CfgError> {
    let mut first: Option<CfgError> = None;
    let Some(s0) = subs.first() else {
        return Ok(());
    };
    let mut cur = 0usize;
    let mut start = s0.start as i64;
    let mut end = s0.end as i64;
    for (i, insn) in insns.iter().enumerate() {
        let code = insn.code;
        if code == BPF_JMP | BPF_CALL && insn.src == 0 && insn.imm == 12 {
            // BPF_FUNC_tail_call
            if let Some(s) = subs.get_mut(cur) {
                s.has_tail_call = true;
                s.tail_call_reachable = true;
            }
        }
        let class = insn.class();
        let mode = code & 0xe0;
        if class == BPF_LD
            && (mode == BPF_ABS || mode == BPF_IND)
            && let Some(s) = subs.get_mut(cur)
        {
            s.has_ld_abs = true;
        }
        let op = code & 0xf0;
        if (class == BPF_JMP || class == BPF_JMP32) && op != BPF_EXIT && op != BPF_CALL {
            let off = if code == BPF_JMP32 | BPF_JA {
                rel_target(i, insn.imm)
            } else {
                rel_target(i, insn.off as i32)
            };
            if (off as i64) < start || (off as i64) >= end {
                first.get_or_insert(CfgError::new(
                    CfgErrorKind::JumpOutOfRange,
                    i,
                    format!("jump out of range from insn {i} to {off}"),
                ));
            }
        }
        if i as i64 == end - 1 {
            if code != BPF_JMP | BPF_EXIT && code != BPF_JMP32 | BPF_JA && code != BPF_JMP | BPF_JA
            {
                first.get_or_insert(CfgError::new(
                    CfgErrorKind::LastInsnNotExit,
                    i,
                    "last insn is not an exit or jmp",
                ));
            }
            start = end;
            cur += 1;
            if let Some(s) = subs.get(cur) {
                end = s.end as i64;
            }
        }
    }
    match first {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// `bpf_helper_changes_pkt_data` of `net/core/filter.c` (Linux 6.12), by name.
pub fn bpf_helper_changes_pkt_data(id: i32) -> bool {
    matches!(
        helper_name(id),
        Some(
            "bpf_clone_redirect"
                | "bpf_l3_csum_replace"
                | "bpf_l4_csum_replace"
                | "bpf_lwt_push_encap"
                | "bpf_lwt_seg6_action"
                | "bpf_lwt_seg6_adjust_srh"
                | "bpf_lwt_seg6_store_bytes"
                | "bpf_msg_pop_data"
                | "bpf_msg_pull_data"
                | "bpf_msg_push_data"
                | "bpf_skb_adjust_room"
                | "bpf_skb_change_head"
                | "bpf_skb_change_proto"
                | "bpf_skb_change_tail"
                | "bpf_skb_pull_data"
                | "bpf_skb_store_bytes"
                | "bpf_skb_vlan_pop"
                | "bpf_skb_vlan_push"
                | "bpf_store_hdr_opt"
                | "bpf_xdp_adjust_head"
                | "bpf_xdp_adjust_meta"
                | "bpf_xdp_adjust_tail"
                | "bpf_tail_call"
        )
    )
}

/// Mirrors `bpf_find_exception_callback_insn_off`: the instruction offset of
/// the function named by the main program's `exception_callback:` BTF decl
/// tag, or 0 when there is none. `func_info[0]` describes the main program.
pub fn bpf_find_exception_callback_insn_off(
    btf: &Btf,
    func_info: &[FuncInfoEntry],
) -> Result<usize, CfgError> {
    let err = |m: String| CfgError::new(CfgErrorKind::ExceptionCallback, 0, m);
    let Some(main) = func_info.first() else {
        return Ok(0);
    };
    let main_id = main.type_id;
    if btf.type_by_id(main_id).is_none() {
        return Err(err("invalid btf id for main subprog in func_info".into()));
    }
    // btf_find_decl_tag_value(btf, t, -1, "exception_callback:")
    const KEY: &str = "exception_callback:";
    let mut value: Option<String> = None;
    for (_, t) in btf.iter_types() {
        let BtfTypeKind::DeclTag {
            target,
            component_idx,
        } = t.kind
        else {
            continue;
        };
        if target != main_id || component_idx != -1 {
            continue;
        }
        let Some(name) = btf.str_at(t.name_off) else {
            continue;
        };
        let Some(v) = name.strip_prefix(KEY) else {
            continue;
        };
        if value.is_some() {
            return Err(err(
                "multiple exception callback tags for main subprog".into()
            ));
        }
        value = Some(v.to_string());
    }
    let Some(name) = value else {
        return Ok(0);
    };
    let Some(id) = btf.find_by_name_kind(&name, BtfKind::Func) else {
        return Err(err(format!(
            "exception callback '{name}' could not be found in BTF"
        )));
    };
    let global = matches!(
        btf.type_by_id(id).map(|t| &t.kind),
        Some(BtfTypeKind::Func {
            linkage: FuncLinkage::Global,
            ..
        })
    );
    if !global {
        return Err(err(format!(
            "exception callback '{name}' must have global linkage"
        )));
    }
    // The kernel keeps the last matching record's verdict.
    let mut ret: Option<Result<usize, CfgError>> = None;
    for f in func_info.iter().filter(|f| f.type_id == id) {
        ret = Some(if f.insn == 0 {
            Err(err(
                "invalid exception callback insn_off in func_info: 0".into()
            ))
        } else {
            Ok(f.insn)
        });
    }
    ret.unwrap_or_else(|| {
        Err(err(
            "exception callback type id not found in func_info".into()
        ))
    })
}
