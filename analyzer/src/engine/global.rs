//! Global functions (`BTF_FUNC_GLOBAL`): the kernel verifies each called
//! global function once, on its own, with argument types taken from its
//! BTF prototype (`btf_prepare_func_args`), and at each call site only
//! checks that the caller's registers match those types
//! (`btf_check_func_arg_match`); the call returns an unknown scalar.
//!
//! Modelled: `int`/`enum` arguments (scalars), pointers to the program
//! type's context struct (`PTR_TO_CTX`), pointers to sized types
//! (`PTR_TO_MEM | PTR_MAYBE_NULL`). Argument decl tags (`__arg_ctx`,
//! `__arg_nonnull`, ...), `void *` arguments and non-scalar return types are
//! reported as unsupported.

use super::env::{Env, Stop, bail_reject, unsupported};
use crate::object::btf::{BtfKind, BtfTypeKind};
use crate::platform::{AttachType, ProgType};
use crate::state::{BaseType, FuncState, RegState, TypeFlags, VerifierState};

/// One argument's type as `btf_prepare_func_args` classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// `ARG_ANYTHING`.
    Scalar,
    /// `ARG_PTR_TO_CTX`.
    Ctx,
    /// `ARG_PTR_TO_MEM` of `size` bytes; `PTR_MAYBE_NULL` unless tagged
    /// `__arg_nonnull`.
    Mem {
        /// Bytes.
        size: u32,
        /// `arg:nonnull`.
        nonnull: bool,
    },
    /// `ARG_PTR_TO_DYNPTR | MEM_RDONLY`: `struct bpf_dynptr *`.
    Dynptr,
    /// `ARG_PTR_TO_BTF_ID | PTR_TRUSTED` (`__arg_trusted`, maybe
    /// `__arg_nullable`) to a kernel struct.
    Trusted {
        /// The struct in the kernel BTF.
        btf_id: u32,
        /// `arg:nullable`.
        nullable: bool,
    },
    /// `ARG_PTR_TO_ARENA` (`__arg_arena`): the caller passes an arena
    /// pointer or a scalar; the function sees an unknown scalar.
    Arena,
}

/// A global function's prepared signature.
#[derive(Clone, Debug)]
pub struct GlobalFunc {
    /// First instruction.
    pub start: usize,
    /// Name.
    pub name: String,
    /// Arguments R1...
    pub args: Vec<ArgKind>,
}

/// The context struct names `btf_get_prog_ctx_type` accepts per program type.
pub(super) fn ctx_struct_name(t: ProgType) -> Option<&'static str> {
    use ProgType as P;
    Some(match t {
        P::SocketFilter
        | P::SchedCls
        | P::SchedAct
        | P::CgroupSkb
        | P::LwtIn
        | P::LwtOut
        | P::LwtXmit
        | P::LwtSeg6local
        | P::SkSkb => "__sk_buff",
        P::Xdp => "xdp_md",
        P::SockOps => "bpf_sock_ops",
        P::SkMsg => "sk_msg_md",
        P::CgroupSock => "bpf_sock",
        P::CgroupSockAddr => "bpf_sock_addr",
        P::PerfEvent => "bpf_perf_event_data",
        P::FlowDissector => "__sk_buff",
        P::RawTracepoint | P::RawTracepointWritable => "bpf_raw_tracepoint_args",
        P::SkLookup => "bpf_sk_lookup",
        P::CgroupDevice => "bpf_cgroup_dev_ctx",
        P::CgroupSysctl => "bpf_sysctl",
        P::CgroupSockopt => "bpf_sockopt",
        P::SkReuseport => "sk_reuseport_md",
        P::Netfilter => "bpf_nf_ctx",
        _ => return None,
    })
}

