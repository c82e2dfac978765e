//! kfunc calls (`check_kfunc_call`) and reads through BTF pointers
//! (`check_ptr_to_btf_access` / `btf_struct_access`), for the part of the
//! kfunc protocol bpfproof models: kfuncs from the generated 6.12 sets
//! (`platform::kfuncs_data`) with `KF_ACQUIRE`, `KF_RELEASE`, `KF_RET_NULL`,
//! `KF_TRUSTED_ARGS`, `KF_RCU`, `KF_SLEEPABLE`, `KF_DESTRUCTIVE` and the
//! iterator flags (`iter`); scalar arguments, `__ign`, `__sz`/`__szk`,
//! `__opt`, `__uninit` and `__map` arguments, ctx and memory arguments,
//! pointers to kernel structs (`btf_struct_ids_match`, with the `__sk_buff`
//! / `xdp_md` projections), dynptr arguments (`dynptr`); scalar,
//! struct-pointer and dynptr-slice results, and the casts
//! `bpf_cast_to_kern_ctx` / `bpf_rdonly_cast`. Everything else (the other
//! special kfuncs, other argument-name suffixes, sets with a filter or a
//! condition the kernel BTF cannot confirm) is reported as unsupported.
//!
//! Prototypes come from the target kernel's BTF, looked up by the kfunc's
//! name; with the default target this is the bundled 6.18 BTF.

use super::env::{Env, Stop, bail_reject, unsupported};
use crate::object::btf::{Btf, BtfTypeKind, bundled_vmlinux_btf};
use crate::platform::ProgType;
use crate::platform::kfuncs_data::{
    KF_ACQUIRE, KF_DESTRUCTIVE, KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RCU, KF_RELEASE,
    KF_RET_NULL, KF_SLEEPABLE, KF_TRUSTED_ARGS, KFUNC_SETS, KFUNCS, SPECIAL_KFUNCS,
};
use crate::state::{BaseType, RegState, TypeFlags, VerifierState};

/// `bpf_prog_type_to_kfunc_hook`: program types sharing a hook share the
/// registered sets.
fn kfunc_hook(t: &str) -> &str {
    match t {
        "TRACING" | "TRACEPOINT" | "PERF_EVENT" | "LSM" => "TRACING",
        "LWT_IN" | "LWT_OUT" | "LWT_XMIT" | "LWT_SEG6LOCAL" => "LWT",
        other => other,
    }
}

/// The flags of kfunc `name` for `prog_type` (`btf_kfunc_id_set_contains`:
/// the common hook, then the program type's), or why it cannot be decided.
fn kfunc_flags(name: &str, prog_type: ProgType) -> Result<Option<u32>, String> {
    let pt = prog_type.name().to_ascii_uppercase();
    let hook = kfunc_hook(&pt).to_string();
    let mut found = None;
    for e in KFUNCS.iter().filter(|e| e.name == name) {
        for reg in KFUNC_SETS.iter().filter(|r| r.set == e.set) {
            let applies = reg
                .prog_types
                .iter()
                .any(|p| *p == "UNSPEC" || kfunc_hook(p) == hook);
            if !applies {
                continue;
            }
            // An `#if` around the entry is known to hold when the function
            // is in the kernel's BTF (it was compiled in).
            let entry_ok = e.cond.is_none()
                || bundled_vmlinux_btf().is_ok_and(|b| {
                    b.find_by_name_kind(name, crate::object::btf::BtfKind::Func)
                        .is_some()
                });
            if reg.filter.is_some() || reg.cond.is_some() || !entry_ok {
                return Err(format!(
                    "kfunc {name}: its set {} depends on a filter or kernel configuration",
                    e.set
                ));
            }
            found = Some(found.unwrap_or(0) | e.flags);
        }
    }
    Ok(found)
}

/// The target BTF, for prototypes and struct layouts.
fn target_btf(idx: usize) -> Result<&'static Btf, Stop> {
    bundled_vmlinux_btf().map_err(|e| unsupported(idx, format!("kernel BTF: {e}")))
}

/// The struct a pointer type points to, skipping modifiers and typedefs.
fn pointee_struct(btf: &Btf, ptr: u32) -> Option<u32> {
    let t = btf.skip_mods_and_typedefs(ptr);
    let BtfTypeKind::Ptr { target } = btf.type_by_id(t)?.kind else {
        return None;
    };
    let s = btf.skip_mods_and_typedefs(target);
    matches!(btf.type_by_id(s)?.kind, BtfTypeKind::Struct { .. }).then_some(s)
}

/// The pointee of pointer type `ptr`, modifiers and typedefs skipped
/// (`btf_type_skip_modifiers`).
fn pointer_target(btf: &Btf, ptr: u32) -> Option<u32> {
    let t = btf.skip_mods_and_typedefs(ptr);
    let BtfTypeKind::Ptr { target } = btf.type_by_id(t)?.kind else {
        return None;
    };
    Some(btf.skip_mods_and_typedefs(target))
}

/// `__btf_type_is_scalar_struct`: a struct or union whose members are
/// scalars, arrays of scalars or such structs, nested at most 3 deep.
fn is_scalar_struct(btf: &Btf, id: u32, rec: u32) -> bool {
    let Some(BtfTypeKind::Struct { members, .. } | BtfTypeKind::Union { members, .. }) =
        btf.type_by_id(id).map(|t| &t.kind)
    else {
        return false;
    };
    members.iter().all(|m| {
        let mt = btf.skip_mods_and_typedefs(m.type_id);
        match btf.type_by_id(mt).map(|t| &t.kind) {
            Some(BtfTypeKind::Struct { .. } | BtfTypeKind::Union { .. }) => {
                rec < 3 && is_scalar_struct(btf, mt, rec + 1)
            }
            Some(BtfTypeKind::Array { elem, nelems, .. }) => {
                *nelems != 0 && is_scalar_type(btf, btf.skip_mods_and_typedefs(*elem))
            }
            _ => is_scalar_type(btf, mt),
        }
    })
}

