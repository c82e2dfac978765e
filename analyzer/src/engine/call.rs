//! `check_helper_call`: `get_helper_proto` through the generated prototype
//! table (with the `*_func_proto` path conditions), GPL-only and sleepable
//! helpers, `check_func_arg` for maps, keys and values, memory and sizes
//! (`MEM_UNINIT`, `MEM_RDONLY`, `MEM_WRITE`), ctx, sockets and BTF socket
//! pointers, ring-buffer memory, spin locks, kptrs, constant strings
//! (`check_reg_const_str`), dynptrs (`process_dynptr_func`, in `dynptr`)
//! and callbacks (`push_callback_call`: `bpf_loop`,
//! `bpf_for_each_map_elem`, `bpf_find_vma`, `bpf_user_ringbuf_drain`);
//! references (acquire/release, state-wide as in 6.13+);
//! `check_map_func_compatibility`; R0 per return type. Timers,
//! `bpf_snprintf`, `bpf_get/set_retval` and locks taken inside callbacks are
//! reported as unsupported.

use super::env::{Env, Stop, bail_reject, unsupported};
use super::mem::Access;
use super::precision::mark_chain_precision;
use super::regs::check_reg_read;
use crate::platform::protos::{
    ArgBase, ArgType, FuncProto, RetBase, TypeFlags as PF, func_proto_alternatives,
    privileged_condition,
};
use crate::platform::{MapType, ProgType, helper_name};
use crate::state::{BaseType, FuncState, RegState, TypeFlags, VerifierState};

/// `BPF_MAX_VAR_SIZ`.
const BPF_MAX_VAR_SIZ: u64 = 1 << 29;

/// What `check_func_arg` learns (`struct bpf_call_arg_meta`).
#[derive(Default)]
struct Meta {
    /// The function an `ARG_PTR_TO_FUNC` argument points to (`subprogno`).
    subprog: Option<usize>,
    map: Option<u32>,
    /// Register of the memory argument whose size comes next.
    mem_regno: Option<usize>,
    /// The helper may write the memory argument (all but `MEM_RDONLY`:
    /// 6.12's prototypes lack some of 6.18's `MEM_WRITE` flags).
    mem_clobber: bool,
    mem_write: bool,
    /// `msize_max_value`: umax of the last size argument.
    msize_max: u64,
    /// `ref_obj_id` of the argument a release function releases.
    release_ref: Option<u32>,
    /// `ref_obj_id` of a referenced argument (for pointer casts).
    ref_obj_id: Option<u32>,
    /// `mem_size` from an `ARG_CONST_ALLOC_SIZE_OR_ZERO` argument.
    alloc_size: Option<u64>,
    /// The kptr field of an `ARG_KPTR_XCHG_DEST` argument.
    kptr: Option<super::kptr::KptrField>,
    /// `const_map_key`: the constant key of an array lookup (Linux 6.13+).
    const_map_key: Option<u64>,
    /// The initialised dynptr argument (its slot register or the
    /// `CONST_PTR_TO_DYNPTR` register): id, type, reference.
    dynptr: Option<RegState>,
    /// Register of a dynptr argument the helper releases.
    release_dynptr: Option<usize>,
}

fn func_name(id: i32) -> &'static str {
    helper_name(id).unwrap_or("unknown")
}

/// Whether a condition on a `*_func_proto` path holds for this program and
/// a root loader; `None` when it cannot be decided offline.
/// Conditions of 6.12's `*_func_proto` paths that do not hold on the
/// recorded 6.18 kernel (its configuration, probed by loading a call of
/// each helper for each program type): `bpf_override_return`,
/// `bpf_probe_write_user` and the `bpf_lwt_seg6_*` helpers are refused
/// there ("program of this type cannot use helper").
const RECORDED_KERNEL_OFF: &[&str] = &[
    "CONFIG_BPF_KPROBE_OVERRIDE",
    "IS_ENABLED(CONFIG_IPV6_SEG6_BPF)",
    "security_locked_down(LOCKDOWN_BPF_WRITE_USER) >= 0",
];

fn prog_condition(env: &Env<'_>, c: &str) -> Option<bool> {
    use crate::platform::AttachType as A;
    if RECORDED_KERNEL_OFF.contains(&c) {
        return Some(false);
    }
    if privileged_condition(c) {
        return Some(true);
    }
    let (neg, c) = match c.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, c),
    };
    let attach = env.prog.attach_type;
    let v = match c {
        "is_kprobe_multi(prog)" => {
            matches!(attach, Some(A::TraceKprobeMulti | A::TraceKprobeSession))
        }
        "prog->sleepable" => env.prog.sleepable,
        _ => {
            // `prog->expected_attach_type == BPF_X` / `!= BPF_X`.
            let rest = c.strip_prefix("prog->expected_attach_type ")?;
            let (eq, name) = if let Some(n) = rest.strip_prefix("== ") {
                (true, n)
            } else {
                (false, rest.strip_prefix("!= ")?)
            };
            let want = A::from_name(name.trim())?;
            (attach == Some(want)) == eq
        }
    };
    Some(v != neg)
}