/// `btf_validate_prog_ctx_type` for an `__arg_ctx` argument pointing to
/// `target`: `Some(false)` when the kernel refuses it, `None` for program
/// types whose rules are not modelled.
fn validate_prog_ctx_type(
    btf: &crate::object::btf::Btf,
    target: u32,
    prog_type: ProgType,
    attach_type: Option<AttachType>,
) -> Option<bool> {
    use crate::object::btf::BtfKind as K;
    // Skip modifiers but not typedefs (kprobe/perf_event accept the
    // `bpf_user_pt_regs_t` typedef itself).
    let mut t = target;
    for _ in 0..32 {
        match btf.type_by_id(t).map(|x| x.kind()) {
            Some(K::Const | K::Volatile | K::Restrict | K::TypeTag) => {
                t = btf.type_by_id(t)?.ref_type()?;
            }
            _ => break,
        }
    }
    if matches!(prog_type, ProgType::Kprobe | ProgType::PerfEvent)
        && btf.type_by_id(t).map(|x| x.kind()) == Some(K::Typedef)
        && btf.name_of(t) == "bpf_user_pt_regs_t"
    {
        return Some(true);
    }
    let r = btf.skip_mods_and_typedefs(t);
    let ty = btf.type_by_id(r);
    if r == 0 || matches!(ty.map(|x| &x.kind), Some(BtfTypeKind::Void) | None) {
        return Some(true);
    }
    let ty = ty?;
    let tname = btf.name_of(r);
    let is_struct = ty.kind() == K::Struct;
    let int8 = matches!(ty.kind, BtfTypeKind::Int { size: 8, .. });
    Some(match prog_type {
        ProgType::Kprobe | ProgType::PerfEvent if is_struct && tname == "pt_regs" => true,
        ProgType::RawTracepoint | ProgType::RawTracepointWritable if int8 => true,
        ProgType::Tracepoint | ProgType::Syscall | ProgType::Ext => true,
        // The canonical ctx type of these is `void *`: anything not allowed
        // by the special cases must be `void *` ("should be void pointer").
        ProgType::Tracing => match attach_type {
            Some(AttachType::TraceRawTp) => {
                (is_struct && tname == "bpf_raw_tracepoint_args") || int8
            }
            Some(AttachType::TraceIter) => is_struct && tname.starts_with("bpf_iter__"),
            Some(AttachType::TraceFentry | AttachType::TraceFexit | AttachType::ModifyReturn) => {
                int8
            }
            _ => false,
        },
        ProgType::Lsm | ProgType::StructOps => int8,
        other => match ctx_struct_name(other) {
            Some(c) => is_struct && tname == c,
            None => return None,
        },
    })
}

/// Context structs of program types (a global function argument pointing
/// to one is the context: `btf_is_prog_ctx_type`).
const CTX_NAMES: &[&str] = &[
    "__sk_buff",
    "xdp_md",
    "pt_regs",
    "user_pt_regs",
    "bpf_perf_event_data",
    "bpf_sock_ops",
    "sk_msg_md",
    "bpf_sock_addr",
    "bpf_sock",
    "bpf_sk_lookup",
    "bpf_sysctl",
    "bpf_sockopt",
    "bpf_cgroup_dev_ctx",
    "sk_reuseport_md",
    "bpf_raw_tracepoint_args",
    "bpf_nf_ctx",
    "bpf_flow_keys",
];