fn is_scalar_type(btf: &Btf, id: u32) -> bool {
    let t = btf.skip_mods_and_typedefs(id);
    matches!(
        btf.type_by_id(t).map(|t| &t.kind),
        Some(BtfTypeKind::Int { .. } | BtfTypeKind::Enum { .. } | BtfTypeKind::Enum64 { .. })
    )
}

/// `btf_struct_walk` with size 1 at a non-zero `off`, for
/// `btf_struct_ids_match`: `Some(Some(id))` when a nested struct starts
/// there (`WALK_STRUCT`), `Some(None)` when none does, `None` when the
/// walk meets an array (not modelled).
pub(super) fn btf_struct_at(btf: &Btf, id: u32, mut off: u32) -> Option<Option<u32>> {
    let mut t = btf.skip_mods_and_typedefs(id);
    for _ in 0..16 {
        let Some(BtfTypeKind::Struct { members, .. } | BtfTypeKind::Union { members, .. }) =
            btf.type_by_id(t).map(|x| &x.kind)
        else {
            return Some(None);
        };
        let mut next = None;
        for m in members {
            if m.bitfield_size != 0 || m.bit_offset % 8 != 0 {
                continue;
            }
            let moff = m.bit_offset / 8;
            let Ok(msize) = btf.resolve_size(m.type_id) else {
                continue;
            };
            if off < moff || u64::from(off) >= u64::from(moff) + msize {
                continue;
            }
            let mt = btf.skip_mods_and_typedefs(m.type_id);
            match btf.type_by_id(mt).map(|x| &x.kind) {
                Some(BtfTypeKind::Struct { .. } | BtfTypeKind::Union { .. }) => {
                    if off == moff {
                        return Some(Some(mt));
                    }
                    next = Some((mt, off - moff));
                }
                Some(BtfTypeKind::Array { .. }) => return None,
                _ => return Some(None),
            }
            break;
        }
        let Some((nt, noff)) = next else {
            return Some(None);
        };
        t = nt;
        off = noff;
    }
    None
}

/// `btf_struct_ids_match` with the register's fixed offset: `None` when
/// the walk meets what bpfproof does not model.
pub(super) fn btf_struct_ids_match_off(
    btf: &Btf,
    have: u32,
    off: i32,
    want: u32,
    strict: bool,
) -> Option<bool> {
    if off == 0 {
        return Some(btf_struct_ids_match(btf, have, want, strict));
    }
    if strict || off < 0 {
        return Some(false);
    }
    match btf_struct_at(btf, have, off as u32)? {
        Some(inner) => Some(btf_struct_ids_match(btf, inner, want, false)),
        None => Some(false),
    }
}

/// `btf_struct_ids_match` at offset 0: the same struct, or (unless
/// `strict`) a struct whose first member is, recursively, the wanted one.
pub(super) fn btf_struct_ids_match(btf: &Btf, mut have: u32, want: u32, strict: bool) -> bool {
    for _ in 0..16 {
        if have == want {
            return true;
        }
        if strict {
            return false;
        }
        let Some(t) = btf.type_by_id(btf.skip_mods_and_typedefs(have)) else {
            return false;
        };
        let BtfTypeKind::Struct { members, .. } = &t.kind else {
            return false;
        };
        let Some(first) = members.first().filter(|m| m.bit_offset == 0) else {
            return false;
        };
        let next = btf.skip_mods_and_typedefs(first.type_id);
        if !matches!(
            btf.type_by_id(next).map(|t| &t.kind),
            Some(BtfTypeKind::Struct { .. })
        ) {
            return false;
        }
        have = next;
    }
    false
}

/// `is_trusted_reg` for BTF pointers: referenced, or trusted without an
/// unsafe modifier.
pub(super) fn is_trusted_reg(reg: &RegState) -> bool {
    reg.ref_obj_id != 0
        || (reg.flags.has(TypeFlags::TRUSTED) && !reg.flags.has(TypeFlags::UNTRUSTED))
}

/// The struct a helper's `ret_btf_id` names (`btf_tracing_ids[...]`).
pub fn helper_ret_struct(ret_btf_id: &str, idx: usize) -> Result<u32, Stop> {
    let name = match ret_btf_id {
        "&btf_tracing_ids[BTF_TRACING_TYPE_TASK]" => "task_struct",
        "&btf_tracing_ids[BTF_TRACING_TYPE_FILE]" => "file",
        "&btf_tracing_ids[BTF_TRACING_TYPE_VMA]" => "vm_area_struct",
        "&btf_seq_file_ids[0]" => "seq_file",
        "&bpf_cgroup_btf_id[0]" => "cgroup",
        "&bpf_d_path_btf_ids[0]" => "path",
        "&bpf_skb_output_btf_ids[0]" => "sk_buff",
        "&bpf_xdp_output_btf_ids[0]" => "xdp_buff",
        "&tcp_sock_id" => "tcp_sock",
        "&btf_sock_ids[BTF_SOCK_TYPE_SOCK_COMMON]" => "sock_common",
        "&btf_sock_ids[BTF_SOCK_TYPE_TCP]" => "tcp_sock",
        "&btf_sock_ids[BTF_SOCK_TYPE_TCP6]" => "tcp6_sock",
        "&btf_sock_ids[BTF_SOCK_TYPE_UDP6]" => "udp6_sock",
        "&btf_sock_ids[BTF_SOCK_TYPE_MPTCP]" => "mptcp_sock",
        "&btf_sock_ids[BTF_SOCK_TYPE_TCP_TW]" => "tcp_timewait_sock",
        "&btf_sock_ids[BTF_SOCK_TYPE_TCP_REQ]" => "tcp_request_sock",
        "&btf_sock_ids[BTF_SOCK_TYPE_UNIX]" => "unix_sock",
        other => {
            return Err(unsupported(
                idx,
                format!("helper result of BTF type {other}"),
            ));
        }
    };
    let btf = target_btf(idx)?;
    btf.find_by_name_kind(name, crate::object::btf::BtfKind::Struct)
        .ok_or_else(|| unsupported(idx, format!("struct {name} is not in the kernel BTF")))
}