/// `check_helper_call`.
pub fn check_helper_call(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    id: i32,
) -> Result<(), Stop> {
    if helper_name(id).is_none() || id == 0 {
        bail_reject!("BPF401", idx, "invalid func {}#{}", func_name(id), id);
    }
    if st.active_lock.is_some() && func_name(id) != "bpf_spin_unlock" {
        bail_reject!(
            "BPF503",
            idx,
            "function calls are not allowed while holding a lock"
        );
    }
    let alts = if cgroup_retval_refused(env, id) {
        &[]
    } else {
        func_proto_alternatives(env.prog_type, id)
    };
    if alts.is_empty() && base_func_proto_618(env, id).is_none() {
        bail_reject!(
            "BPF402",
            idx,
            "program of this type cannot use helper {}#{}",
            func_name(id),
            id
        );
    }
    // The `*_func_proto` dispatchers in kernel order: the first path whose
    // conditions hold for this program and a root loader.
    let mut chosen = None;
    for alt in alts {
        let mut all = true;
        for c in alt.conds {
            match prog_condition(env, c) {
                Some(true) => {}
                Some(false) => {
                    all = false;
                    break;
                }
                None => {
                    return Err(unsupported(
                        idx,
                        format!(
                            "helper {} whose availability depends on `{c}`",
                            func_name(id)
                        ),
                    ));
                }
            }
        }
        if all {
            chosen = Some(alt);
            break;
        }
    }
    let proto: &FuncProto = match (chosen, base_func_proto_618(env, id)) {
        (Some(first), _) => first.proto,
        (None, Some(p)) => p,
        (None, None) => bail_reject!(
            "BPF402",
            idx,
            "program of this type cannot use helper {}#{}",
            func_name(id),
            id
        ),
    };
    if proto.gpl_only && !env.obj.gpl_compatible() {
        bail_reject!(
            "BPF403",
            idx,
            "cannot call GPL-restricted function from non-GPL compatible program"
        );
    }
    if proto.allowed.is_some() {
        return Err(unsupported(
            idx,
            format!("helper {} with an `allowed` predicate", func_name(id)),
        ));
    }
    if proto.might_sleep && !env.prog.sleepable {
        bail_reject!(
            "BPF404",
            idx,
            "helper call might sleep in a non-sleepable prog"
        );
    }
    if is_special_helper(func_name(id)) {
        return Err(unsupported(
            idx,
            format!(
                "helper {} (references, callbacks or special state)",
                func_name(id)
            ),
        ));
    }
    if func_name(id) == "bpf_tail_call" && st.frames.iter().any(|f| f.in_callback_fn) {
        return Err(unsupported(idx, "tail calls from callbacks"));
    }
    if func_name(id) == "bpf_tail_call" {
        super::explore::check_reference_leak(st, idx, "tail_call")?;
    }
    if func_name(id) == "bpf_get_local_storage" {
        // The flags argument must be 0: get_local_storage() cannot fail.
        let r2 = &st.cur().regs[2];
        if !(r2.is_null()) {
            check_reg_read(env, st, idx, 2)?;
            bail_reject!(
                "BPF405",
                idx,
                "get_local_storage() doesn't support non-zero flags"
            );
        }
        mark_chain_precision(env, st, 2);
    }
    let mut meta = Meta::default();
    for i in 0..5 {
        check_func_arg(
            env,
            st,
            idx,
            i,
            proto.args[i],
            proto.arg_sizes[i],
            proto.arg_btf_ids[i],
            &mut meta,
            id,
            proto.pkt_access,
        )?;
    }
    if let Some(m) = meta.map {
        check_map_func_compatibility(env, idx, m, id)?;
    }
    if func_name(id) == "bpf_tail_call" {
        // record_func_key: a constant in-range key is relied upon.
        let r3 = &st.cur().regs[3];
        let max = meta
            .map
            .and_then(|m| env.map(m))
            .map_or(0, |m| u64::from(m.max_entries));
        if r3.is_scalar() && r3.var.is_const() && r3.var.var_off.value < max {
            mark_chain_precision(env, st, 3);
        }
    }
    // References are state-wide since Linux 6.13 (6.12's `callback_ref` is
    // gone): a callback may acquire a reference its caller releases, or
    // release one of its caller's; leaks are found at the main program's
    // exit. Locks taken inside callbacks are not modelled.
    if st.frames.iter().any(|f| f.in_callback_fn)
        && matches!(func_name(id), "bpf_spin_lock" | "bpf_spin_unlock")
    {
        return Err(unsupported(idx, "locks inside callbacks"));
    }
    if let Some(r) = meta.release_ref {
        // release_reference: the reference and every pointer holding it.
        if !st.refs.iter().any(|x| x.0 == r) {
            bail_reject!(
                "BPF502",
                idx,
                "func {}#{} reference has not been acquired before",
                func_name(id),
                id
            );
        }
        st.refs.retain(|x| x.0 != r);
        st.for_each_reg(|reg| {
            if reg.ref_obj_id == r {
                *reg = RegState::unknown_scalar();
            }
        });
    }
    if let Some(r) = meta.release_dynptr {
        super::dynptr::release_dynptr_arg(st, idx, r)?;
    }
    let mut changes_data = bpf_helper_changes_pkt_data(func_name(id));
    match func_name(id) {
        "bpf_dynptr_from_mem" => {
            let r1 = &st.cur().regs[1];
            if r1.base != BaseType::MapValue {
                bail_reject!(
                    "BPF405",
                    idx,
                    "Unsupported reg type {} for bpf_dynptr_from_mem data",
                    r1.type_str()
                );
            }
        }
        // An skb dynptr write may move the packet: its slices and
        // packet pointers end (clear_all_pkt_pointers).
        "bpf_dynptr_write"
            if meta
                .dynptr
                .as_ref()
                .is_some_and(|d| d.dynptr_type == crate::state::DynptrType::Skb) =>
        {
            changes_data = true;
        }
        "bpf_user_ringbuf_drain" => {
            push_callback_call(env, st, idx, &meta, CallbackKind::UserRingbuf)?;
        }
        "bpf_loop" => {
            // The unrolling stops when the visits reach nr_loops
            // (`callback_depth < umax(R1)`); every scalar is precise here,
            // as mark_chain_precision(R1) makes it in the kernel.
            mark_chain_precision(env, st, 1);
            let nr_loops = st.cur().regs[1].var.umax;
            if st.cur().callback_depth < nr_loops {
                push_callback_call(env, st, idx, &meta, CallbackKind::Loop)?;
            } else {
                st.cur_mut().callback_depth = 0;
            }
        }
        "bpf_for_each_map_elem" => {
            push_callback_call(env, st, idx, &meta, CallbackKind::MapElem)?;
        }
        "bpf_find_vma" => {
            push_callback_call(env, st, idx, &meta, CallbackKind::FindVma)?;
        }
        _ => {}
    }
    // Reset caller-saved registers.
    for r in 1..=5 {
        st.cur_mut().regs[r] = RegState::not_init();
    }
    if let Some(m) = meta.map
        && env.map(m).is_some_and(|d| {
            matches!(
                MapType::from_u32(d.map_type),
                Some(MapType::ArrayOfMaps | MapType::HashOfMaps)
            )
        })
        && env.inner_of.get(m as usize).copied().flatten().is_none()
    {
        return Err(unsupported(
            idx,
            "map-in-map without an inner map definition",
        ));
    }
    let ret = proto.ret;
    let r0 = match ret.base {
        RetBase::Integer => RegState::unknown_scalar(),
        RetBase::Void => RegState::not_init(),
        RetBase::PtrToMapValue => {
            let Some(m) = meta.map else {
                bail_reject!("BPF401", idx, "kernel subsystem misconfigured verifier");
            };
            let mut r = RegState::pointer(BaseType::MapValue);
            r.map = Some(m);
            // Linux 6.13+ (the recorded 6.18 kernel; 6.12 does not): a lookup
            // in an array with a constant in-bounds key cannot fail.
            let elide = func_name(id) == "bpf_map_lookup_elem"
                && env.map(m).is_some_and(|md| {
                    can_elide_value_nullness(md.map_type)
                        && meta
                            .const_map_key
                            .is_some_and(|k| k < u64::from(md.max_entries))
                });
            if ret.flags.contains(PF::PTR_MAYBE_NULL) && !elide {
                r.flags.0 |= TypeFlags::MAYBE_NULL;
                r.id = env.new_id();
            } else if matches!(
                env.map_fields.get(m as usize),
                Some(super::mem::MapFields::SpinLock(_))
            ) {
                // A lock-holding value gets an id to tell locks apart.
                r.id = env.new_id();
            }
            if !ret.flags.is_empty() && ret.flags != PF::PTR_MAYBE_NULL {
                return Err(unsupported(
                    idx,
                    format!("helper {} returning {ret}", func_name(id)),
                ));
            }
            r
        }
        RetBase::PtrToMem
            if meta.alloc_size.is_some()
                && ret.flags.union(PF::MEM_RINGBUF).union(PF::PTR_MAYBE_NULL)
                    == PF::MEM_RINGBUF.union(PF::PTR_MAYBE_NULL) =>
        {
            let mut r = RegState::pointer(BaseType::Mem);
            r.mem_size = meta.alloc_size.unwrap_or(0).min(u64::from(u32::MAX)) as u32;
            if ret.flags.contains(PF::MEM_RINGBUF) {
                r.flags.0 |= TypeFlags::RINGBUF;
            }
            if ret.flags.contains(PF::PTR_MAYBE_NULL) {
                r.flags.0 |= TypeFlags::MAYBE_NULL;
                r.id = env.new_id();
            }
            r
        }
        RetBase::PtrToBtfId if ret.flags == PF::PTR_TRUSTED && proto.ret_btf_id.is_some() => {
            let mut r = RegState::pointer(BaseType::BtfId);
            r.btf_id = super::kfunc::helper_ret_struct(proto.ret_btf_id.unwrap_or(""), idx)?;
            r.flags.0 |= TypeFlags::TRUSTED;
            r
        }
        RetBase::PtrToBtfId
            if meta.kptr.is_none()
                && ret.flags == PF::PTR_MAYBE_NULL
                && proto
                    .ret_btf_id
                    .is_some_and(|n| n.starts_with("&btf_sock_ids[")) =>
        {
            let mut r = RegState::pointer(BaseType::BtfId);
            r.btf_id = super::kfunc::helper_ret_struct(proto.ret_btf_id.unwrap_or(""), idx)?;
            r.flags.0 |= TypeFlags::MAYBE_NULL;
            r.id = env.new_id();
            r
        }
        RetBase::PtrToBtfId if meta.kptr.is_some() => {
            let mut r = RegState::pointer(BaseType::BtfId);
            r.btf_id = meta.kptr.as_ref().map_or(0, |k| k.btf_id);
            r.flags.0 |= TypeFlags::MAYBE_NULL;
            r.id = env.new_id();
            r
        }
        RetBase::PtrToSocket | RetBase::PtrToSockCommon | RetBase::PtrToTcpSock => {
            if !ret.flags.is_empty() && ret.flags != PF::PTR_MAYBE_NULL {
                return Err(unsupported(
                    idx,
                    format!("helper {} returning {ret}", func_name(id)),
                ));
            }
            let base = match ret.base {
                RetBase::PtrToSocket => BaseType::Socket,
                RetBase::PtrToTcpSock => BaseType::TcpSock,
                _ => BaseType::SockCommon,
            };
            let mut r = RegState::pointer(base);
            if ret.flags.contains(PF::PTR_MAYBE_NULL) {
                r.flags.0 |= TypeFlags::MAYBE_NULL;
                r.id = env.new_id();
            }
            r
        }
        _ => {
            return Err(unsupported(
                idx,
                format!("helper {} returning {ret}", func_name(id)),
            ));
        }
    };
    st.cur_mut().regs[0] = r0;
    if is_ptr_cast_function(func_name(id))
        && let Some(r) = meta.ref_obj_id
    {
        // The result holds the same reference as the argument.
        st.cur_mut().regs[0].ref_obj_id = r;
    }
    let sock_map_lookup = func_name(id) == "bpf_map_lookup_elem"
        && meta.map.and_then(|m| env.map(m)).is_some_and(|m| {
            matches!(
                MapType::from_u32(m.map_type),
                Some(MapType::Sockmap | MapType::Sockhash)
            )
        });
    if is_acquire_function(func_name(id)) || sock_map_lookup {
        let rid = env.new_id();
        st.refs.push((rid, idx));
        let r0 = &mut st.cur_mut().regs[0];
        r0.id = rid;
        r0.ref_obj_id = rid;
    }
    if func_name(id) == "bpf_dynptr_data" {
        // is_dynptr_ref_function: the slice remembers its dynptr and
        // holds the dynptr's reference.
        let d = meta.dynptr.clone().unwrap_or_else(RegState::not_init);
        let r0 = &mut st.cur_mut().regs[0];
        r0.dynptr_id = d.id;
        r0.ref_obj_id = d.ref_obj_id;
    }
    do_refine_retval_range(st, func_name(id), ret.base, meta.msize_max);
    if changes_data {
        clear_all_pkt_pointers(st);
    }
    Ok(())
}