/// `btf_prepare_func_args` for the global function starting at `start`.
pub fn prepare_func_args(env: &Env<'_>, idx: usize, start: usize) -> Result<GlobalFunc, Stop> {
    let btf = env
        .obj
        .btf
        .as_ref()
        .ok_or_else(|| unsupported(idx, "global function without BTF"))?;
    let fi = env
        .prog
        .func_info
        .iter()
        .find(|f| f.insn == start)
        .ok_or_else(|| unsupported(idx, "global function without func_info"))?;
    let name = btf.name_of(fi.type_id).to_string();
    // Argument decl tags (`arg:ctx`, ...) per parameter index.
    let mut tags: Vec<(i32, String)> = Vec::new();
    for (_, t) in btf.iter_types() {
        if let BtfTypeKind::DeclTag {
            target,
            component_idx,
        } = t.kind
            && target == fi.type_id
            && let Some(tag) = btf.str_at(t.name_off).and_then(|n| n.strip_prefix("arg:"))
        {
            tags.push((component_idx, tag.to_string()));
        }
    }
    if tags.iter().any(|(_, t)| {
        !matches!(
            t.as_str(),
            "ctx" | "nonnull" | "nullable" | "trusted" | "arena"
        )
    }) {
        return Err(unsupported(
            idx,
            format!("argument tags of global function {name}()"),
        ));
    }
    let invalid_combination = |i: i32| {
        Stop::Reject(super::Finding {
            code: "BPF407",
            message: format!("arg#{i} has invalid combination of tags"),
            insn: Some(idx),
            more: Vec::new(),
        })
    };
    let (ret, params) = btf
        .func_proto_of(fi.type_id)
        .ok_or_else(|| unsupported(idx, format!("global function {name}() without a prototype")))?;
    let scalar = |id: u32| {
        let id = btf.skip_mods_and_typedefs(id);
        btf.type_by_id(id)
            .is_some_and(|t| matches!(t.kind(), BtfKind::Int | BtfKind::Enum | BtfKind::Enum64))
    };
    if !scalar(ret) {
        return Err(unsupported(
            idx,
            format!("global function {name}() that does not return a scalar"),
        ));
    }
    if params.len() > 5 {
        return Err(unsupported(
            idx,
            format!("global function {name}() with more than 5 arguments"),
        ));
    }
    let mut args = Vec::new();
    for p in params {
        if scalar(p.type_id) {
            if tags.iter().any(|(i, _)| *i == args.len() as i32) {
                return Err(unsupported(
                    idx,
                    format!("argument tags of global function {name}()"),
                ));
            }
            args.push(ArgKind::Scalar);
            continue;
        }
        let t = btf.skip_mods_and_typedefs(p.type_id);
        let Some(BtfTypeKind::Ptr { target }) = btf.type_by_id(t).map(|t| &t.kind) else {
            return Err(unsupported(
                idx,
                format!(
                    "argument type {} of {name}()",
                    btf.type_to_string(p.type_id)
                ),
            ));
        };
        let pointee = btf.skip_mods_and_typedefs(*target);
        let pname = btf.name_of(pointee);
        let arg_no = args.len() as i32;
        let has = |tag: &str| tags.iter().any(|(i, t)| *i == arg_no && t == tag);
        let (t_ctx, t_nonnull, t_nullable, t_trusted, t_arena) = (
            has("ctx"),
            has("nonnull"),
            has("nullable"),
            has("trusted"),
            has("arena"),
        );
        if t_ctx && (t_nonnull || t_nullable || t_trusted || t_arena) {
            return Err(invalid_combination(arg_no));
        }
        if !t_ctx
            && pname == "bpf_dynptr"
            && btf.type_by_id(pointee).map(|t| t.kind()) == Some(BtfKind::Struct)
            && ctx_struct_name(env.prog_type) != Some(pname)
        {
            // btf_is_dynptr_ptr: no tags allowed.
            if t_nonnull || t_nullable || t_trusted || t_arena {
                return Err(invalid_combination(arg_no));
            }
            args.push(ArgKind::Dynptr);
            continue;
        }
        if t_trusted {
            if t_nonnull {
                return Err(invalid_combination(arg_no));
            }
            // btf_get_ptr_to_btf_id: the same-named kernel struct.
            let kernel = crate::object::btf::bundled_vmlinux_btf()
                .ok()
                .filter(|_| btf.type_by_id(pointee).map(|t| t.kind()) == Some(BtfKind::Struct))
                .and_then(|k| k.find_by_name_kind(essential_name(pname), BtfKind::Struct));
            let Some(btf_id) = kernel else {
                return Err(unsupported(
                    idx,
                    format!("argument tags of global function {name}()"),
                ));
            };
            args.push(ArgKind::Trusted {
                btf_id,
                nullable: t_nullable,
            });
            continue;
        }
        if t_arena {
            // The kernel looks for a context type (btf_is_prog_ctx_type)
            // before the arena tag; those are left undecided here.
            let ctx_like = ctx_struct_name(env.prog_type) == Some(pname)
                || (env.prog_type == ProgType::Kprobe
                    && matches!(pname, "pt_regs" | "user_pt_regs"))
                || CTX_NAMES.contains(&pname);
            if ctx_like {
                return Err(unsupported(
                    idx,
                    format!("argument tags of global function {name}()"),
                ));
            }
            if t_nonnull || t_nullable {
                return Err(Stop::Reject(super::Finding {
                    code: "BPF407",
                    message: format!("arg#{arg_no} arena cannot be combined with any other tags"),
                    insn: Some(idx),
                    more: Vec::new(),
                }));
            }
            args.push(ArgKind::Arena);
            continue;
        }
        if t_nullable {
            return Err(invalid_combination(arg_no));
        }
        if t_ctx {
            // `__arg_ctx`.
            match validate_prog_ctx_type(btf, *target, env.prog_type, env.prog.attach_type) {
                Some(true) => {
                    args.push(ArgKind::Ctx);
                    continue;
                }
                Some(false) => {
                    return Err(Stop::Reject(super::Finding {
                        code: "BPF407",
                        message: match ctx_struct_name(env.prog_type) {
                            Some(c) => format!("arg#{arg_no} should be `struct {c} *`"),
                            None => format!("arg#{arg_no} should be void pointer"),
                        },
                        insn: Some(idx),
                        more: Vec::new(),
                    }));
                }
                None => {
                    return Err(unsupported(
                        idx,
                        format!("argument tags of global function {name}()"),
                    ));
                }
            }
        }
        let ctx_name = match env.prog_type {
            ProgType::Kprobe if matches!(pname, "pt_regs" | "user_pt_regs") => Some(pname),
            t => ctx_struct_name(t),
        };
        if ctx_name == Some(pname) {
            if t_nonnull {
                return Err(invalid_combination(arg_no));
            }
            args.push(ArgKind::Ctx);
            continue;
        }
        if CTX_NAMES.contains(&pname) {
            return Err(unsupported(
                idx,
                format!("context argument struct {pname} of {name}()"),
            ));
        }
        let sized = btf.type_by_id(pointee).is_some_and(|t| {
            matches!(
                t.kind(),
                BtfKind::Int | BtfKind::Enum | BtfKind::Enum64 | BtfKind::Struct | BtfKind::Union
            )
        });
        match btf.resolve_size(pointee) {
            Ok(sz) if sized && sz > 0 && sz < 1 << 29 => args.push(ArgKind::Mem {
                size: sz as u32,
                nonnull: t_nonnull,
            }),
            _ => {
                return Err(unsupported(
                    idx,
                    format!(
                        "argument type {} of {name}()",
                        btf.type_to_string(p.type_id)
                    ),
                ));
            }
        }
    }
    Ok(GlobalFunc { start, name, args })
}