/// `check_kfunc_call`.
pub fn check_kfunc_call(env: &mut Env<'_>, st: &mut VerifierState, idx: usize) -> Result<(), Stop> {
    let Some(name) = env
        .prog
        .externs
        .iter()
        .find(|e| e.insn == idx && e.kind == "kfunc")
        .map(|e| e.name.clone())
    else {
        if env
            .prog
            .insns
            .get(idx)
            .is_some_and(|i| i.imm == 0 && i.off == 0)
        {
            // check_kfunc_call: "skip for now, but return error when we
            // find this in fixup_kfunc_call" -- the registers stay as they are.
            env.zero_kfunc_call.get_or_insert(idx);
            return Ok(());
        }
        return Err(unsupported(idx, "kfunc call without a resolved extern"));
    };
    if !env.obj.gpl_compatible() {
        bail_reject!(
            "BPF403",
            idx,
            "cannot call kernel function from non-GPL compatible program"
        );
    }
    if matches!(name.as_str(), "bpf_cast_to_kern_ctx" | "bpf_rdonly_cast") {
        if kfunc_flags(&name, env.prog_type)
            .map_err(|why| unsupported(idx, why))?
            .is_none()
        {
            bail_reject!(
                "BPF402",
                idx,
                "calling kernel function {} is not allowed",
                name
            );
        }
        return check_cast_kfunc(env, st, idx, &name);
    }
    if SPECIAL_KFUNCS.contains(&name.as_str()) && !DYNPTR_KFUNCS.contains(&name.as_str()) {
        return Err(unsupported(idx, format!("special kfunc {name}")));
    }
    let flags = match kfunc_flags(&name, env.prog_type) {
        Err(why) => return Err(unsupported(idx, why)),
        Ok(None) => bail_reject!(
            "BPF402",
            idx,
            "calling kernel function {} is not allowed",
            name
        ),
        Ok(Some(f)) => f,
    };
    let known = KF_ACQUIRE
        | KF_RELEASE
        | KF_RET_NULL
        | KF_TRUSTED_ARGS
        | KF_SLEEPABLE
        | KF_DESTRUCTIVE
        | KF_RCU
        | KF_ITER_NEW
        | KF_ITER_NEXT
        | KF_ITER_DESTROY;
    let iter_op = if flags & KF_ITER_NEW != 0 {
        Some(super::iter::IterOp::New)
    } else if flags & KF_ITER_NEXT != 0 {
        Some(super::iter::IterOp::Next)
    } else if flags & KF_ITER_DESTROY != 0 {
        Some(super::iter::IterOp::Destroy)
    } else {
        None
    };
    let mut iter_loc = None;
    let mut iter_ref = 0;
    // is_kfunc_trusted_args: release functions take trusted arguments too.
    let trusted_args = flags & (KF_TRUSTED_ARGS | KF_RELEASE) != 0;
    let rcu = flags & KF_RCU != 0;
    if flags & !known != 0 {
        return Err(unsupported(
            idx,
            format!("kfunc {name} with flags {flags:#x}"),
        ));
    }
    if flags & KF_SLEEPABLE != 0 && !env.prog.sleepable {
        bail_reject!(
            "BPF404",
            idx,
            "program must be sleepable to call sleepable kfunc {}",
            name
        );
    }
    let btf = target_btf(idx)?;
    let Some(func) = btf.find_by_name_kind(&name, crate::object::btf::BtfKind::Func) else {
        return Err(unsupported(
            idx,
            format!("kfunc {name} is not in the kernel BTF"),
        ));
    };
    let Some((ret, params)) = btf.func_proto_of(func) else {
        return Err(unsupported(idx, format!("kfunc {name} has no prototype")));
    };
    if params.len() > 5 {
        return Err(unsupported(
            idx,
            format!("kfunc {name} with more than 5 arguments"),
        ));
    }
    let mut release_ref = None;
    let mut skip_size_arg = false;
    // meta->initialized_dynptr and meta->arg_constant.
    let mut initialized_dynptr: Option<RegState> = None;
    let mut arg_constant: Option<u64> = None;
    for (i, p) in params.iter().enumerate() {
        let regno = i + 1;
        let pname = btf.str_at(p.name_off).unwrap_or("");
        if std::mem::take(&mut skip_size_arg) {
            // The size of the KF_ARG_PTR_TO_MEM_SIZE pair, checked with it.
            continue;
        }
        if pname.ends_with("__ign") {
            // is_kfunc_arg_ignore: the verifier does not look at it.
            continue;
        }
        if pname.ends_with("__map") && !is_scalar_type(btf, p.type_id) {
            // KF_ARG_PTR_TO_MAP.
            super::regs::check_reg_read(env, st, idx, regno)?;
            let reg = st.cur().regs[regno].clone();
            if (trusted_args || rcu) && (reg.may_be_null() || reg.is_null()) {
                bail_reject!(
                    "BPF405",
                    idx,
                    "Possibly NULL pointer passed to trusted arg{}",
                    i
                );
            }
            super::arena::process_kf_arg_ptr_to_map(
                env,
                idx,
                &name,
                i,
                &reg,
                trusted_args,
                rcu,
                flags & KF_RELEASE != 0,
            )?;
            continue;
        }
        let known_suffix = ["__sz", "__szk", "__opt", "__uninit"]
            .iter()
            .any(|x| pname.ends_with(x));
        if pname.contains("__") && !known_suffix {
            return Err(unsupported(
                idx,
                format!("kfunc {name} argument {pname} (annotated argument)"),
            ));
        }
        super::regs::check_reg_read(env, st, idx, regno)?;
        let reg = st.cur().regs[regno].clone();
        if let (Some(op), 0) = (iter_op, i) {
            // KF_ARG_PTR_TO_ITER: the first argument of an iterator kfunc.
            let Some(it) = pointee_struct(btf, p.type_id) else {
                return Err(unsupported(idx, format!("iterator kfunc {name} argument")));
            };
            let size = btf.resolve_size(it).unwrap_or(0) as u32;
            let tname = btf.name_of(it).to_string();
            let (loc, r) =
                super::iter::process_iter_arg(env, st, idx, regno, op, it, &tname, size)?;
            iter_loc = Some(loc);
            iter_ref = r;
            continue;
        }
        if is_scalar_type(btf, p.type_id) {
            if !reg.is_scalar() {
                bail_reject!("BPF405", idx, "R{} is not a scalar", regno);
            }
            continue;
        }
        if (trusted_args || rcu) && (reg.may_be_null() || (reg.is_null())) {
            bail_reject!(
                "BPF405",
                idx,
                "Possibly NULL pointer passed to trusted arg{}",
                i
            );
        }
        // get_kfunc_ptr_arg_type: a pointer to the program's context
        // struct first (btf_is_prog_ctx_type), then BTF pointers, then
        // memory (with a `__sz` size after it).
        let pointee = pointer_target(btf, p.type_id);
        let pointee_name = pointee.map_or("", |t| btf.name_of(t));
        if pointee.is_some_and(|t| {
            matches!(
                btf.type_by_id(t).map(|x| &x.kind),
                Some(BtfTypeKind::Struct { .. })
            )
        }) && super::global::ctx_struct_name(env.prog_type) == Some(pointee_name)
        {
            if reg.base == BaseType::Ctx {
                super::mem::check_ptr_off_reg_fixed_ok(idx, regno, &reg, false)?;
            }
            if reg.base != BaseType::Ctx || reg.flags.0 != 0 {
                bail_reject!(
                    "BPF405",
                    idx,
                    "arg#{} expected pointer to ctx, but got {}",
                    i,
                    reg.type_str()
                );
            }
            continue;
        }
        if pointee_name == "bpf_dynptr" {
            // KF_ARG_PTR_TO_DYNPTR
            let d = process_kfunc_dynptr_arg(
                env,
                st,
                idx,
                regno,
                &name,
                pname.ends_with("__uninit"),
                initialized_dynptr.as_ref(),
            )?;
            if d.is_some() {
                initialized_dynptr = d;
            }
            continue;
        }
        let next_name = params
            .get(i + 1)
            .and_then(|q| btf.str_at(q.name_off))
            .unwrap_or("");
        let next_scalar = params
            .get(i + 1)
            .is_some_and(|q| is_scalar_type(btf, q.type_id))
            && st.cur().regs[regno + 1].is_scalar();
        if next_scalar && next_name.ends_with("__szk") {
            // KF_ARG_PTR_TO_MEM_SIZE with a constant size: the memory is
            // checked unless it is an optional NULL.
            let Some(t) = pointee else {
                return Err(unsupported(idx, format!("kfunc {name} argument {pname}")));
            };
            let void = btf.type_by_id(t).is_none() || t == 0;
            if !(void || is_scalar_type(btf, t) || is_scalar_struct(btf, t, 0)) {
                return Err(unsupported(
                    idx,
                    format!(
                        "kfunc {name} argument {pname} of type {}",
                        btf.type_to_string(p.type_id)
                    ),
                ));
            }
            super::regs::check_reg_read(env, st, idx, regno + 1)?;
            if !(reg.is_null() && pname.ends_with("__opt")) {
                super::call::check_kfunc_mem_size_reg(env, st, idx, regno + 1)?;
            }
            let sreg = &st.cur().regs[regno + 1];
            if !sreg.var.is_const() {
                bail_reject!("BPF405", idx, "R{} must be a known constant", regno + 1);
            }
            arg_constant = Some(sreg.var.var_off.value);
            skip_size_arg = true;
            continue;
        }
        let sock_reg = matches!(
            reg.base,
            BaseType::Socket | BaseType::SockCommon | BaseType::TcpSock | BaseType::XdpSock
        );
        if reg.base != BaseType::BtfId && !sock_reg && reg.is_pointer() {
            let next_name = params
                .get(i + 1)
                .and_then(|q| btf.str_at(q.name_off))
                .unwrap_or("");
            let mem_size = next_name.ends_with("__sz") && st.cur().regs[regno + 1].is_scalar();
            if next_name.ends_with("__szk") {
                return Err(unsupported(
                    idx,
                    format!("kfunc {name} constant-size memory argument {pname}"),
                ));
            }
            let Some(t) = pointee else {
                return Err(unsupported(idx, format!("kfunc {name} argument {pname}")));
            };
            let void = btf.type_by_id(t).is_none() || t == 0;
            if !(is_scalar_type(btf, t) || is_scalar_struct(btf, t, 0) || (mem_size && void)) {
                return Err(unsupported(
                    idx,
                    format!(
                        "kfunc {name} argument {pname}: {} passed for {}",
                        reg.type_str(),
                        btf.type_to_string(p.type_id)
                    ),
                ));
            }
            if mem_size {
                super::regs::check_reg_read(env, st, idx, regno + 1)?;
                super::call::check_kfunc_mem_size_reg(env, st, idx, regno + 1)?;
                skip_size_arg = true;
            } else {
                let size = btf.resolve_size(t).map_err(|e| {
                    unsupported(idx, format!("kfunc {name} argument {pname} size: {e}"))
                })?;
                super::call::check_mem_reg(env, st, idx, regno, size)?;
            }
            continue;
        }
        let Some(want) = pointee_struct(btf, p.type_id) else {
            return Err(unsupported(
                idx,
                format!(
                    "kfunc {name} argument {pname} of type {}",
                    btf.type_to_string(p.type_id)
                ),
            ));
        };
        let strict = flags & KF_RELEASE != 0 && reg.ref_obj_id != 0;
        // btf_is_projection_of: a kfunc taking `struct __sk_buff *` or
        // `struct xdp_md *` accepts the kernel struct behind it.
        let taking_projection = reg.base == BaseType::BtfId
            && matches!(
                (btf.name_of(want), btf.name_of(reg.btf_id)),
                ("__sk_buff", "sk_buff") | ("xdp_md", "xdp_buff")
            );
        if reg.base != BaseType::BtfId
            || reg.off != 0
            || !(taking_projection || btf_struct_ids_match(btf, reg.btf_id, want, strict))
        {
            return Err(unsupported(
                idx,
                format!("kfunc {name} argument {pname}: {} passed", reg.type_str()),
            ));
        }
        if reg.may_be_null() {
            return Err(unsupported(
                idx,
                format!("kfunc {name} argument {pname}: possibly NULL pointer"),
            ));
        }
        if (trusted_args || rcu) && !is_trusted_reg(&reg) {
            if !rcu {
                bail_reject!("BPF405", idx, "R{} must be referenced or trusted", regno);
            }
            if !reg.flags.has(TypeFlags::RCU) {
                bail_reject!("BPF405", idx, "R{} must be a rcu pointer", regno);
            }
        }
        if reg.ref_obj_id != 0 && flags & KF_RELEASE != 0 {
            if release_ref.is_some() {
                return Err(unsupported(
                    idx,
                    format!("release kfunc {name} with two referenced arguments"),
                ));
            }
            release_ref = Some(reg.ref_obj_id);
        }
    }
    if let Some(r) = release_ref {
        if !st.refs.iter().any(|x| x.0 == r) {
            bail_reject!(
                "BPF502",
                idx,
                "kernel function {} reference has not been acquired before",
                name
            );
        }
        st.refs.retain(|x| x.0 != r);
        st.for_each_reg(|reg| {
            if reg.ref_obj_id == r {
                *reg = RegState::unknown_scalar();
            }
        });
    } else if flags & KF_RELEASE != 0 {
        bail_reject!(
            "BPF502",
            idx,
            "release kernel function {} expects refcounted PTR_TO_BTF_ID",
            name
        );
    }
    for r in 0..=5 {
        st.cur_mut().regs[r] = RegState::not_init();
    }
    let ret_t = btf.skip_mods_and_typedefs(ret);
    let r0 = if matches!(name.as_str(), "bpf_dynptr_slice" | "bpf_dynptr_slice_rdwr") {
        let (Some(d), Some(size)) = (initialized_dynptr.as_ref(), arg_constant) else {
            bail_reject!(
                "BPF405",
                idx,
                "verifier internal error: bpf_dynptr_slice(_rdwr) no constant size"
            );
        };
        let mut r = RegState::pointer(BaseType::Mem);
        r.mem_size = size.min(u64::from(u32::MAX)) as u32;
        r.flags.0 |= super::dynptr::slice_type_flag(d.dynptr_type);
        if name == "bpf_dynptr_slice" {
            r.flags.0 |= TypeFlags::RDONLY;
        } else if !super::mem::may_access_direct_pkt_data_write(env) {
            bail_reject!(
                "BPF301",
                idx,
                "the prog does not allow writes to packet data"
            );
        }
        r.dynptr_id = d.id;
        if flags & KF_RET_NULL != 0 {
            r.flags.0 |= TypeFlags::MAYBE_NULL;
            r.id = env.new_id();
        }
        r
    } else if ret == 0 {
        RegState::not_init()
    } else if is_scalar_type(btf, ret_t) {
        RegState::unknown_scalar()
    } else if let Some(s) = pointee_struct(btf, ret) {
        let mut r = RegState::pointer(BaseType::BtfId);
        r.btf_id = s;
        if iter_op == Some(super::iter::IterOp::Next) {
            r.flags.0 |= TypeFlags::TRUSTED;
        }
        if flags & KF_RET_NULL != 0 {
            r.flags.0 |= TypeFlags::MAYBE_NULL;
            r.id = env.new_id();
        }
        if flags & KF_ACQUIRE != 0 {
            let id = env.new_id();
            st.refs.push((id, idx));
            if flags & KF_RET_NULL != 0 {
                r.id = id;
            }
            r.ref_obj_id = id;
        }
        r
    } else if pointer_target(btf, ret).is_some_and(|t| t == 0)
        && flags & (KF_RET_NULL | KF_ACQUIRE) == 0
    {
        // A kfunc returning `void *` returns a scalar.
        RegState::unknown_scalar()
    } else if iter_op == Some(super::iter::IterOp::Next)
        && let Some(sz) = pointee_size(btf, ret)
    {
        // A pointer to a non-struct: read-only memory of its size, valid
        // while the iterator's reference is held.
        let mut r = RegState::pointer(BaseType::Mem);
        r.flags.0 |= TypeFlags::RDONLY;
        r.mem_size = sz;
        r.ref_obj_id = iter_ref;
        if flags & KF_RET_NULL != 0 {
            r.flags.0 |= TypeFlags::MAYBE_NULL;
            r.id = env.new_id();
        }
        r
    } else {
        return Err(unsupported(
            idx,
            format!("kfunc {name} returning {}", btf.type_to_string(ret)),
        ));
    };
    if flags & KF_ACQUIRE != 0 && r0.ref_obj_id == 0 {
        return Err(unsupported(
            idx,
            format!("acquire kfunc {name} not returning a struct pointer"),
        ));
    }
    st.cur_mut().regs[0] = r0;
    if let (Some(super::iter::IterOp::Next), Some(loc)) = (iter_op, iter_loc) {
        super::iter::process_iter_next_call(env, st, idx, loc);
    }
    Ok(())
}