/// Which `set_*_callback_state` prepares the callback's registers.
#[derive(Clone, Copy)]
enum CallbackKind {
    /// `set_loop_callback_state`: `cb(u64 index, void *ctx)`.
    Loop,
    /// `set_map_elem_callback_state`: `cb(map, key, value, ctx)`.
    MapElem,
    /// `set_find_vma_callback_state`: `cb(task, vma, ctx)`.
    FindVma,
    /// `set_user_ringbuf_callback_state`: `cb(const struct bpf_dynptr *,
    /// ctx)`.
    UserRingbuf,
}

/// `push_callback_call`: the callback body is explored later as a new
/// frame on a copy of the current state (R1–R5 still as at the call); the
/// current path goes on after the helper. When the callback exits, the path
/// returns to this call, which schedules the next visit until the states
/// repeat.
fn push_callback_call(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    meta: &Meta,
    kind: CallbackKind,
) -> Result<(), Stop> {
    let Some(start) = meta.subprog else {
        bail_reject!("BPF401", idx, "kernel subsystem misconfigured verifier");
    };
    // The callback's reads of its arguments are the caller's reads.
    for r in 1..=5 {
        super::regs::mark_reg_read(env, st, st.frames.len() - 1, r);
    }
    let mut cb = st.clone();
    if st.frames.len() >= super::explore::MAX_CALL_FRAMES {
        bail_reject!(
            "BPF407",
            idx,
            "the call stack of {} frames is too deep",
            st.frames.len() + 1
        );
    }
    let caller = cb.cur().clone();
    let mut callee = FuncState::new(cb.frames.len() as u8);
    callee.callsite = Some(idx);
    callee.subprog_start = start;
    callee.in_callback_fn = true;
    callee.callback_ret_range = (0, 1);
    match kind {
        CallbackKind::Loop => {
            callee.regs[1] = RegState::unknown_scalar();
            callee.regs[2] = caller.regs[3].clone();
        }
        CallbackKind::MapElem => {
            let Some(m) = caller.regs[1].map.and_then(|m| env.map(m)) else {
                bail_reject!("BPF401", idx, "kernel subsystem misconfigured verifier");
            };
            if !matches!(
                MapType::from_u32(m.map_type),
                Some(
                    MapType::Array
                        | MapType::PercpuArray
                        | MapType::Hash
                        | MapType::PercpuHash
                        | MapType::LruHash
                        | MapType::LruPercpuHash
                )
            ) {
                bail_reject!("BPF406", idx, "callback function not allowed for map");
            }
            callee.regs[1] = caller.regs[1].clone();
            let mut key = RegState::pointer(BaseType::MapKey);
            key.map = caller.regs[1].map;
            let mut value = RegState::pointer(BaseType::MapValue);
            value.map = caller.regs[1].map;
            callee.regs[2] = key;
            callee.regs[3] = value;
            callee.regs[4] = caller.regs[3].clone();
        }
        CallbackKind::UserRingbuf => {
            // set_user_ringbuf_callback_state
            callee.regs[1] =
                super::dynptr::mark_dynptr_cb_reg(env, crate::state::DynptrType::Local);
            callee.regs[2] = caller.regs[3].clone();
        }
        CallbackKind::FindVma => {
            callee.regs[1] = caller.regs[1].clone();
            let btf = crate::object::btf::bundled_vmlinux_btf()
                .map_err(|e| unsupported(idx, format!("kernel BTF: {e}")))?;
            let Some(vma) =
                btf.find_by_name_kind("vm_area_struct", crate::object::btf::BtfKind::Struct)
            else {
                return Err(unsupported(
                    idx,
                    "struct vm_area_struct not in the kernel BTF",
                ));
            };
            let mut r2 = RegState::pointer(BaseType::BtfId);
            r2.btf_id = vma;
            callee.regs[2] = r2;
            callee.regs[3] = caller.regs[4].clone();
        }
    }
    cb.frames.push(callee);
    cb.callback_unroll_depth += 1;
    let n = cb.frames.len();
    cb.frames[n - 2].callback_depth += 1;
    st.cur_mut().callback_depth = 0;
    env.pushed = Some((start, cb));
    Ok(())
}

/// `widen_imprecise_scalars`: scalars that changed since the previous visit
/// of the callback call and are imprecise in the previous visit's stored
/// state become unknown, so the visits converge.
pub(super) fn widen_imprecise_scalars(
    old: &VerifierState,
    cur: &mut VerifierState,
    all_precise: bool,
) {
    if all_precise {
        return;
    }
    for (fo, fc) in old.frames.iter().zip(cur.frames.iter_mut()) {
        for (ro, rc) in fo.regs.iter().zip(fc.regs.iter_mut()) {
            maybe_widen_reg(ro, rc);
        }
        for (spi, so) in fo.stack.iter().enumerate() {
            // Widened on a copy, written back only when it changes: the
            // slots may be shared with stored states.
            if so.is_spilled_reg() && fc.stack[spi].is_spilled_reg() {
                let mut r = fc.stack[spi].spilled.clone();
                maybe_widen_reg(&so.spilled, &mut r);
                if r != fc.stack[spi].spilled {
                    fc.stack[spi].spilled = r;
                }
            }
        }
    }
}

/// `maybe_widen_reg`.
fn maybe_widen_reg(old: &RegState, cur: &mut RegState) {
    if old.base != BaseType::Scalar || cur.base != BaseType::Scalar {
        return;
    }
    if old.precise || cur.precise {
        return;
    }
    let mut ids = super::prune::IdMap::default();
    if super::prune::regs_exact(old, cur, &mut ids) {
        return;
    }
    *cur = RegState::unknown_scalar();
}

/// `process_spin_lock`: take or release the lock of a map value.
fn process_spin_lock(
    env: &Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    reg: &RegState,
    is_lock: bool,
) -> Result<(), Stop> {
    use super::mem::MapFields;
    if !reg.var.is_const() {
        bail_reject!(
            "BPF503",
            idx,
            "R{} doesn't have constant offset. bpf_spin_lock has to be at the constant offset",
            regno
        );
    }
    let Some(map) = reg.map else {
        return Err(unsupported(idx, "spin lock outside a map"));
    };
    let name = env
        .obj
        .maps
        .get(map as usize)
        .map_or("?", |m| m.name.as_str());
    let lock_off = match env.map_fields.get(map as usize) {
        Some(MapFields::SpinLock(off)) => *off,
        Some(MapFields::Other(_)) => {
            return Err(unsupported(
                idx,
                "map values with special fields besides one bpf_spin_lock",
            ));
        }
        _ => {
            if env
                .obj
                .maps
                .get(map as usize)
                .is_some_and(|m| m.btf_value_type_id.is_none())
            {
                bail_reject!(
                    "BPF503",
                    idx,
                    "map '{}' has to have BTF in order to use bpf_spin_lock",
                    name
                );
            }
            bail_reject!("BPF503", idx, "map '{}' has no valid bpf_spin_lock", name);
        }
    };
    let val = reg.var.var_off.value as i64 + i64::from(reg.off);
    if val != i64::from(lock_off) {
        bail_reject!(
            "BPF503",
            idx,
            "off {} doesn't point to 'struct bpf_spin_lock' that is at {}",
            val,
            lock_off
        );
    }
    if is_lock {
        if st.active_lock.is_some() {
            bail_reject!("BPF503", idx, "Locking two bpf_spin_locks are not allowed");
        }
        st.active_lock = Some((map, reg.id));
    } else {
        match st.active_lock {
            None => bail_reject!("BPF503", idx, "bpf_spin_unlock without taking a lock"),
            Some((m, id)) if m != map || id != reg.id => {
                bail_reject!("BPF503", idx, "bpf_spin_unlock of different lock")
            }
            _ => st.active_lock = None,
        }
    }
    Ok(())
}

/// `is_acquire_function` for the helpers whose references are modelled.
fn is_acquire_function(name: &str) -> bool {
    matches!(
        name,
        "bpf_sk_lookup_tcp"
            | "bpf_sk_lookup_udp"
            | "bpf_skc_lookup_tcp"
            | "bpf_ringbuf_reserve"
            | "bpf_kptr_xchg"
    )
}

/// `is_ptr_cast_function` (the ones returning socket pointers we model).
fn is_ptr_cast_function(name: &str) -> bool {
    matches!(
        name,
        "bpf_sk_fullsock"
            | "bpf_tcp_sock"
            | "bpf_skc_to_tcp_sock"
            | "bpf_skc_to_tcp6_sock"
            | "bpf_skc_to_udp6_sock"
            | "bpf_skc_to_mptcp_sock"
            | "bpf_skc_to_tcp_timewait_sock"
            | "bpf_skc_to_tcp_request_sock"
            | "bpf_skc_to_unix_sock"
    )
}