/// `btf_check_func_arg_match` at a call site, then the call's effect:
/// R0 an unknown scalar, R1–R5 cleared.
pub fn check_global_call(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    g: &GlobalFunc,
    subprog_no: usize,
) -> Result<(), Stop> {
    for (i, a) in g.args.iter().enumerate() {
        let regno = i + 1;
        super::regs::check_reg_read(env, st, idx, regno)?;
        let reg = st.cur().regs[regno].clone();
        let fail = |msg: String| -> Stop {
            Stop::Reject(super::Finding {
                code: "BPF407",
                message: msg,
                insn: Some(idx),
                more: vec![format!(
                    "Caller passes invalid args into func#{subprog_no} ('{}')",
                    g.name
                )],
            })
        };
        match a {
            ArgKind::Scalar => {
                if !reg.is_scalar() {
                    return Err(fail(format!("R{regno} is not a scalar")));
                }
            }
            ArgKind::Ctx => {
                if reg.base != BaseType::Ctx {
                    return Err(fail(format!("arg#{i} expects pointer to ctx")));
                }
                if reg.off != 0 || !reg.var.is_const() || reg.var.var_off.value != 0 {
                    return Err(unsupported(
                        idx,
                        "modified ctx pointer passed to a global function",
                    ));
                }
            }
            ArgKind::Mem { size, nonnull } => {
                if reg.is_null() {
                    continue;
                }
                super::call::check_mem_reg(env, st, idx, regno, u64::from(*size))?;
                if *nonnull && reg.may_be_null() {
                    return Err(fail(format!("arg#{i} is expected to be non-NULL")));
                }
            }
            ArgKind::Dynptr => {
                if reg.base == BaseType::DynptrPtr {
                    super::mem::check_ptr_off_reg(idx, regno, &reg)?;
                }
                let arg = super::dynptr::DynptrArg {
                    uninit: false,
                    rdonly: true,
                    ty: crate::state::DynptrType::Invalid,
                };
                super::dynptr::process_dynptr_func(env, st, idx, regno, arg, 0).map_err(
                    |e| match e {
                        Stop::Reject(mut f) => {
                            f.more.push(format!(
                                "Caller passes invalid args into func#{subprog_no} ('{}')",
                                g.name
                            ));
                            Stop::Reject(f)
                        }
                        other => other,
                    },
                )?;
            }
            ArgKind::Arena => {
                if reg.base != BaseType::Arena && !reg.is_scalar() {
                    return Err(fail(format!(
                        "R{regno} is not a pointer to arena or scalar."
                    )));
                }
            }
            ArgKind::Trusted { btf_id, nullable } => {
                // register_is_null on a nullable argument, then check_reg_type
                // against btf_ptr_types and check_func_arg_reg_off.
                if *nullable && reg.is_null() {
                    continue;
                }
                let mut f = reg.flags.0;
                if *nullable {
                    f &= !TypeFlags::MAYBE_NULL;
                }
                if reg.base != BaseType::BtfId
                    || !(f == 0 || f == TypeFlags::TRUSTED || f == TypeFlags::RCU)
                {
                    return Err(fail(format!(
                        "R{regno} type={} expected=ptr_, trusted_ptr_, rcu_ptr_",
                        reg.type_str()
                    )));
                }
                let kbtf = crate::object::btf::bundled_vmlinux_btf()
                    .map_err(|e| unsupported(idx, format!("kernel BTF: {e}")))?;
                match super::kfunc::btf_struct_ids_match_off(
                    kbtf, reg.btf_id, reg.off, *btf_id, false,
                ) {
                    None => {
                        return Err(unsupported(
                            idx,
                            format!("argument passed to trusted argument of {}()", g.name),
                        ));
                    }
                    Some(false) => {
                        return Err(fail(format!(
                            "R{regno} is of type {} but {} is expected",
                            kbtf.name_of(reg.btf_id),
                            kbtf.name_of(*btf_id)
                        )));
                    }
                    Some(true) => {}
                }
                super::mem::check_ptr_off_reg_fixed_ok(idx, regno, &reg, true)?;
            }
        }
    }
    for r in 0..=5 {
        st.cur_mut().regs[r] = RegState::not_init();
    }
    st.cur_mut().regs[0] = RegState::unknown_scalar();
    // A global function that may change packet data invalidates the
    // caller's packet pointers (`changes_pkt_data` of the subprogram).
    if super::global::may_change_pkt_data(env, g.start) {
        st.for_each_reg(|r| {
            if r.base.is_pkt_pointer_any() {
                *r = RegState::unknown_scalar();
            }
        });
    }
    if env.called_globals.iter().all(|c| c.start != g.start) {
        env.called_globals.push(g.clone());
    }
    Ok(())
}