/// The special kfuncs of dynptrs that are modelled.
const DYNPTR_KFUNCS: &[&str] = &[
    "bpf_dynptr_from_skb",
    "bpf_dynptr_from_xdp",
    "bpf_dynptr_slice",
    "bpf_dynptr_slice_rdwr",
    "bpf_dynptr_clone",
];

/// `check_kfunc_args` for `KF_ARG_PTR_TO_DYNPTR`: returns the dynptr's
/// state for an initialised one (`meta->initialized_dynptr`).
fn process_kfunc_dynptr_arg(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    name: &str,
    uninit: bool,
    parent: Option<&RegState>,
) -> Result<Option<RegState>, Stop> {
    use crate::state::DynptrType as D;
    let reg = &st.cur().regs[regno];
    let rdonly = reg.base == BaseType::DynptrPtr;
    if rdonly && uninit {
        bail_reject!(
            "BPF405",
            idx,
            "verifier internal error: misconfigured dynptr helper type flags"
        );
    }
    let mut clone_ref_obj_id = 0;
    let ty = match name {
        "bpf_dynptr_from_skb" => D::Skb,
        "bpf_dynptr_from_xdp" => D::Xdp,
        "bpf_dynptr_clone" if uninit => {
            let Some(p) = parent.filter(|p| p.dynptr_type != D::Invalid) else {
                bail_reject!(
                    "BPF405",
                    idx,
                    "verifier internal error: no dynptr type for parent of clone"
                );
            };
            clone_ref_obj_id = p.ref_obj_id;
            p.dynptr_type
        }
        _ => D::Invalid,
    };
    let arg = super::dynptr::DynptrArg { uninit, rdonly, ty };
    super::dynptr::process_dynptr_func(env, st, idx, regno, arg, clone_ref_obj_id)
}