/// `bpf_helper_changes_pkt_data` by helper id.
pub(super) fn changes_pkt_data(id: i32) -> bool {
    bpf_helper_changes_pkt_data(func_name(id))
}

/// `bpf_helper_changes_pkt_data`, by name (the list lives with the CFG pass).
fn bpf_helper_changes_pkt_data(name: &str) -> bool {
    crate::platform::helper_id(name).is_some_and(crate::cfg::subprogs::bpf_helper_changes_pkt_data)
}

/// `clear_all_pkt_pointers`: every packet pointer in every frame becomes an
/// unknown scalar (`mark_reg_invalid` with `allow_ptr_leaks`).
pub(super) fn clear_all_pkt_pointers(st: &mut VerifierState) {
    st.for_each_reg(|r| {
        if r.base.is_pkt_pointer_any() || super::dynptr::reg_is_dynptr_slice_pkt(r) {
            *r = RegState::unknown_scalar();
        }
    });
}

/// `do_refine_retval_range`: helpers whose integer result is bounded by
/// their size argument (`get_smp_processor_id`'s `nr_cpu_ids` is not known
/// offline and stays unbounded, which is only less precise).
fn do_refine_retval_range(st: &mut VerifierState, name: &str, ret: RetBase, msize_max: u64) {
    const MAX_ERRNO: i64 = 4095;
    if ret != RetBase::Integer {
        return;
    }
    if matches!(
        name,
        "bpf_get_stack"
            | "bpf_get_task_stack"
            | "bpf_probe_read_str"
            | "bpf_probe_read_kernel_str"
            | "bpf_probe_read_user_str"
    ) {
        let v = &mut st.cur_mut().regs[0].var;
        v.smax = msize_max as i64;
        v.s32_max = msize_max as i32;
        v.smin = -MAX_ERRNO;
        v.s32_min = -MAX_ERRNO as i32;
        v.sync();
    }
}

/// `check_reg_const_str`: a NUL-terminated string at a constant offset of a
/// frozen read-only map (`.rodata`).
fn check_reg_const_str(
    env: &Env<'_>,
    idx: usize,
    regno: usize,
    reg: &RegState,
) -> Result<(), Stop> {
    let Some(m) = reg.map.and_then(|m| env.map(m)) else {
        bail_reject!("BPF401", idx, "kernel subsystem misconfigured verifier");
    };
    // bpf_map_is_rdonly: BPF_F_RDONLY_PROG and frozen (libbpf freezes
    // `.rodata` and `.kconfig`).
    if !m.frozen {
        bail_reject!(
            "BPF405",
            idx,
            "R{} does not point to a readonly map'",
            regno
        );
    }
    if !reg.var.is_const() {
        bail_reject!("BPF405", idx, "R{} is not a constant address'", regno);
    }
    if m.map_type != crate::object::maps::MAP_TYPE_ARRAY {
        bail_reject!(
            "BPF405",
            idx,
            "no direct value access support for this map type"
        );
    }
    let size = i64::from(m.value_size) - i64::from(reg.off);
    super::mem::check_helper_region(
        env,
        idx,
        regno,
        reg,
        size.clamp(0, i64::from(i32::MAX)) as i32,
        Access::Read,
    )?;
    let off = i64::from(reg.off) + reg.var.var_off.value as i64;
    let Some(data) = m.initial.as_deref() else {
        return Err(unsupported(
            idx,
            "constant string in a map without initial data",
        ));
    };
    let tail = usize::try_from(off)
        .ok()
        .and_then(|o| data.get(o..))
        .unwrap_or(&[]);
    // Bytes past the section data are zero.
    let short = data.len() < m.value_size as usize && off < i64::from(m.value_size);
    if !tail.contains(&0) && !short {
        bail_reject!("BPF405", idx, "string is not zero-terminated");
    }
    Ok(())
}

/// `check_func_arg_reg_off` for a released argument: the pointer must be
/// the one the acquire function returned.
fn check_release_arg_off(
    idx: usize,
    regno: usize,
    reg: &RegState,
    release: bool,
) -> Result<(), Stop> {
    if release && reg.off != 0 {
        bail_reject!(
            "BPF304",
            idx,
            "R{} must have zero offset when passed to release func or trusted arg to kfunc",
            regno
        );
    }
    Ok(())
}

/// `arg_to_dynptr_type`.
fn arg_to_dynptr_type(f: PF) -> crate::state::DynptrType {
    use crate::state::DynptrType as D;
    if f.contains(PF::DYNPTR_TYPE_LOCAL) {
        D::Local
    } else if f.contains(PF::DYNPTR_TYPE_RINGBUF) {
        D::Ringbuf
    } else if f.contains(PF::DYNPTR_TYPE_SKB) {
        D::Skb
    } else if f.contains(PF::DYNPTR_TYPE_XDP) {
        D::Xdp
    } else {
        D::Invalid
    }
}

/// Helpers `check_helper_call` treats specially (references, callbacks,
/// locks, dynptrs, BTF objects, packet-changing with ctx, ...): not
/// modelled yet.
fn is_special_helper(name: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "bpf_timer_set_callback",
        "bpf_snprintf",
        "bpf_set_retval",
        "bpf_get_retval",
    ];
    SPECIAL.contains(&name) || name.contains("timer")
}

/// The pointer types a memory argument accepts (`mem_types`) that are
/// modelled, and how the kernel lists all of them in its message.
const MEM_ARG_TYPES: &[BaseType] = &[
    BaseType::Stack,
    BaseType::Packet,
    BaseType::PacketMeta,
    BaseType::MapKey,
    BaseType::MapValue,
    BaseType::Mem,
];
/// The kernel's `expected=` list for memory arguments.
const MEM_ARG_TYPES_STR: &str =
    "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";