/// The initial state of a global function's own verification.
pub fn global_entry_state(env: &mut Env<'_>, g: &GlobalFunc) -> VerifierState {
    let mut f = FuncState::new(0);
    f.subprog_start = g.start;
    for (i, a) in g.args.iter().enumerate() {
        f.regs[i + 1] = match a {
            ArgKind::Scalar => RegState::unknown_scalar(),
            ArgKind::Ctx => RegState::pointer(BaseType::Ctx),
            ArgKind::Mem { size, nonnull } => {
                let mut r = RegState::pointer(BaseType::Mem);
                r.mem_size = *size;
                if !*nonnull {
                    r.flags.0 |= TypeFlags::MAYBE_NULL;
                    r.id = env.new_id();
                }
                r
            }
            ArgKind::Dynptr => {
                // "assume unspecial LOCAL dynptr type"
                super::dynptr::mark_dynptr_cb_reg(env, crate::state::DynptrType::Local)
            }
            ArgKind::Trusted { btf_id, nullable } => {
                let mut r = RegState::pointer(BaseType::BtfId);
                r.btf_id = *btf_id;
                r.flags.0 |= TypeFlags::TRUSTED;
                if *nullable {
                    r.flags.0 |= TypeFlags::MAYBE_NULL;
                    r.id = env.new_id();
                }
                r
            }
            // mark_reg_unknown: the caller may pass a scalar.
            ArgKind::Arena => RegState::unknown_scalar(),
        };
    }
    VerifierState::with_frame(f)
}

/// The exit of a global function: R0 must be a scalar.
pub fn check_global_exit(env: &mut Env<'_>, st: &VerifierState, idx: usize) -> Result<(), Stop> {
    super::regs::check_reg_read(env, st, idx, 0)?;
    let r0 = &st.cur().regs[0];
    if !r0.is_scalar() {
        bail_reject!(
            "BPF205",
            idx,
            "At subprogram exit the register R0 is not a scalar value ({})",
            r0.type_str()
        );
    }
    Ok(())
}

/// True when the function starting at `start`, or any function it calls,
/// calls a helper that changes packet data (`bpf_helper_changes_pkt_data`,
/// merged over callees as `merge_callee_effects` does).
pub fn may_change_pkt_data(env: &Env<'_>, start: usize) -> bool {
    use crate::isa::{CallKind, Insn};
    let mut seen = vec![start];
    let mut todo = vec![start];
    while let Some(s) = todo.pop() {
        let end = env.subprog_end(s);
        for i in s..end {
            match env.insns.get(i) {
                Some(Some(Ok(Insn::Call(CallKind::Helper(id)))))
                    if super::call::changes_pkt_data(*id) =>
                {
                    return true;
                }
                Some(Some(Ok(Insn::Call(CallKind::Local(imm))))) => {
                    let t = (i as i64 + *imm as i64 + 1) as usize;
                    if !seen.contains(&t) {
                        seen.push(t);
                        todo.push(t);
                    }
                }
                _ => {}
            }
        }
    }
    false
}

/// `bpf_core_essential_name_len`: a type name without its `___flavor`.
fn essential_name(name: &str) -> &str {
    match name.find("___") {
        Some(i) => &name[..i],
        None => name,
    }
}