/// The size of what a pointer type points to, for non-struct pointees.
fn pointee_size(btf: &Btf, ptr: u32) -> Option<u32> {
    let t = btf.skip_mods_and_typedefs(ptr);
    let BtfTypeKind::Ptr { target } = btf.type_by_id(t)?.kind else {
        return None;
    };
    btf.resolve_size(target)
        .ok()
        .filter(|s| *s > 0)
        .map(|s| s as u32)
}

/// True when kfunc `name` has `KF_ITER_NEXT` in some set.
pub fn is_iter_next_kfunc(name: &str) -> bool {
    KFUNCS
        .iter()
        .any(|e| e.name == name && e.flags & KF_ITER_NEXT != 0)
}

/// What a read at `off` of `size` bytes finds inside struct `id`
/// (`btf_struct_walk`).
enum Walk {
    Scalar,
    /// A pointer member to a struct (`WALK_PTR`), and the member's name.
    Ptr(u32, String),
    Beyond {
        name: String,
    },
    Other(String),
}

fn btf_struct_walk(btf: &Btf, id: u32, off: u32, size: u32) -> Walk {
    let t = btf.skip_mods_and_typedefs(id);
    let Some(ty) = btf.type_by_id(t) else {
        return Walk::Other("unknown BTF type".into());
    };
    match &ty.kind {
        BtfTypeKind::Struct { size: ssz, members } | BtfTypeKind::Union { size: ssz, members } => {
            if off + size > *ssz {
                return Walk::Beyond {
                    name: btf.name_of(t).to_string(),
                };
            }
            for m in members {
                if m.bitfield_size != 0 || m.bit_offset % 8 != 0 {
                    continue;
                }
                let moff = m.bit_offset / 8;
                let Ok(msize) = btf.resolve_size(m.type_id) else {
                    continue;
                };
                let msize = msize as u32;
                if off < moff || off >= moff + msize {
                    continue;
                }
                if off + size > moff + msize {
                    return Walk::Other("a read across struct members".into());
                }
                return match btf_struct_walk(btf, m.type_id, off - moff, size) {
                    Walk::Ptr(t, name) if name.is_empty() => {
                        Walk::Ptr(t, btf.str_at(m.name_off).unwrap_or_default().to_string())
                    }
                    w => w,
                };
            }
            Walk::Other("a read of padding or a bitfield".into())
        }
        BtfTypeKind::Int { .. } | BtfTypeKind::Enum { .. } | BtfTypeKind::Enum64 { .. } => {
            Walk::Scalar
        }
        BtfTypeKind::Array { elem, .. } => {
            let Ok(esz) = btf.resolve_size(*elem) else {
                return Walk::Other("array of unsized elements".into());
            };
            if esz == 0 {
                return Walk::Other("array of empty elements".into());
            }
            let esz = esz as u32;
            btf_struct_walk(btf, *elem, off % esz, size)
        }
        BtfTypeKind::Ptr { target }
            if off == 0
                && size == 8
                && !matches!(
                    btf.type_by_id(*target).map(|t| &t.kind),
                    Some(BtfTypeKind::TypeTag { .. })
                ) =>
        {
            let s = btf.skip_mods_and_typedefs(*target);
            match btf.type_by_id(s).map(|t| &t.kind) {
                Some(BtfTypeKind::Struct { .. }) => Walk::Ptr(s, String::new()),
                _ => Walk::Other("pointer walks through BTF structs".into()),
            }
        }
        BtfTypeKind::Ptr { .. } => Walk::Other("pointer walks through BTF structs".into()),
        _ => Walk::Other(format!("a read of {}", btf.type_to_string(t))),
    }
}