/// `check_func_arg` for one argument (R1..R5).
#[allow(clippy::too_many_arguments)]
fn check_func_arg(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    arg: usize,
    t: ArgType,
    fixed_size: Option<&'static str>,
    arg_btf_id: Option<&'static str>,
    meta: &mut Meta,
    id: i32,
    proto_pkt_access: bool,
) -> Result<(), Stop> {
    let regno = arg + 1;
    if t.is_unused() {
        return Ok(());
    }
    check_reg_read(env, st, idx, regno)?;
    let reg = st.cur().regs[regno].clone();
    let known = PF::PTR_MAYBE_NULL
        .union(PF::MEM_RDONLY)
        .union(PF::MEM_UNINIT)
        .union(PF::MEM_WRITE)
        .union(PF::OBJ_RELEASE)
        .union(PF::MEM_FIXED_SIZE)
        .union(PF::MEM_ALIGNED)
        .union(PF::DYNPTR_TYPE_LOCAL)
        .union(PF::DYNPTR_TYPE_RINGBUF)
        .union(PF::DYNPTR_TYPE_SKB)
        .union(PF::DYNPTR_TYPE_XDP);
    if t.flags.0 & !known.0 != 0 {
        return Err(unsupported(idx, format!("helper argument type {t}")));
    }
    let nullable = t.flags.contains(PF::PTR_MAYBE_NULL);
    if nullable && reg.is_null() {
        // `register_is_null` with an `_OR_NULL` argument: a following size
        // must then be 0 (`check_helper_mem_access` on the NULL register).
        if t.base == ArgBase::PtrToMem {
            meta.mem_regno = Some(regno);
        }
        mark_chain_precision(env, st, regno);
        return Ok(());
    }
    if reg.base.is_pkt_pointer() && !proto_pkt_access {
        bail_reject!("BPF405", idx, "helper access to the packet is not allowed");
    }
    let expect = |env: &Env<'_>, ok: &[BaseType], names: &str| -> Result<(), Stop> {
        let _ = env;
        if reg.may_be_null() || !ok.contains(&reg.base) {
            bail_reject!(
                "BPF405",
                idx,
                "R{} type={} expected={}",
                regno,
                reg.type_str(),
                names
            );
        }
        Ok(())
    };
    // resolve_map_arg_type: the value of a socket map is a socket.
    let sock_map_value = t.base == ArgBase::PtrToMapValue
        && meta.map.and_then(|m| env.map(m)).is_some_and(|m| {
            matches!(
                MapType::from_u32(m.map_type),
                Some(MapType::Sockmap | MapType::Sockhash)
            )
        });
    let base = if sock_map_value {
        ArgBase::PtrToBtfIdSockCommon
    } else {
        t.base
    };
    match base {
        ArgBase::Anything | ArgBase::Scalar => {
            if t.base == ArgBase::Scalar && !reg.is_scalar() {
                bail_reject!(
                    "BPF405",
                    idx,
                    "R{} type={} expected=scalar",
                    regno,
                    reg.type_str()
                );
            }
        }
        ArgBase::PtrToDynptr => {
            expect(
                env,
                &[BaseType::Stack, BaseType::DynptrPtr],
                "fp, dynptr_ptr",
            )?;
            let release = t.flags.contains(PF::OBJ_RELEASE);
            if reg.base == BaseType::DynptrPtr {
                // check_func_arg_reg_off: no offset into the object.
                super::mem::check_ptr_off_reg(idx, regno, &reg)?;
            }
            if release {
                super::dynptr::check_dynptr_release_arg(st, idx, regno)?;
                meta.release_dynptr = Some(regno);
            }
            let arg = super::dynptr::DynptrArg {
                uninit: t.flags.contains(PF::MEM_UNINIT),
                rdonly: t.flags.contains(PF::MEM_RDONLY),
                ty: arg_to_dynptr_type(t.flags),
            };
            if let Some(d) = super::dynptr::process_dynptr_func(env, st, idx, regno, arg, 0)? {
                meta.dynptr = Some(d);
            }
        }
        ArgBase::PtrToConstStr => {
            expect(env, &[BaseType::MapValue], "map_value")?;
            check_reg_const_str(env, idx, regno, &reg)?;
        }
        ArgBase::ConstMapPtr => {
            expect(env, &[BaseType::MapPtr], "map_ptr")?;
            meta.map = reg.map;
        }
        ArgBase::PtrToMapKey | ArgBase::PtrToMapValue => {
            let Some(m) = meta.map.and_then(|m| env.map(m)) else {
                let what = if t.base == ArgBase::PtrToMapKey {
                    "key"
                } else {
                    "value"
                };
                bail_reject!("BPF405", idx, "invalid map_ptr to access map->{}", what);
            };
            let size = if t.base == ArgBase::PtrToMapKey {
                m.key_size
            } else {
                m.value_size
            };
            let (map_type, key_size) = (m.map_type, m.key_size);
            expect(env, MEM_ARG_TYPES, MEM_ARG_TYPES_STR)?;
            let access = if t.flags.contains(PF::MEM_UNINIT) {
                Access::Write
            } else {
                Access::Read
            };
            check_helper_mem_access(
                env,
                st,
                idx,
                regno,
                size as u64,
                access,
                false,
                access == Access::Write,
            )?;
            if t.base == ArgBase::PtrToMapKey && can_elide_value_nullness(map_type) {
                meta.const_map_key = get_constant_map_key(env, st, &reg, key_size);
            }
        }
        ArgBase::PtrToMem => {
            expect(env, MEM_ARG_TYPES, MEM_ARG_TYPES_STR)?;
            let uninit = t.flags.contains(PF::MEM_UNINIT);
            let write = uninit || t.flags.contains(PF::MEM_WRITE);
            if let Some(sz) = fixed_size {
                let Some(n) = parse_size(sz) else {
                    return Err(unsupported(idx, format!("helper argument size `{sz}`")));
                };
                let access = if write { Access::Write } else { Access::Read };
                let clobber = !t.flags.contains(PF::MEM_RDONLY);
                check_helper_mem_access(env, st, idx, regno, n, access, false, clobber)?;
                if t.flags.contains(PF::MEM_ALIGNED) {
                    super::mem::check_ptr_alignment(idx, &reg, 0, n as i32, true)?;
                }
            } else {
                meta.mem_regno = Some(regno);
                meta.mem_clobber = !t.flags.contains(PF::MEM_RDONLY);
                meta.mem_write = write;
            }
        }
        ArgBase::ConstSize | ArgBase::ConstSizeOrZero => {
            let zero_ok = t.base == ArgBase::ConstSizeOrZero;
            let Some(mem) = meta.mem_regno.take() else {
                if nullable || st.cur().regs[regno - 1].is_scalar() {
                    // Size for a NULL `_OR_NULL` memory argument.
                    check_size_reg(idx, regno, &reg, zero_ok)?;
                    mark_chain_precision(env, st, regno);
                    return Ok(());
                }
                bail_reject!(
                    "BPF405",
                    idx,
                    "R{} size argument without memory argument",
                    regno
                );
            };
            if !reg.is_scalar() {
                bail_reject!(
                    "BPF405",
                    idx,
                    "R{} type={} expected=scalar",
                    regno,
                    reg.type_str()
                );
            }
            let umax = check_size_reg(idx, regno, &reg, zero_ok)?;
            meta.msize_max = umax;
            let access = if meta.mem_write {
                Access::Write
            } else {
                Access::Read
            };
            check_helper_mem_access(env, st, idx, mem, umax, access, zero_ok, meta.mem_clobber)?;
            mark_chain_precision(env, st, regno);
        }
        ArgBase::ConstAllocSizeOrZero => {
            if !reg.is_scalar() || !reg.var.is_const() {
                bail_reject!("BPF405", idx, "R{} is not a known constant'", regno);
            }
            meta.alloc_size = Some(reg.var.var_off.value);
            mark_chain_precision(env, st, regno);
        }
        ArgBase::PtrToRingbufMem => {
            if reg.may_be_null() || reg.base != BaseType::Mem || !reg.flags.has(TypeFlags::RINGBUF)
            {
                bail_reject!(
                    "BPF405",
                    idx,
                    "R{} type={} expected=ringbuf_mem",
                    regno,
                    reg.type_str()
                );
            }
            let release = t.flags.contains(PF::OBJ_RELEASE);
            check_release_arg_off(idx, regno, &reg, release)?;
            super::mem::check_ptr_off_reg(idx, regno, &reg)?;
            note_arg_ref(idx, regno, &reg, release, meta)?;
        }
        ArgBase::PtrToSpinLock => {
            if reg.base == BaseType::BtfId {
                return Err(unsupported(idx, "bpf_spin_lock in allocated objects"));
            }
            expect(env, &[BaseType::MapValue], "map_value, ptr_")?;
            process_spin_lock(env, st, idx, regno, &reg, func_name(id) == "bpf_spin_lock")?;
        }
        ArgBase::PtrToSockCommon => {
            expect(
                env,
                &[
                    BaseType::SockCommon,
                    BaseType::Socket,
                    BaseType::TcpSock,
                    BaseType::XdpSock,
                ],
                "sock_common, sock, tcp_sock, xdp_sock",
            )?;
            if reg.ref_obj_id != 0 {
                meta.ref_obj_id = Some(reg.ref_obj_id);
            }
        }
        ArgBase::PtrToBtfIdSockCommon if reg.base == BaseType::BtfId => {
            // btf_id_sock_common_types: ptr_ and trusted_ptr_ to a struct
            // starting with sock_common.
            let release = t.flags.contains(PF::OBJ_RELEASE);
            let mut f = reg.flags.0;
            if nullable {
                f &= !TypeFlags::MAYBE_NULL;
            }
            if !(f == 0 || f == TypeFlags::TRUSTED) {
                bail_reject!(
                    "BPF405",
                    idx,
                    "R{} type={} expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_",
                    regno,
                    reg.type_str()
                );
            }
            if reg.may_be_null() && release {
                bail_reject!(
                    "BPF405",
                    idx,
                    "Possibly NULL pointer passed to helper arg{}",
                    regno
                );
            }
            let btf = crate::object::btf::bundled_vmlinux_btf()
                .map_err(|e| unsupported(idx, format!("kernel BTF: {e}")))?;
            let Some(want) =
                btf.find_by_name_kind("sock_common", crate::object::btf::BtfKind::Struct)
            else {
                return Err(unsupported(idx, "struct sock_common not in the kernel BTF"));
            };
            let strict = release && func_name(id) != "bpf_sk_release";
            check_btf_arg_type(btf, idx, regno, &reg, want, strict)?;
            check_release_arg_off(idx, regno, &reg, release)?;
            super::mem::check_ptr_off_reg_fixed_ok(idx, regno, &reg, !release)?;
            note_arg_ref(idx, regno, &reg, release, meta)?;
        }
        ArgBase::PtrToBtfIdSockCommon => {
            expect(
                env,
                &[
                    BaseType::SockCommon,
                    BaseType::Socket,
                    BaseType::TcpSock,
                    BaseType::XdpSock,
                ],
                "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_",
            )?;
            note_arg_ref(idx, regno, &reg, t.flags.contains(PF::OBJ_RELEASE), meta)?;
        }
        ArgBase::KptrXchgDest => {
            if reg.base == BaseType::BtfId {
                return Err(unsupported(idx, "bpf_kptr_xchg into allocated objects"));
            }
            meta.kptr = Some(super::kptr::process_kptr_func(env, idx, regno, &reg)?);
        }
        ArgBase::PtrToBtfId if meta.kptr.is_some() => {
            // bpf_kptr_xchg's new value: btf_ptr_types, then
            // map_kptr_match_type against the destination's field.
            let f = TypeFlags(reg.flags.0 & !TypeFlags::MAYBE_NULL);
            if reg.base != BaseType::BtfId
                || !(f.0 == 0 || f.0 == TypeFlags::TRUSTED || f.0 == TypeFlags::RCU)
            {
                bail_reject!(
                    "BPF405",
                    idx,
                    "R{} type={} expected=ptr_, trusted_ptr_, rcu_ptr_",
                    regno,
                    reg.type_str()
                );
            }
            if reg.may_be_null() {
                bail_reject!(
                    "BPF405",
                    idx,
                    "Possibly NULL pointer passed to helper arg{}",
                    regno
                );
            }
            if let Some(k) = &meta.kptr {
                super::kptr::map_kptr_match_type(idx, k, &reg, regno)?;
            }
            note_arg_ref(idx, regno, &reg, true, meta)?;
        }
        ArgBase::PtrToBtfId if !t.flags.contains(PF::OBJ_RELEASE) => {
            // btf_ptr_types, then btf_struct_ids_match against arg_btf_id.
            let Some(want_name) = arg_btf_id.filter(|n| *n != "BPF_PTR_POISON") else {
                return Err(unsupported(
                    idx,
                    format!("helper {} argument {t}", func_name(id)),
                ));
            };
            let want = super::kfunc::helper_ret_struct(want_name, idx)?;
            let mut f = reg.flags.0;
            if nullable {
                f &= !TypeFlags::MAYBE_NULL;
            }
            if reg.base != BaseType::BtfId
                || !(f == 0 || f == TypeFlags::TRUSTED || f == TypeFlags::RCU)
            {
                bail_reject!(
                    "BPF405",
                    idx,
                    "R{} type={} expected=ptr_, trusted_ptr_, rcu_ptr_",
                    regno,
                    reg.type_str()
                );
            }
            let btf = crate::object::btf::bundled_vmlinux_btf()
                .map_err(|e| unsupported(idx, format!("kernel BTF: {e}")))?;
            check_btf_arg_type(btf, idx, regno, &reg, want, false)?;
            super::mem::check_ptr_off_reg_fixed_ok(idx, regno, &reg, true)?;
            if reg.ref_obj_id != 0 {
                meta.ref_obj_id = Some(reg.ref_obj_id);
            }
        }
        ArgBase::PtrToPercpuBtfId => {
            let f = reg.flags.0 & !TypeFlags::PERCPU;
            let ok = reg.base == BaseType::BtfId
                && reg.flags.has(TypeFlags::PERCPU)
                && (f == 0 || f == TypeFlags::RCU || f == TypeFlags::TRUSTED);
            if !ok {
                bail_reject!(
                    "BPF405",
                    idx,
                    "R{} type={} expected=percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_",
                    regno,
                    reg.type_str()
                );
            }
            return Err(unsupported(idx, "per-CPU BTF pointers passed to helpers"));
        }
        ArgBase::PtrToFunc => {
            expect(env, &[BaseType::Func], "func")?;
            meta.subprog = Some(reg.subprog as usize);
        }
        ArgBase::PtrToStack => {
            expect(env, &[BaseType::Stack], "fp")?;
        }
        ArgBase::PtrToCtx => {
            expect(env, &[BaseType::Ctx], "ctx")?;
            super::mem::check_ptr_off_reg(idx, regno, &reg)?;
        }
        _ => {
            return Err(unsupported(
                idx,
                format!("helper {} argument type {t}", func_name(id)),
            ));
        }
    }
    Ok(())
}