/// `BTF_TYPE_SAFE_TRUSTED`, `_TRUSTED_OR_NULL`, `_RCU`, `_RCU_OR_NULL`
/// (Linux 6.12): (struct, pointer field) pairs whose trust a walk keeps.
const SAFE_TRUSTED: &[(&str, &str)] = &[
    ("bpf_iter_meta", "seq"),
    ("bpf_iter__task", "meta"),
    ("bpf_iter__task", "task"),
    ("linux_binprm", "file"),
    ("file", "f_inode"),
    ("dentry", "d_inode"),
];
const SAFE_TRUSTED_OR_NULL: &[(&str, &str)] = &[("socket", "sk")];
const SAFE_RCU: &[(&str, &str)] = &[
    ("task_struct", "cpus_ptr"),
    ("task_struct", "cgroups"),
    ("task_struct", "real_parent"),
    ("task_struct", "group_leader"),
    ("cgroup", "kn"),
    ("css_set", "dfl_cgrp"),
];
const SAFE_RCU_OR_NULL: &[(&str, &str)] = &[
    ("mm_struct", "exe_file"),
    ("sk_buff", "sk"),
    ("request_sock", "sk"),
];

/// The flags `check_ptr_to_btf_access` gives a pointer read from field
/// `field` of the struct `reg` points to (an untagged pointer member).
fn walked_ptr_flags(
    in_rcu_cs: bool,
    idx: usize,
    btf: &Btf,
    reg: &RegState,
    tname: &str,
    field: &str,
) -> Result<u32, Stop> {
    let _ = btf;
    let listed = |l: &[(&str, &str)]| l.iter().any(|(s, f)| *s == tname && *f == field);
    if reg.flags.has(TypeFlags::UNTRUSTED) {
        // Pointers formed by walking an untrusted pointer inherit
        // PTR_UNTRUSTED (and nothing else).
        return Ok(TypeFlags::UNTRUSTED);
    }
    if !(is_trusted_reg(reg) || reg.flags.has(TypeFlags::RCU)) {
        // Old compat: plain PTR_TO_BTF_ID.
        return Ok(0);
    }
    if listed(SAFE_TRUSTED) {
        return Ok(TypeFlags::TRUSTED);
    }
    if listed(SAFE_TRUSTED_OR_NULL) {
        return Ok(TypeFlags::TRUSTED | TypeFlags::MAYBE_NULL);
    }
    let _ = idx;
    // in_rcu_cs: bpf_rcu_read_lock() (not modelled, so never held here), a
    // held spin lock, or a non-sleepable program. Outside an RCU section
    // the walk yields an untrusted pointer.
    if !in_rcu_cs || reg.may_be_null() {
        return Ok(TypeFlags::UNTRUSTED);
    }
    if listed(SAFE_RCU) {
        return Ok(TypeFlags::RCU);
    }
    if listed(SAFE_RCU_OR_NULL) {
        return Ok(TypeFlags::RCU | TypeFlags::MAYBE_NULL);
    }
    Ok(0)
}

/// `map->ops->map_btf_id`: the kernel struct behind a map of this type.
fn map_btf_struct(map_type: u32) -> Option<&'static str> {
    Some(match map_type {
        2 | 3 | 4 | 6 | 8 | 12 => "bpf_array",
        1 | 5 | 9 | 10 | 13 => "bpf_htab",
        7 => "bpf_stack_map",
        11 => "lpm_trie",
        22 | 23 => "bpf_queue_stack",
        27 | 31 => "bpf_ringbuf_map",
        30 => "bpf_bloom_filter",
        33 => "bpf_arena",
        _ => return None,
    })
}

/// `check_ptr_to_map_access`: reads of `struct bpf_map` (and the struct
/// that embeds it for this map type) through a `map_ptr`.
#[allow(clippy::too_many_arguments)]
pub fn check_ptr_to_map_access(
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    map_type: u32,
    off: i32,
    size: i32,
    write: bool,
    dst: Option<usize>,
    privileged: bool,
) -> Result<(), Stop> {
    let Some(sname) = map_btf_struct(map_type) else {
        return Err(unsupported(
            idx,
            format!("map_ptr access for map type {map_type}"),
        ));
    };
    let btf = target_btf(idx)?;
    let Some(id) = btf.find_by_name_kind(sname, crate::object::btf::BtfKind::Struct) else {
        return Err(unsupported(
            idx,
            format!("struct {sname} not in the kernel BTF"),
        ));
    };
    if !privileged {
        bail_reject!(
            "BPF206",
            idx,
            "'struct {}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN",
            sname
        );
    }
    if off < 0 {
        bail_reject!(
            "BPF308",
            idx,
            "R{} is {} invalid negative access: off={}",
            regno,
            sname,
            off
        );
    }
    if write {
        bail_reject!("BPF308", idx, "only read from {} is supported", sname);
    }
    match btf_struct_walk(btf, id, off as u32, size as u32) {
        Walk::Scalar => {
            if let Some(d) = dst {
                st.cur_mut().regs[d] = RegState::unknown_scalar();
            }
            Ok(())
        }
        Walk::Ptr(target, _) => {
            if let Some(d) = dst {
                let mut r = RegState::pointer(BaseType::BtfId);
                r.btf_id = target;
                st.cur_mut().regs[d] = r;
            }
            Ok(())
        }
        Walk::Beyond { name } => bail_reject!(
            "BPF308",
            idx,
            "access beyond struct {} at off {} size {}",
            name,
            off,
            size
        ),
        Walk::Other(what) => Err(unsupported(idx, what)),
    }
}