/// `check_mem_size_reg` bounds on the size register; returns `umax`.
fn check_size_reg(idx: usize, regno: usize, reg: &RegState, zero_ok: bool) -> Result<u64, Stop> {
    if !reg.is_scalar() {
        bail_reject!(
            "BPF405",
            idx,
            "R{} type={} expected=scalar",
            regno,
            reg.type_str()
        );
    }
    if reg.var.smin < 0 {
        bail_reject!(
            "BPF405",
            idx,
            "R{} min value is negative, either use unsigned or 'var &= const'",
            regno
        );
    }
    if reg.var.umin == 0 && !zero_ok {
        bail_reject!(
            "BPF405",
            idx,
            "R{} invalid zero-sized read: u64=[{},{}]",
            regno,
            reg.var.umin as i64,
            reg.var.umax as i64
        );
    }
    if reg.var.umax >= BPF_MAX_VAR_SIZ {
        bail_reject!(
            "BPF405",
            idx,
            "R{} unbounded memory access, use 'var &= const' or 'if (var < const)'",
            regno
        );
    }
    Ok(reg.var.umax)
}

fn parse_size(s: &str) -> Option<u64> {
    match s.trim() {
        "sizeof(u64)" | "sizeof(__u64)" | "sizeof(s64)" => Some(8),
        "sizeof(u32)" | "sizeof(__u32)" | "sizeof(int)" => Some(4),
        "sizeof(u16)" => Some(2),
        "sizeof(u8)" => Some(1),
        other => other.parse().ok().or_else(|| {
            // `sizeof(struct X)`: the kernel struct's size.
            let name = other
                .strip_prefix("sizeof(struct ")?
                .strip_suffix(')')?
                .trim();
            let btf = crate::object::btf::bundled_vmlinux_btf().ok()?;
            let id = btf.find_by_name_kind(name, crate::object::btf::BtfKind::Struct)?;
            btf.resolve_size(id).ok().filter(|n| *n > 0)
        }),
    }
}

/// `check_mem_reg`: memory of `size` bytes behind `regno` (a global
/// function's or kfunc's memory argument) must be readable and writable,
/// checked on a not-NULL copy of a possibly NULL pointer; the write check
/// clobbers stack bytes (the callee may write them).
pub(super) fn check_mem_reg(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    size: u64,
) -> Result<(), Stop> {
    let saved = st.cur().regs[regno].clone();
    st.cur_mut().regs[regno].flags.0 &= !TypeFlags::MAYBE_NULL;
    let r = check_helper_mem_access(env, st, idx, regno, size, Access::Read, true, false).and_then(
        |()| check_helper_mem_access(env, st, idx, regno, size, Access::Write, true, true),
    );
    st.cur_mut().regs[regno] = saved;
    r
}

/// `check_kfunc_mem_size_reg`: the size in `size_regno` bounds the memory
/// behind the register before it (read and write, zero allowed), and is
/// marked precise.
pub(super) fn check_kfunc_mem_size_reg(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    size_regno: usize,
) -> Result<(), Stop> {
    let sreg = st.cur().regs[size_regno].clone();
    let umax = check_size_reg(idx, size_regno, &sreg, true)?;
    check_mem_reg(env, st, idx, size_regno - 1, umax)?;
    mark_chain_precision(env, st, size_regno);
    Ok(())
}