/// `check_ptr_to_btf_access` for reads: scalar fields of a kernel struct.
#[allow(clippy::too_many_arguments)]
pub fn check_ptr_to_btf_access(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    reg: &RegState,
    off: i32,
    size: i32,
    write: bool,
    dst: Option<usize>,
) -> Result<(), Stop> {
    if reg.flags.0 & !(TypeFlags::TRUSTED | TypeFlags::RCU | TypeFlags::UNTRUSTED) != 0 {
        return Err(unsupported(
            idx,
            format!("reads through BTF pointers with flags {:#x}", reg.flags.0),
        ));
    }
    let btf = target_btf(idx)?;
    let tname = btf.name_of(reg.btf_id).to_string();
    if off < 0 {
        bail_reject!(
            "BPF308",
            idx,
            "R{} is ptr_{} invalid negative access: off={}",
            regno,
            tname,
            off
        );
    }
    if !reg.var.is_const() || reg.var.var_off.value != 0 {
        return Err(unsupported(idx, "variable offsets into BTF structs"));
    }
    if write {
        // Untrusted pointers are read-only; otherwise the program type's
        // btf_struct_access decides: tc and xdp delegate to nf_conntrack
        // (whether that module is loaded is not known offline), struct_ops
        // to the struct's ops; every other type has none and may only read
        // (allocated objects, the other exception, are not modelled here).
        if reg.flags.0 & TypeFlags::UNTRUSTED == 0
            && matches!(
                env.prog_type,
                ProgType::SchedCls | ProgType::SchedAct | ProgType::Xdp | ProgType::StructOps
            )
        {
            return Err(unsupported(
                idx,
                "writes through BTF pointers (the program type's btf_struct_access)",
            ));
        }
        bail_reject!("BPF308", idx, "only read is supported");
    }
    match btf_struct_walk(btf, reg.btf_id, off as u32, size as u32) {
        Walk::Scalar => {
            if let Some(d) = dst {
                st.cur_mut().regs[d] = RegState::unknown_scalar();
            }
            Ok(())
        }
        Walk::Ptr(target, field) => {
            let in_rcu_cs = !env.prog.sleepable || st.active_lock.is_some();
            let flags = walked_ptr_flags(in_rcu_cs, idx, btf, reg, &tname, &field)?;
            if let Some(d) = dst {
                let mut r = RegState::pointer(BaseType::BtfId);
                r.btf_id = target;
                r.flags.0 = flags;
                if flags & TypeFlags::MAYBE_NULL != 0 {
                    r.id = env.new_id();
                }
                st.cur_mut().regs[d] = r;
            }
            Ok(())
        }
        Walk::Beyond { name } => bail_reject!(
            "BPF308",
            idx,
            "access beyond struct {} at off {} size {}",
            name,
            off,
            size
        ),
        Walk::Other(what) => Err(unsupported(idx, what)),
    }
}

/// `bpf_cast_to_kern_ctx(ctx)` (KF_ARG_PTR_TO_CTX; returns a trusted pointer
/// to the program type's kernel context struct, `get_kern_ctx_btf_id`) and
/// `bpf_rdonly_cast(obj__ign, btf_id__k)` (an untrusted pointer to the
/// kernel struct or union with that BTF id).
fn check_cast_kfunc(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    name: &str,
) -> Result<(), Stop> {
    let btf = target_btf(idx)?;
    let mut r0 = RegState::pointer(BaseType::BtfId);
    if name == "bpf_cast_to_kern_ctx" {
        if matches!(env.prog_type, ProgType::Ext) {
            return Err(unsupported(
                idx,
                "bpf_cast_to_kern_ctx in freplace programs (the target's type)",
            ));
        }
        super::regs::check_reg_read(env, st, idx, 1)?;
        let reg = st.cur().regs[1].clone();
        if reg.base == BaseType::Ctx {
            super::mem::check_ptr_off_reg_fixed_ok(idx, 1, &reg, false)?;
        }
        if reg.base != BaseType::Ctx || reg.flags.0 != 0 {
            bail_reject!(
                "BPF405",
                idx,
                "arg#0 expected pointer to ctx, but got {}",
                reg.type_str()
            );
        }
        // The `<PROG_TYPE>_kern` member of struct bpf_ctx_convert.
        let member = format!(
            "BPF_PROG_TYPE_{}_kern",
            env.prog_type.name().to_ascii_uppercase()
        );
        let conv = btf
            .find_by_name_kind("bpf_ctx_convert", crate::object::btf::BtfKind::Struct)
            .ok_or_else(|| unsupported(idx, "struct bpf_ctx_convert not in the kernel BTF"))?;
        let kctx = match btf.type_by_id(conv).map(|t| &t.kind) {
            Some(BtfTypeKind::Struct { members, .. }) => members
                .iter()
                .find(|m| btf.str_at(m.name_off) == Some(member.as_str()))
                .map(|m| m.type_id),
            _ => None,
        }
        .ok_or_else(|| unsupported(idx, format!("{member} not in struct bpf_ctx_convert")))?;
        if !matches!(
            btf.type_by_id(kctx).map(|t| &t.kind),
            Some(BtfTypeKind::Struct { .. })
        ) {
            bail_reject!("BPF405", idx, "kern ctx type id {} is not a struct", kctx);
        }
        r0.btf_id = kctx;
        r0.flags.0 |= TypeFlags::TRUSTED;
    } else {
        // obj__ign is not looked at; btf_id__k must be a known constant.
        super::regs::check_reg_read(env, st, idx, 2)?;
        let reg = st.cur().regs[2].clone();
        if !reg.is_scalar() {
            bail_reject!("BPF405", idx, "R2 is not a scalar");
        }
        if !reg.var.is_const() {
            bail_reject!("BPF405", idx, "R2 must be a known constant");
        }
        super::precision::mark_chain_precision(env, st, 2);
        let id = reg.var.var_off.value;
        let is_struct = u32::try_from(id)
            .ok()
            .and_then(|id| btf.type_by_id(id))
            .is_some_and(|t| {
                matches!(
                    t.kind,
                    BtfTypeKind::Struct { .. } | BtfTypeKind::Union { .. }
                )
            });
        if !is_struct {
            bail_reject!(
                "BPF405",
                idx,
                "kfunc bpf_rdonly_cast type ID argument must be of a struct"
            );
        }
        r0.btf_id = id as u32;
        r0.flags.0 |= TypeFlags::UNTRUSTED;
    }
    for r in 0..=5 {
        st.cur_mut().regs[r] = RegState::not_init();
    }
    st.cur_mut().regs[0] = r0;
    Ok(())
}