/// `check_helper_mem_access`: the helper reads or writes `size` bytes
/// through register `regno`.
#[allow(clippy::too_many_arguments)]
fn check_helper_mem_access(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    size: u64,
    access: Access,
    zero_ok: bool,
    clobber: bool,
) -> Result<(), Stop> {
    let reg = st.cur().regs[regno].clone();
    if reg.is_pointer() {
        let region = super::mem::region_size(env, &reg);
        env.cur_obligation = Some(super::obligation::Obligation::new(
            super::obligation::ObligationKind::HelperMem,
            idx,
            regno,
            &reg,
            0,
            size,
            region,
        ));
        env.obligations += 1;
    }
    check_helper_mem_access_inner(env, st, idx, regno, &reg, size, access, zero_ok, clobber)?;
    if let Some(ob) = env.cur_obligation.take() {
        super::record_proved(env, st, ob);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn check_helper_mem_access_inner(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    reg: &RegState,
    size: u64,
    access: Access,
    zero_ok: bool,
    clobber: bool,
) -> Result<(), Stop> {
    let reg = reg.clone();
    if size == 0 && !zero_ok {
        bail_reject!("BPF405", idx, "invalid zero-sized read");
    }
    if reg.is_scalar() {
        if size == 0 && reg.var.is_const() && reg.var.var_off.value == 0 {
            return Ok(());
        }
        bail_reject!(
            "BPF405",
            idx,
            "R{} type={} expected=fp",
            regno,
            reg.type_str()
        );
    }

    if reg.base == BaseType::Stack {
        let (off, hi_off) = if reg.var.is_const() {
            let o = reg.off as i64 + reg.var.var_off.value as i64;
            (o, o)
        } else {
            // check_stack_access_within_bounds for a variable offset.
            let v = &reg.var;
            if v.smax >= super::env::BPF_MAX_VAR_OFF || v.smin <= -super::env::BPF_MAX_VAR_OFF {
                bail_reject!(
                    "BPF303",
                    idx,
                    "invalid unbounded variable-offset indirect access to stack R{}",
                    regno
                );
            }
            let (lo, hi) = (reg.off as i64 + v.smin, reg.off as i64 + v.smax);
            if lo < -512 || hi + size as i64 > 0 {
                bail_reject!(
                    "BPF303",
                    idx,
                    "invalid variable-offset indirect access to stack R{} var_off={} off={} size={}",
                    regno,
                    v.var_off,
                    reg.off,
                    size
                );
            }
            (lo, hi)
        };
        if !(-512..=-1).contains(&off) || hi_off + size as i64 > 0 {
            bail_reject!(
                "BPF303",
                idx,
                "invalid indirect access to stack R{} off={} size={}",
                regno,
                off,
                size
            );
        }
        // check_stack_range_initialized (privileged: allow_uninit_stack,
        // allow_ptr_leaks): every byte is readable, and a helper access that
        // may write clobbers it. 6.12 clobbers on every helper access; the
        // recorded 6.18 kernel only on BPF_WRITE (its logs keep a lookup
        // key's STACK_ZERO bytes). Our prototypes are 6.12's, which lack
        // some of 6.18's MEM_WRITE flags (bpf_sysctl_get_name's buffer), so
        // only arguments that cannot be written are spared: map keys, map
        // values without MEM_UNINIT, MEM_RDONLY memory.
        let frame = reg.frameno as usize;
        if frame >= st.frames.len() {
            return Err(unsupported(
                idx,
                "stack pointer into a frame that has returned",
            ));
        }
        if (off..hi_off + size as i64).any(|o| {
            (-512..0).contains(&o)
                && st.frames[frame].stack[((-o - 1) / 8) as usize]
                    .slot_type
                    .contains(&crate::state::SlotType::Iter)
        }) {
            return Err(unsupported(idx, "helper access to iterator slots"));
        }
        check_helper_access_over_dynptr(st, idx, regno, frame, off, hi_off, size, access)?;
        super::regs::mark_stack_range_read(env, st, frame, off, hi_off + size as i64);
        let fr = &mut st.frames[frame];
        fr.allocated_stack = fr.allocated_stack.max(-off as i32);
        let _ = access;
        if clobber {
            for o in off..hi_off + size as i64 {
                let slot = (-o - 1) as usize;
                let s = &mut fr.stack[slot / 8];
                if s.is_spilled_reg() {
                    // __mark_reg_unknown + scrub_spilled_slot on all 8 bytes.
                    s.spilled = RegState::unknown_scalar();
                    for t in &mut s.slot_type {
                        if *t == crate::state::SlotType::Spill {
                            *t = crate::state::SlotType::Misc;
                        }
                    }
                }
                s.slot_type[slot % 8] = crate::state::SlotType::Misc;
            }
        }
        return Ok(());
    }
    // Other memory: the same checks as a direct access of `size` bytes at
    // the register's offset, byte by byte for the bounds.
    match reg.base {
        BaseType::Packet
        | BaseType::PacketMeta
        | BaseType::MapValue
        | BaseType::MapKey
        | BaseType::Mem => {
            if size > i32::MAX as u64 {
                bail_reject!("BPF405", idx, "R{} unbounded memory access", regno);
            }
            super::mem::check_helper_region(env, idx, regno, &reg, size as i32, access)?;
            Ok(())
        }
        _ => bail_reject!(
            "BPF405",
            idx,
            "R{} type={} expected=fp",
            regno,
            reg.type_str()
        ),
    }
}

/// `check_stack_range_initialized` over `STACK_DYNPTR` bytes: memory a
/// helper writes may not overlap a dynptr (raw mode), and its bytes are
/// not readable memory.
#[allow(clippy::too_many_arguments)]
fn check_helper_access_over_dynptr(
    st: &VerifierState,
    idx: usize,
    regno: usize,
    frame: usize,
    off: i64,
    hi_off: i64,
    size: u64,
    access: Access,
) -> Result<(), Stop> {
    let fr = &st.frames[frame];
    let is_dynptr = |o: i64| {
        (-512..0).contains(&o)
            && fr.stack[((-o - 1) / 8) as usize].slot_type[((-o - 1) % 8) as usize]
                == crate::state::SlotType::Dynptr
    };
    let end = hi_off + size as i64;
    if !(off..end).any(is_dynptr) {
        return Ok(());
    }
    if off != hi_off {
        return Err(unsupported(
            idx,
            "variable-offset helper access over a dynptr",
        ));
    }
    if access == Access::Write {
        return super::dynptr::check_raw_mode_over_dynptr(st, idx, frame, off, end);
    }
    let i = (off..end).find(|&o| is_dynptr(o)).unwrap_or(off);
    bail_reject!(
        "BPF303",
        idx,
        "invalid read from stack R{} off {}+{} size {}",
        regno,
        off,
        i - off,
        size
    );
}

/// `may_update_sockmap`: map update/delete on socket maps from program
/// types that cannot hold a locked socket.
fn may_update_sockmap(env: &Env<'_>, idx: usize, f: &str) -> Result<bool, Stop> {
    use crate::platform::{AttachType, ProgType as P};
    if f != "bpf_map_update_elem" && f != "bpf_map_delete_elem" {
        return Ok(false);
    }
    let ok = match env.prog_type {
        P::Tracing => env.prog.attach_type == Some(AttachType::TraceIter),
        P::SockOps => f == "bpf_map_delete_elem",
        P::SocketFilter
        | P::SchedCls
        | P::SchedAct
        | P::Xdp
        | P::SkReuseport
        | P::FlowDissector
        | P::SkLookup => true,
        _ => false,
    };
    if !ok {
        bail_reject!("BPF406", idx, "cannot update sockmap in this context");
    }
    Ok(true)
}

/// `check_map_func_compatibility`.
fn check_map_func_compatibility(env: &Env<'_>, idx: usize, map: u32, id: i32) -> Result<(), Stop> {
    let Some(m) = env.map(map) else {
        return Ok(());
    };
    let Some(mt) = MapType::from_u32(m.map_type) else {
        return Err(unsupported(idx, format!("map type {}", m.map_type)));
    };
    let f = func_name(id);
    let only = |names: &[&str]| names.contains(&f);
    let map_ok = match mt {
        MapType::ProgArray => only(&["bpf_tail_call"]),
        MapType::PerfEventArray => only(&[
            "bpf_perf_event_read",
            "bpf_perf_event_output",
            "bpf_skb_output",
            "bpf_perf_event_read_value",
            "bpf_xdp_output",
        ]),
        MapType::Ringbuf => only(&[
            "bpf_ringbuf_output",
            "bpf_ringbuf_reserve",
            "bpf_ringbuf_query",
            "bpf_ringbuf_reserve_dynptr",
            "bpf_ringbuf_submit_dynptr",
            "bpf_ringbuf_discard_dynptr",
        ]),
        MapType::UserRingbuf => only(&["bpf_user_ringbuf_drain"]),
        MapType::StackTrace => only(&["bpf_get_stackid"]),
        MapType::CgroupArray => only(&["bpf_skb_under_cgroup", "bpf_current_task_under_cgroup"]),
        MapType::CgroupStorage | MapType::PercpuCgroupStorage => only(&["bpf_get_local_storage"]),
        MapType::Devmap | MapType::DevmapHash | MapType::Xskmap => {
            only(&["bpf_redirect_map", "bpf_map_lookup_elem"])
        }
        MapType::Cpumap => only(&["bpf_redirect_map"]),
        MapType::ArrayOfMaps | MapType::HashOfMaps => only(&["bpf_map_lookup_elem"]),
        MapType::Sockmap | MapType::Sockhash => {
            only(&[
                "bpf_sk_redirect_map",
                "bpf_sock_map_update",
                "bpf_msg_redirect_map",
                "bpf_sk_redirect_hash",
                "bpf_sock_hash_update",
                "bpf_msg_redirect_hash",
                "bpf_sk_select_reuseport",
                "bpf_map_lookup_elem",
            ]) || may_update_sockmap(env, idx, f)?
        }
        MapType::ReuseportSockarray => only(&["bpf_sk_select_reuseport"]),
        MapType::Queue | MapType::Stack => {
            only(&["bpf_map_peek_elem", "bpf_map_pop_elem", "bpf_map_push_elem"])
        }
        MapType::SkStorage => only(&[
            "bpf_sk_storage_get",
            "bpf_sk_storage_delete",
            "bpf_kptr_xchg",
        ]),
        MapType::InodeStorage => only(&[
            "bpf_inode_storage_get",
            "bpf_inode_storage_delete",
            "bpf_kptr_xchg",
        ]),
        MapType::TaskStorage => only(&[
            "bpf_task_storage_get",
            "bpf_task_storage_delete",
            "bpf_kptr_xchg",
        ]),
        MapType::CgrpStorage => only(&[
            "bpf_cgrp_storage_get",
            "bpf_cgrp_storage_delete",
            "bpf_kptr_xchg",
        ]),
        MapType::BloomFilter => only(&["bpf_map_peek_elem", "bpf_map_push_elem"]),
        _ => true,
    };
    let is = |types: &[MapType]| types.contains(&mt);
    let func_ok = match f {
        "bpf_tail_call" => is(&[MapType::ProgArray]),
        "bpf_perf_event_read"
        | "bpf_perf_event_output"
        | "bpf_perf_event_read_value"
        | "bpf_skb_output"
        | "bpf_xdp_output" => is(&[MapType::PerfEventArray]),
        "bpf_ringbuf_output"
        | "bpf_ringbuf_reserve"
        | "bpf_ringbuf_query"
        | "bpf_ringbuf_reserve_dynptr"
        | "bpf_ringbuf_submit_dynptr"
        | "bpf_ringbuf_discard_dynptr" => is(&[MapType::Ringbuf]),
        "bpf_user_ringbuf_drain" => is(&[MapType::UserRingbuf]),
        "bpf_get_stackid" => is(&[MapType::StackTrace]),
        "bpf_current_task_under_cgroup" | "bpf_skb_under_cgroup" => is(&[MapType::CgroupArray]),
        "bpf_redirect_map" => is(&[
            MapType::Devmap,
            MapType::DevmapHash,
            MapType::Cpumap,
            MapType::Xskmap,
        ]),
        "bpf_get_local_storage" => is(&[MapType::CgroupStorage, MapType::PercpuCgroupStorage]),
        "bpf_map_pop_elem" => is(&[MapType::Queue, MapType::Stack]),
        "bpf_map_peek_elem" | "bpf_map_push_elem" => {
            is(&[MapType::Queue, MapType::Stack, MapType::BloomFilter])
        }
        "bpf_map_lookup_percpu_elem" => is(&[
            MapType::PercpuArray,
            MapType::PercpuHash,
            MapType::LruPercpuHash,
        ]),
        "bpf_sk_storage_get" | "bpf_sk_storage_delete" => is(&[MapType::SkStorage]),
        "bpf_inode_storage_get" | "bpf_inode_storage_delete" => is(&[MapType::InodeStorage]),
        "bpf_task_storage_get" | "bpf_task_storage_delete" => is(&[MapType::TaskStorage]),
        "bpf_cgrp_storage_get" | "bpf_cgrp_storage_delete" => is(&[MapType::CgrpStorage]),
        "bpf_sk_redirect_map" | "bpf_msg_redirect_map" | "bpf_sock_map_update" => {
            is(&[MapType::Sockmap])
        }
        "bpf_sk_redirect_hash" | "bpf_msg_redirect_hash" | "bpf_sock_hash_update" => {
            is(&[MapType::Sockhash])
        }
        "bpf_sk_select_reuseport" => is(&[
            MapType::ReuseportSockarray,
            MapType::Sockmap,
            MapType::Sockhash,
        ]),
        _ => true,
    };
    if !map_ok || !func_ok {
        bail_reject!(
            "BPF406",
            idx,
            "cannot pass map_type {} into func {}#{}",
            m.map_type,
            f,
            id
        );
    }
    Ok(())
}

/// `can_elide_value_nullness` (Linux 6.13+): array maps.
fn can_elide_value_nullness(map_type: u32) -> bool {
    matches!(
        MapType::from_u32(map_type),
        Some(MapType::Array | MapType::PercpuArray)
    )
}

/// `get_constant_map_key` (Linux 6.13+): the key a stack pointer points at
/// when it is known (zeroed bytes, or a spilled constant scalar of exactly
/// the key's size, which is then marked precise).
fn get_constant_map_key(
    env: &mut Env<'_>,
    st: &VerifierState,
    key: &RegState,
    key_size: u32,
) -> Option<u64> {
    if !env.privileged || key.base != BaseType::Stack || !key.var.is_const() {
        return None;
    }
    let stack_off = i64::from(key.off) + key.var.var_off.value as i64;
    let slot = -stack_off - 1;
    if slot < 0 {
        return None;
    }
    let (spi, off) = ((slot / 8) as usize, (slot % 8) as usize);
    let frame = key.frameno as usize;
    let s = st.frames.get(frame)?.stack.get(spi)?;
    let zero_size = (0..=off)
        .rev()
        .take_while(|&i| s.slot_type[i] == crate::state::SlotType::Zero)
        .count();
    if zero_size as u32 >= key_size {
        return Some(0);
    }
    if !s.is_spilled_scalar_reg() {
        return None;
    }
    let spill_size = (0..=off)
        .rev()
        .take_while(|&i| s.slot_type[i] == crate::state::SlotType::Spill)
        .count();
    if spill_size as u32 != key_size || !s.spilled.var.is_const() {
        return None;
    }
    let v = s.spilled.var.var_off.value;
    super::precision::mark_chain_precision_slot(env, st, frame, spi);
    Some(v)
}

/// Helpers Linux 6.16 moved into `bpf_base_func_proto` for every program
/// type, behind CAP_PERFMON (6.12's tables, which we generate, have them for
/// tracing types only). Probed on the recorded 6.18 kernel: each is
/// available to every program type that loads without an attach target.
/// `bpf_get_cgroup_classid` and `bpf_get_netns_cookie` moved too, but with
/// protos that differ from the ones 6.12 has, so they stay unavailable
/// (a reject, never a wrong accept).
const BASE_FUNC_PROTOS_618: &[(&str, &str)] = &[
    ("bpf_get_current_uid_gid", "bpf_get_current_uid_gid_proto"),
    ("bpf_get_current_comm", "bpf_get_current_comm_proto"),
    ("bpf_perf_event_read", "bpf_perf_event_read_proto"),
    (
        "bpf_current_task_under_cgroup",
        "bpf_current_task_under_cgroup_proto",
    ),
    (
        "bpf_perf_event_read_value",
        "bpf_perf_event_read_value_proto",
    ),
    ("bpf_send_signal", "bpf_send_signal_proto"),
    ("bpf_send_signal_thread", "bpf_send_signal_thread_proto"),
    ("bpf_get_task_stack", "bpf_get_task_stack_proto"),
    ("bpf_copy_from_user", "bpf_copy_from_user_proto"),
    ("bpf_task_storage_get", "bpf_task_storage_get_proto"),
    ("bpf_task_storage_delete", "bpf_task_storage_delete_proto"),
    ("bpf_get_branch_snapshot", "bpf_get_branch_snapshot_proto"),
    ("bpf_find_vma", "bpf_find_vma_proto"),
    ("bpf_copy_from_user_task", "bpf_copy_from_user_task_proto"),
];

/// `bpf_base_func_proto` of 6.18 for the helpers of [`BASE_FUNC_PROTOS_618`]
/// (privileged loaders only: CAP_PERFMON).
fn base_func_proto_618(env: &Env<'_>, id: i32) -> Option<&'static FuncProto> {
    if !env.privileged {
        return None;
    }
    let name = helper_name(id)?;
    let (_, proto) = BASE_FUNC_PROTOS_618.iter().find(|(h, _)| *h == name)?;
    crate::platform::protos::proto_by_name(proto)
}

/// `cgroup_common_func_proto`'s switch on `expected_attach_type` for
/// `bpf_get_retval`/`bpf_set_retval` (its `case`s are not in our generated
/// path conditions): no proto for these attach types.
fn cgroup_retval_refused(env: &Env<'_>, id: i32) -> bool {
    use crate::platform::AttachType as A;
    // bpf_prog_load_fixup_attach_type: cgroup_sock programs loaded without
    // one get BPF_CGROUP_INET_SOCK_CREATE.
    let default = if env.prog_type == ProgType::CgroupSock {
        A::CgroupInetSockCreate
    } else {
        A::CgroupInetIngress
    };
    matches!(helper_name(id), Some("bpf_get_retval" | "bpf_set_retval"))
        && matches!(
            env.prog.attach_type.unwrap_or(default),
            A::CgroupInetIngress
                | A::CgroupInetEgress
                | A::CgroupSockOps
                | A::CgroupUdp4Recvmsg
                | A::CgroupUdp6Recvmsg
                | A::CgroupUnixRecvmsg
                | A::CgroupInet4Getpeername
                | A::CgroupInet6Getpeername
                | A::CgroupUnixGetpeername
                | A::CgroupInet4Getsockname
                | A::CgroupInet6Getsockname
                | A::CgroupUnixGetsockname
        )
        && func_proto_alternatives(env.prog_type, id)
            .iter()
            .all(|a| a.via.contains(&"cgroup_common_func_proto"))
}

/// The reference an argument carries: a release function's argument must
/// hold one (`meta->release_regno`); any other referenced argument is
/// remembered (`meta->ref_obj_id`) so that a pointer cast's result shares it.
fn note_arg_ref(
    idx: usize,
    regno: usize,
    reg: &RegState,
    release: bool,
    meta: &mut Meta,
) -> Result<(), Stop> {
    if release {
        if reg.ref_obj_id == 0 {
            bail_reject!(
                "BPF502",
                idx,
                "R{} must be referenced when passed to release function",
                regno
            );
        }
        meta.release_ref = Some(reg.ref_obj_id);
    } else if reg.ref_obj_id != 0 {
        meta.ref_obj_id = Some(reg.ref_obj_id);
    }
    Ok(())
}

/// `check_reg_type`'s `btf_struct_ids_match` step for a helper's BTF
/// pointer argument: the register's struct (at its offset) must be `want`.
fn check_btf_arg_type(
    btf: &crate::object::btf::Btf,
    idx: usize,
    regno: usize,
    reg: &RegState,
    want: u32,
    strict: bool,
) -> Result<(), Stop> {
    match super::kfunc::btf_struct_ids_match_off(btf, reg.btf_id, reg.off, want, strict) {
        None => Err(unsupported(
            idx,
            "BTF pointers into arrays passed to helpers",
        )),
        Some(false) => bail_reject!(
            "BPF405",
            idx,
            "R{} is of type {} but {} is expected",
            regno,
            btf.name_of(reg.btf_id),
            btf.name_of(want)
        ),
        Some(true) => Ok(()),
    }
}
