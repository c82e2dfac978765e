//! `check_mem_access` and the per-pointer-type checks it delegates to:
//! `check_stack_read/write` (fixed offsets), `check_packet_access`,
//! `check_map_access` / `check_mem_region_access`, `check_ctx_access`
//! (via [`crate::checks::ctx`]), fixed- and variable-offset stack accesses
//! (with the dynptr and `bpf_fastcall` rules), map values with special
//! fields, sockets, arena and BTF pointers (`kfunc`). Accesses to iterator
//! slots and pointer kinds not modelled are reported as unsupported.

use super::env::{BPF_MAX_VAR_OFF, Env, Stop, bail_reject, unsupported};
use super::obligation::{Obligation, ObligationKind};
use crate::checks::ctx::{AccessType, CtxCheck, CtxRegType, check_ctx_access};
use crate::isa::Size;
use crate::state::{
    BPF_REG_SIZE, BaseType, MAX_BPF_STACK, RegState, SlotType, TypeFlags, VerifierState,
};

/// Read or write.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    Read,
    Write,
}

/// What is written (for writes): a register, an immediate (`BPF_ST`), or
/// nothing known.
#[derive(Clone, Copy, Debug)]
pub enum Value {
    /// The register number (`value_regno`); for reads, the destination.
    Reg(usize),
    /// `BPF_ST` immediate.
    Imm(i32),
    /// No register (`value_regno == -1`): a read whose value is dropped.
    None,
}

/// `check_mem_access` for an instruction at `idx` through register `regno`.
#[allow(clippy::too_many_arguments)]
pub fn check_mem_access(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    off: i32,
    size: Size,
    t: Access,
    value: Value,
    is_ldsx: bool,
    strict_alignment_once: bool,
) -> Result<(), Stop> {
    let reg = &st.cur().regs[regno];
    if reg.is_pointer() {
        let kind = if t == Access::Write {
            ObligationKind::Write
        } else {
            ObligationKind::Read
        };
        let region = region_size(env, reg);
        env.cur_obligation = Some(Obligation::new(
            kind,
            idx,
            regno,
            reg,
            off as i64,
            size.bytes() as u64,
            region,
        ));
        env.obligations += 1;
    }
    check_mem_access_inner(
        env,
        st,
        idx,
        regno,
        off,
        size,
        t,
        value,
        is_ldsx,
        strict_alignment_once,
    )?;
    if let Some(ob) = env.cur_obligation.take() {
        super::record_proved(env, st, ob);
    }
    Ok(())
}

/// The size of the region a map key, map value or memory pointer points
/// into.
pub(super) fn region_size(env: &Env<'_>, reg: &RegState) -> Option<u32> {
    match reg.base {
        BaseType::MapValue => reg.map.and_then(|m| env.map(m)).map(|m| m.value_size),
        BaseType::MapKey => reg.map.and_then(|m| env.map(m)).map(|m| m.key_size),
        BaseType::Mem => Some(reg.mem_size),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn check_mem_access_inner(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    off: i32,
    size: Size,
    t: Access,
    value: Value,
    is_ldsx: bool,
    strict_alignment_once: bool,
) -> Result<(), Stop> {
    let reg = st.cur().regs[regno].clone();
    let sz = size.bytes() as i32;
    check_ptr_alignment(
        idx,
        &reg,
        off,
        sz,
        strict_alignment_once || env.strict_alignment,
    )?;
    let off = off + reg.off;
    let value_reg = match value {
        Value::Reg(v) => Some(v),
        Value::Imm(_) | Value::None => None,
    };
    let leaks = |st: &VerifierState| {
        t == Access::Write
            && value_reg.is_some_and(|v| st.cur().regs[v].is_pointer())
            && !env.privileged
    };
    match reg.base {
        BaseType::MapKey => {
            if t == Access::Write {
                bail_reject!("BPF306", idx, "write to change key R{} not allowed", regno);
            }
            let key_size = map_of(env, &reg, idx)?.key_size;
            check_mem_region_access(idx, regno, &reg, off, sz, key_size)?;
            if let Some(v) = value_reg {
                st.cur_mut().regs[v] = RegState::unknown_scalar();
            }
        }
        BaseType::MapValue if !reg.may_be_null() => {
            if leaks(st) {
                bail_reject!(
                    "BPF206",
                    idx,
                    "R{} leaks addr into map",
                    value_reg.unwrap_or(0)
                );
            }
            let m = map_of(env, &reg, idx)?;
            check_map_access_type(idx, m, off, sz, t)?;
            let (value_size, frozen, initial) = (m.value_size, m.frozen, m.initial.clone());
            check_mem_region_access(idx, regno, &reg, off, sz, value_size)?;
            check_map_fields(env, idx, &reg, off, sz, true)?;
            let at = i64::from(off) + reg.var.var_off.value as i64;
            if let Some(k) = super::kptr::kptr_at(env, &reg, at) {
                return super::kptr::check_map_kptr_access(env, st, idx, value, &k);
            }
            if t == Access::Read
                && let Some(v) = value_reg
            {
                // Read-only maps with known contents give constants
                // (`bpf_map_direct_read`).
                let nr = match (frozen, reg.var.is_const(), initial) {
                    (true, true, Some(data)) => {
                        let at = (off as i64 + reg.var.var_off.value as i64) as usize;
                        match data.get(at..at + sz as usize) {
                            Some(b) => {
                                let mut buf = [0u8; 8];
                                buf[..b.len()].copy_from_slice(b);
                                let raw = u64::from_le_bytes(buf);
                                let val = if is_ldsx {
                                    let sh = 64 - 8 * sz as u32;
                                    ((raw << sh) as i64 >> sh) as u64
                                } else {
                                    raw
                                };
                                RegState::known(val)
                            }
                            None => RegState::unknown_scalar(),
                        }
                    }
                    _ => RegState::unknown_scalar(),
                };
                st.cur_mut().regs[v] = nr;
            }
        }
        BaseType::Mem if !reg.may_be_null() => {
            let rdonly = reg.flags.has(TypeFlags::RDONLY);
            if t == Access::Write && rdonly {
                bail_reject!(
                    "BPF307",
                    idx,
                    "R{} cannot write into {}",
                    regno,
                    reg.type_str()
                );
            }
            if leaks(st) {
                bail_reject!(
                    "BPF206",
                    idx,
                    "R{} leaks addr into mem",
                    value_reg.unwrap_or(0)
                );
            }
            check_mem_region_access(idx, regno, &reg, off, sz, reg.mem_size)?;
            if let Some(v) = value_reg
                && (t == Access::Read || rdonly)
            {
                st.cur_mut().regs[v] = RegState::unknown_scalar();
            }
        }
        BaseType::Ctx if reg.flags.0 == 0 => {
            if leaks(st) {
                bail_reject!(
                    "BPF206",
                    idx,
                    "R{} leaks addr into ctx",
                    value_reg.unwrap_or(0)
                );
            }
            check_ptr_off_reg(idx, regno, &reg)?;
            if super::btf_ctx::modelled(env) {
                use super::btf_ctx::CtxArg;
                match super::btf_ctx::btf_ctx_access(env, idx, off, sz, t == Access::Write)? {
                    CtxArg::Invalid => bail_reject!(
                        "BPF304",
                        idx,
                        "invalid bpf_context access off={} size={}",
                        off,
                        sz
                    ),
                    CtxArg::Scalar => {
                        if let Some(v) = value_reg {
                            st.cur_mut().regs[v] = RegState::unknown_scalar();
                        }
                    }
                    CtxArg::Ptr(r) => {
                        if let Some(v) = value_reg {
                            st.cur_mut().regs[v] = r;
                        }
                    }
                }
                if t == Access::Read
                    && let Some(v) = value_reg
                    && sz < 8
                    && st.cur().regs[v].is_scalar()
                {
                    coerce_loaded(st, v, sz, is_ldsx);
                }
                return Ok(());
            }
            let at = if t == Access::Read {
                AccessType::Read
            } else {
                AccessType::Write
            };
            match check_ctx_access(
                env.prog_type,
                env.prog.attach_type,
                off,
                sz as u32,
                at,
                is_ldsx,
            ) {
                CtxCheck::Invalid => {
                    bail_reject!(
                        "BPF304",
                        idx,
                        "invalid bpf_context access off={} size={}",
                        off,
                        sz
                    );
                }
                CtxCheck::Unsupported(what) => return Err(unsupported(idx, what)),
                CtxCheck::Ok(acc) => {
                    if acc.is_retval {
                        return Err(unsupported(idx, "ctx return-value fields"));
                    }
                    if t == Access::Read
                        && let Some(v) = value_reg
                    {
                        let nr = match acc.reg_type {
                            CtxRegType::Scalar => RegState::unknown_scalar(),
                            CtxRegType::Packet => RegState::pointer(BaseType::Packet),
                            CtxRegType::PacketMeta => RegState::pointer(BaseType::PacketMeta),
                            CtxRegType::PacketEnd => RegState::pointer(BaseType::PacketEnd),
                            CtxRegType::FlowKeys => RegState::pointer(BaseType::FlowKeys),
                            CtxRegType::SockCommon => RegState::pointer(BaseType::SockCommon),
                            CtxRegType::Socket => RegState::pointer(BaseType::Socket),
                            CtxRegType::SockCommonOrNull | CtxRegType::SocketOrNull => {
                                let base = if acc.reg_type == CtxRegType::Socket
                                    || acc.reg_type == CtxRegType::SocketOrNull
                                {
                                    BaseType::Socket
                                } else {
                                    BaseType::SockCommon
                                };
                                let mut r = RegState::pointer(base);
                                r.flags.0 |= TypeFlags::MAYBE_NULL;
                                r.id = env.new_id();
                                r
                            }
                            CtxRegType::TpBuffer => RegState::pointer(BaseType::TpBuffer),
                            CtxRegType::BtfId {
                                struct_name,
                                or_null,
                                trusted,
                            } => {
                                // PTR_TO_BTF_ID of a vmlinux struct (netfilter's
                                // skb and state).
                                let btf = crate::object::btf::bundled_vmlinux_btf()
                                    .map_err(|e| unsupported(idx, format!("kernel BTF: {e}")))?;
                                let Some(id) = btf.find_by_name_kind(
                                    struct_name,
                                    crate::object::btf::BtfKind::Struct,
                                ) else {
                                    return Err(unsupported(
                                        idx,
                                        format!("struct {struct_name} not in the kernel BTF"),
                                    ));
                                };
                                let mut r = RegState::pointer(BaseType::BtfId);
                                r.btf_id = id;
                                if trusted {
                                    r.flags.0 |= TypeFlags::TRUSTED;
                                }
                                if or_null {
                                    r.flags.0 |= TypeFlags::MAYBE_NULL;
                                    r.id = env.new_id();
                                }
                                r
                            }
                        };
                        st.cur_mut().regs[v] = nr;
                        if acc.reg_type == CtxRegType::Scalar && sz < 8 {
                            coerce_loaded(st, v, sz, is_ldsx);
                        }
                        return Ok(());
                    }
                }
            }
        }
        BaseType::TpBuffer => {
            // check_tp_buffer_access (__check_buffer_access): a constant,
            // non-negative offset; the upper bound is checked at attach
            // time against the tracepoint's writable size.
            if off < 0 {
                bail_reject!(
                    "BPF304",
                    idx,
                    "R{} invalid tracepoint buffer access: off={}, size={}",
                    regno,
                    off,
                    sz
                );
            }
            if !reg.var.is_const() || reg.var.var_off.value != 0 {
                bail_reject!(
                    "BPF304",
                    idx,
                    "R{} invalid variable buffer offset: off={}, var_off={}",
                    regno,
                    off,
                    crate::state::print::tnum_strn(reg.var.var_off)
                );
            }
            if t == Access::Read
                && let Some(v) = value_reg
            {
                st.cur_mut().regs[v] = RegState::unknown_scalar();
            }
        }
        BaseType::FlowKeys => {
            // check_flow_keys_access: inside struct bpf_flow_keys.
            let size = crate::object::btf::bundled_vmlinux_btf()
                .ok()
                .and_then(|b| {
                    let id =
                        b.find_by_name_kind("bpf_flow_keys", crate::object::btf::BtfKind::Struct)?;
                    b.resolve_size(id).ok()
                })
                .ok_or_else(|| unsupported(idx, "struct bpf_flow_keys is not in the kernel BTF"))?;
            let full = off as i64 + reg.var.var_off.value as i64;
            if !reg.var.is_const() {
                return Err(unsupported(idx, "variable offsets into flow keys"));
            }
            if full < 0 || full + sz as i64 > size as i64 {
                bail_reject!(
                    "BPF304",
                    idx,
                    "invalid access to flow keys off={} size={}",
                    full,
                    sz
                );
            }
            if t == Access::Read
                && let Some(v) = value_reg
            {
                st.cur_mut().regs[v] = RegState::unknown_scalar();
            }
        }
        BaseType::Stack => {
            if !reg.var.is_const() {
                return check_stack_var_off(env, st, idx, regno, &reg, off, sz, t, value, is_ldsx);
            }
            let full = off as i64 + reg.var.var_off.value as i64;
            check_stack_access_within_bounds(idx, regno, full, sz, t)?;
            let sf = reg.frameno as usize;
            if sf >= st.frames.len() {
                return Err(unsupported(
                    idx,
                    "stack pointer into a frame that has returned",
                ));
            }
            let full = full as i32;
            let spi = ((-full - 1) / 8) as usize;
            if st.frames[sf].stack[spi].slot_type.contains(&SlotType::Iter) {
                return Err(unsupported(idx, "stack accesses to iterator slots"));
            }
            match t {
                Access::Read => {
                    super::regs::mark_stack_read(env, st, sf, spi);
                    check_stack_read_fixed_off(env, st, idx, sf, full, sz, value_reg)?
                }
                Access::Write => {
                    check_stack_write_fixed_off(env, st, idx, sf, full, sz, value)?;
                    if sz == 8 {
                        st.frames[sf].stack_live[spi] |= super::regs::REG_LIVE_WRITTEN;
                    }
                }
            }
        }
        BaseType::Packet | BaseType::PacketMeta => {
            if t == Access::Write && !may_access_direct_pkt_data_write(env) {
                bail_reject!("BPF301", idx, "cannot write into packet");
            }
            if leaks(st) {
                bail_reject!(
                    "BPF206",
                    idx,
                    "R{} leaks addr into packet",
                    value_reg.unwrap_or(0)
                );
            }
            check_packet_access(idx, regno, &reg, off, sz)?;
            if t == Access::Read
                && let Some(v) = value_reg
            {
                st.cur_mut().regs[v] = RegState::unknown_scalar();
            }
        }
        BaseType::Socket | BaseType::SockCommon | BaseType::TcpSock if !reg.may_be_null() => {
            use crate::checks::ctx::{SockKind, sock_access_ok};
            if t == Access::Write {
                bail_reject!(
                    "BPF305",
                    idx,
                    "R{} cannot write into {}",
                    regno,
                    reg.type_str()
                );
            }
            if reg.var.smin < 0 {
                bail_reject!(
                    "BPF305",
                    idx,
                    "R{} min value is negative, either use unsigned index or do a if (index >=0) check.",
                    regno
                );
            }
            let kind = match reg.base {
                BaseType::Socket => SockKind::Socket,
                BaseType::TcpSock => SockKind::TcpSock,
                _ => SockKind::SockCommon,
            };
            if !sock_access_ok(kind, off, sz) {
                bail_reject!(
                    "BPF305",
                    idx,
                    "R{} invalid {} access off={} size={}",
                    regno,
                    reg.type_str(),
                    off,
                    sz
                );
            }
            if let Some(v) = value_reg {
                st.cur_mut().regs[v] = RegState::unknown_scalar();
            }
        }
        BaseType::MapPtr => {
            let m = map_of(env, &reg, idx)?;
            let dst = if t == Access::Read { value_reg } else { None };
            super::kfunc::check_ptr_to_map_access(
                st,
                idx,
                regno,
                m.map_type,
                off,
                sz,
                t == Access::Write,
                dst,
                env.privileged,
            )?;
        }
        BaseType::BtfId if !reg.may_be_null() => {
            let dst = if t == Access::Read { value_reg } else { None };
            super::kfunc::check_ptr_to_btf_access(
                env,
                st,
                idx,
                regno,
                &reg,
                off,
                sz,
                t == Access::Write,
                dst,
            )?;
        }
        BaseType::Arena => {
            // Any access: the JIT makes it a fault-tolerant PROBE_MEM32.
            if is_ldsx {
                return Err(unsupported(idx, "sign-extending loads from arena"));
            }
            if t == Access::Read
                && let Some(v) = value_reg
            {
                st.cur_mut().regs[v] = RegState::unknown_scalar();
            }
        }
        BaseType::Scalar
        | BaseType::NotInit
        | BaseType::PacketEnd
        | BaseType::MapValue
        | BaseType::BtfId
        | BaseType::Mem
        | BaseType::Socket
        | BaseType::SockCommon
        | BaseType::TcpSock
        | BaseType::DynptrPtr
        | BaseType::Ctx => {
            bail_reject!(
                "BPF305",
                idx,
                "R{} invalid mem access '{}'",
                regno,
                reg.type_str()
            );
        }
        _ => {
            return Err(unsupported(
                idx,
                format!("memory access through {}", reg.type_str()),
            ));
        }
    }
    if t == Access::Read
        && let Some(v) = value_reg
        && sz < 8
        && st.cur().regs[v].is_scalar()
    {
        coerce_loaded(st, v, sz, is_ldsx);
    }
    Ok(())
}

/// `check_map_access_type`: `BPF_F_RDONLY_PROG` / `BPF_F_WRONLY_PROG`.
pub fn check_map_access_type(
    idx: usize,
    m: &crate::object::MapDef,
    off: i32,
    size: i32,
    t: Access,
) -> Result<(), Stop> {
    const BPF_F_RDONLY_PROG: u32 = 1 << 7;
    const BPF_F_WRONLY_PROG: u32 = 1 << 8;
    if t == Access::Write && m.map_flags & BPF_F_RDONLY_PROG != 0 {
        bail_reject!(
            "BPF302",
            idx,
            "write into map forbidden, value_size={} off={} size={}",
            m.value_size,
            off,
            size
        );
    }
    if t == Access::Read && m.map_flags & BPF_F_WRONLY_PROG != 0 {
        bail_reject!(
            "BPF302",
            idx,
            "read from map forbidden, value_size={} off={} size={}",
            m.value_size,
            off,
            size
        );
    }
    Ok(())
}

/// The zero- or sign-extension of a narrow load.
fn coerce_loaded(st: &mut VerifierState, v: usize, sz: i32, is_ldsx: bool) {
    let r = &mut st.cur_mut().regs[v];
    if is_ldsx {
        r.var.coerce_to_size_sx(sz as u8);
    } else {
        r.var.coerce_to_size(sz as u8);
    }
}

fn map_of<'e>(
    env: &'e Env<'_>,
    reg: &RegState,
    idx: usize,
) -> Result<&'e crate::object::MapDef, Stop> {
    reg.map
        .and_then(|m| env.map(m))
        .ok_or_else(|| unsupported(idx, "pointer into an unknown map"))
}

/// The special fields of a map value (`struct btf_record`), as far as
/// bpfproof models them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapFields {
    /// No special field.
    None,
    /// Exactly one top-level `struct bpf_spin_lock`, at this byte offset.
    SpinLock(u32),
    /// Only kptrs to kernel structs.
    Kptrs(std::rc::Rc<[super::kptr::KptrField]>),
    /// Timers, kptrs, graph roots, nested locks, or a value we cannot
    /// inspect: not modelled. The `FIELD_*` kinds found.
    Other(u8),
}

/// A `bpf_spin_lock` (`BPF_SPIN_LOCK`).
pub const FIELD_SPIN_LOCK: u8 = 1;
/// A `bpf_timer` (`BPF_TIMER`).
pub const FIELD_TIMER: u8 = 2;
/// A `bpf_wq` (`BPF_WORKQUEUE`).
pub const FIELD_WQ: u8 = 4;
/// A `bpf_list_head` or `bpf_rb_root` (`BPF_LIST_HEAD | BPF_RB_ROOT`).
pub const FIELD_GRAPH_ROOT: u8 = 8;
/// kptrs, graph nodes, refcounts, or a value we cannot inspect.
pub const FIELD_OTHER: u8 = 16;
/// kptrs (`BPF_KPTR`).
pub const FIELD_KPTR: u8 = 32;

/// `btf_parse_fields` for the value type of a map.
pub fn map_fields(obj: &crate::object::Object, value_type: Option<u32>) -> MapFields {
    use crate::object::btf::BtfTypeKind;
    let kind_of = |name: &str| -> Option<u8> {
        Some(match name {
            "bpf_spin_lock" => FIELD_SPIN_LOCK,
            "bpf_timer" => FIELD_TIMER,
            "bpf_wq" | "bpf_workqueue" => FIELD_WQ,
            "bpf_list_head" | "bpf_rb_root" => FIELD_GRAPH_ROOT,
            "bpf_list_node" | "bpf_rb_node" | "bpf_refcount" => FIELD_OTHER,
            _ => return None,
        })
    };
    let Some(id) = value_type else {
        return MapFields::None;
    };
    let Some(btf) = obj.btf.as_ref() else {
        return MapFields::Other(FIELD_OTHER);
    };
    let root = btf.skip_mods_and_typedefs(id);
    let mut kinds = 0u8;
    let mut lock = None;
    let mut kptrs = Vec::new();
    let mut simple = true;
    let mut stack = vec![(root, 0u32, 0u32)];
    while let Some((id, depth, base_bits)) = stack.pop() {
        if depth > 8 {
            kinds |= FIELD_OTHER;
            break;
        }
        let id = btf.skip_mods_and_typedefs(id);
        let name = btf.name_of(id);
        if let Some(k) = kind_of(name) {
            kinds |= k;
            if k != FIELD_SPIN_LOCK || depth != 1 || lock.is_some() {
                simple = false;
            } else {
                lock = Some(base_bits / 8);
            }
            continue;
        }
        let Some(t) = btf.type_by_id(id) else {
            continue;
        };
        if t.is_composite() {
            for m in t.members() {
                stack.push((m.type_id, depth + 1, base_bits + m.bit_offset));
            }
        } else if let BtfTypeKind::Array { elem, .. } = t.kind {
            // Special fields inside arrays are not modelled.
            let e = btf.skip_mods_and_typedefs(elem);
            if super::kptr::parse_kptr(btf, e, 0) != Ok(None) {
                kinds |= FIELD_OTHER;
            } else if kind_of(btf.name_of(e)).is_some()
                || btf.type_by_id(e).is_some_and(|t| t.is_composite())
            {
                stack.push((elem, depth + 2, base_bits));
            }
        } else if let BtfTypeKind::TypeTag { .. } = t.kind {
            kinds |= FIELD_OTHER;
        } else if let BtfTypeKind::Ptr { .. } = t.kind {
            // kptrs are pointers with type tags.
            match super::kptr::parse_kptr(btf, id, base_bits / 8) {
                Ok(None) => {}
                Ok(Some(k)) if base_bits % 8 == 0 => {
                    kinds |= FIELD_KPTR;
                    kptrs.push(k);
                }
                _ => kinds |= FIELD_OTHER,
            }
        }
    }
    match (kinds, lock) {
        (0, _) => MapFields::None,
        (FIELD_KPTR, _) => {
            kptrs.sort_by_key(|k: &super::kptr::KptrField| k.off);
            MapFields::Kptrs(kptrs.into())
        }
        (FIELD_SPIN_LOCK, Some(off)) if simple => MapFields::SpinLock(off),
        _ => MapFields::Other(kinds),
    }
}

/// The special-field part of `check_map_access`: no load or store may touch
/// a `bpf_spin_lock`.
fn check_map_fields(
    env: &Env<'_>,
    idx: usize,
    reg: &RegState,
    off: i32,
    size: i32,
    direct: bool,
) -> Result<(), Stop> {
    let fields = reg
        .map
        .and_then(|m| env.map_fields.get(m as usize))
        .cloned()
        .unwrap_or(MapFields::None);
    match fields {
        MapFields::None => Ok(()),
        MapFields::Kptrs(ks) => {
            for k in ks.iter() {
                let p = i64::from(k.off);
                let lo = reg.var.smin + i64::from(off);
                let hi = reg.var.umax as i64 + i64::from(off) + i64::from(size);
                if !(lo < p + 8 && p < hi) {
                    continue;
                }
                if !direct {
                    bail_reject!(
                        "BPF302",
                        idx,
                        "kptr cannot be accessed indirectly by helper"
                    );
                }
                if !reg.var.is_const() {
                    bail_reject!("BPF302", idx, "kptr access cannot have variable offset");
                }
                let at = i64::from(off) + reg.var.var_off.value as i64;
                if p != at {
                    bail_reject!(
                        "BPF302",
                        idx,
                        "kptr access misaligned expected={} off={}",
                        p,
                        at
                    );
                }
                if size != 8 {
                    bail_reject!("BPF302", idx, "kptr access size must be BPF_DW");
                }
            }
            Ok(())
        }
        MapFields::Other(_) => Err(unsupported(
            idx,
            "map values with special fields (timer, kptr, graph roots)",
        )),
        MapFields::SpinLock(p) => {
            let (p, lo, hi) = (
                i64::from(p),
                reg.var.smin + i64::from(off),
                reg.var.umax as i64 + i64::from(off) + i64::from(size),
            );
            if lo < p + 4 && p < hi {
                bail_reject!(
                    "BPF503",
                    idx,
                    "bpf_spin_lock cannot be accessed directly by load/store"
                );
            }
            Ok(())
        }
    }
}

/// `check_ptr_alignment`: stack accesses are always strictly aligned;
/// other pointers only under `strict` (atomics pass
/// `strict_alignment_once`; x86-64 has efficient unaligned access, so
/// nothing else is strict without `BPF_F_STRICT_ALIGNMENT`).
pub(super) fn check_ptr_alignment(
    idx: usize,
    reg: &RegState,
    off: i32,
    size: i32,
    strict: bool,
) -> Result<(), Stop> {
    use bpfproof_domains::tnum::Tnum;
    if size == 1 || reg.base == BaseType::Arena {
        return Ok(());
    }
    if reg.base.is_pkt_pointer() {
        if !strict {
            return Ok(());
        }
        // NET_IP_ALIGN is 2 on the kernel's generic path.
        let reg_off = reg
            .var
            .var_off
            .add(Tnum::constant((2 + reg.off as i64 + off as i64) as u64));
        if !reg_off.is_aligned(size as u64) {
            bail_reject!(
                "BPF301",
                idx,
                "misaligned packet access off {}+{}+{}+{} size {}",
                2,
                reg.var.var_off,
                reg.off,
                off,
                size
            );
        }
        return Ok(());
    }
    let (desc, strict) = match reg.base {
        BaseType::Stack => ("stack ", true),
        BaseType::FlowKeys => ("flow keys ", strict),
        BaseType::MapKey => ("key ", strict),
        BaseType::MapValue => ("value ", strict),
        BaseType::Ctx => ("context ", strict),
        BaseType::Socket => ("sock ", strict),
        BaseType::SockCommon => ("sock_common ", strict),
        BaseType::TcpSock => ("tcp_sock ", strict),
        BaseType::XdpSock => ("xdp_sock ", strict),
        _ => ("", strict),
    };
    if !strict {
        return Ok(());
    }
    let reg_off = reg
        .var
        .var_off
        .add(Tnum::constant((reg.off as i64 + off as i64) as u64));
    if !reg_off.is_aligned(size as u64) {
        // The code of the memory kind the access goes to.
        let code = match reg.base {
            BaseType::Stack => "BPF303",
            BaseType::MapValue => "BPF302",
            BaseType::MapKey => "BPF306",
            BaseType::Ctx => "BPF304",
            _ => "BPF305",
        };
        bail_reject!(
            code,
            idx,
            "misaligned {}access off {}+{}+{} size {}",
            desc,
            reg.var.var_off,
            reg.off,
            off,
            size
        );
    }
    Ok(())
}

/// `__check_ptr_off_reg` with `fixed_off_ok = false`.
pub(super) fn check_ptr_off_reg(idx: usize, regno: usize, reg: &RegState) -> Result<(), Stop> {
    check_ptr_off_reg_fixed_ok(idx, regno, reg, false)
}

/// `__check_ptr_off_reg`: with `fixed_off_ok` a constant offset is allowed.
pub(super) fn check_ptr_off_reg_fixed_ok(
    idx: usize,
    regno: usize,
    reg: &RegState,
    fixed_off_ok: bool,
) -> Result<(), Stop> {
    if reg.off < 0 {
        bail_reject!(
            "BPF304",
            idx,
            "negative offset {} ptr R{} off={} disallowed",
            reg.type_str(),
            regno,
            reg.off
        );
    }
    if !fixed_off_ok && reg.off != 0 {
        bail_reject!(
            "BPF304",
            idx,
            "dereference of modified {} ptr R{} off={} disallowed",
            reg.type_str(),
            regno,
            reg.off
        );
    }
    if !reg.var.is_const() || reg.var.var_off.value != 0 {
        bail_reject!(
            "BPF304",
            idx,
            "variable {} access var_off={} disallowed",
            reg.type_str(),
            reg.var.var_off
        );
    }
    Ok(())
}

/// `__check_mem_access`'s message for an out-of-range access.
fn mem_access_message(
    regno: usize,
    reg: &RegState,
    off: i64,
    size: i32,
    mem_size: i64,
) -> (&'static str, String) {
    match reg.base {
        BaseType::MapKey => (
            "BPF306",
            format!("invalid access to map key, key_size={mem_size} off={off} size={size}"),
        ),
        BaseType::MapValue => (
            "BPF302",
            format!("invalid access to map value, value_size={mem_size} off={off} size={size}"),
        ),
        BaseType::Packet | BaseType::PacketMeta | BaseType::PacketEnd => (
            "BPF301",
            format!(
                "invalid access to packet, off={off} size={size}, R{regno}(id={},off={off},r={mem_size})",
                reg.id
            ),
        ),
        _ => (
            "BPF307",
            format!("invalid access to memory, mem_size={mem_size} off={off} size={size}"),
        ),
    }
}

fn in_range(off: i64, size: i32, mem_size: i64) -> bool {
    // Size 0 only reaches here from helpers whose size may be zero
    // (`zero_size_allowed`); a zero-sized read that is not allowed is
    // refused before.
    off >= 0 && size >= 0 && off + size as i64 <= mem_size
}

/// `check_mem_region_access`.
pub(super) fn check_mem_region_access(
    idx: usize,
    regno: usize,
    reg: &RegState,
    off: i32,
    size: i32,
    mem_size: u32,
) -> Result<(), Stop> {
    let v = &reg.var;
    let off = off as i64;
    let mem = mem_size as i64;
    if v.smin < 0
        && (v.smin == i64::MIN
            || (off + v.smin) != (off + v.smin) as i32 as i64
            || v.smin + off < 0)
    {
        bail_reject!(
            "BPF302",
            idx,
            "R{} min value is negative, either use unsigned index or do a if (index >=0) check.",
            regno
        );
    }
    let lo = v.smin + off;
    if !in_range(lo, size, mem) {
        let (code, msg) = mem_access_message(regno, reg, lo, size, mem);
        return Err(super::env::Stop::Reject(super::Finding {
            code,
            message: msg,
            insn: Some(idx),
            more: vec![format!(
                "R{regno} min value is outside of the allowed memory range"
            )],
        }));
    }
    if v.umax >= BPF_MAX_VAR_OFF as u64 {
        bail_reject!(
            "BPF302",
            idx,
            "R{} unbounded memory access, make sure to bounds check any such access",
            regno
        );
    }
    let hi = v.umax as i64 + off;
    if !in_range(hi, size, mem) {
        let (code, msg) = mem_access_message(regno, reg, hi, size, mem);
        return Err(super::env::Stop::Reject(super::Finding {
            code,
            message: msg,
            insn: Some(idx),
            more: vec![format!(
                "R{regno} max value is outside of the allowed memory range"
            )],
        }));
    }
    Ok(())
}

/// `check_packet_access`.
pub(super) fn check_packet_access(
    idx: usize,
    regno: usize,
    reg: &RegState,
    off: i32,
    size: i32,
) -> Result<(), Stop> {
    if reg.var.smin < 0 {
        bail_reject!(
            "BPF301",
            idx,
            "R{} min value is negative, either use unsigned index or do a if (index >=0) check.",
            regno
        );
    }
    if reg.range < 0 || !in_range(off as i64, size, reg.range as i64) {
        let (code, msg) = mem_access_message(regno, reg, off as i64, size, reg.range as i64);
        let msg = if reg.range < 0 {
            format!("R{regno} offset is outside of the packet")
        } else {
            msg
        };
        return Err(super::env::Stop::Reject(super::Finding {
            code,
            message: msg,
            insn: Some(idx),
            more: vec![format!("R{regno} offset is outside of the packet")],
        }));
    }
    Ok(())
}

/// `may_access_direct_pkt_data` for writes (also what
/// `bpf_dynptr_slice_rdwr` asks).
pub(super) fn may_access_direct_pkt_data_write(env: &Env<'_>) -> bool {
    use crate::platform::ProgType as P;
    matches!(
        env.prog_type,
        P::SchedCls | P::SchedAct | P::Xdp | P::LwtXmit | P::SkSkb | P::SkMsg | P::CgroupSockopt
    )
}

/// `check_stack_access_within_bounds` for a constant offset.
fn check_stack_access_within_bounds(
    idx: usize,
    regno: usize,
    off: i64,
    size: i32,
    t: Access,
) -> Result<(), Stop> {
    let min_valid = -(MAX_BPF_STACK as i64);
    let bad = off < min_valid || off > -1 || off + size as i64 > 0;
    if bad {
        let what = if t == Access::Read {
            " read from"
        } else {
            " write to"
        };
        bail_reject!(
            "BPF303",
            idx,
            "invalid{} stack R{} off={} size={}",
            what,
            regno,
            off,
            size
        );
    }
    Ok(())
}

fn slot_of(off: i32) -> (usize, i32) {
    let slot = -off - 1;
    ((slot / 8) as usize, slot)
}

/// `check_stack_write_var_off` (privileged: `allow_ptr_leaks` and
/// `allow_uninit_stack`): every byte in `[min_off, max_off)` may be
/// written, so spilled registers there are forgotten and the bytes become
/// `STACK_MISC`, or stay `STACK_ZERO` (or a spilled zero) when zero is
/// written.
fn check_stack_write_var_off(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    sf: usize,
    min_off: i64,
    max_off: i64,
    value: Value,
) -> Result<(), Stop> {
    let frame = st.frames.len() - 1;
    let writing_zero = match value {
        Value::Reg(v) => st.frames[frame].regs[v].is_null(),
        Value::Imm(imm) => imm == 0,
        Value::None => false,
    };
    if (min_off..max_off).any(|o| {
        st.frames[sf].stack[((-o - 1) / 8) as usize]
            .slot_type
            .contains(&SlotType::Iter)
    }) {
        return Err(unsupported(idx, "stack writes over iterator slots"));
    }
    for o in min_off..max_off {
        super::dynptr::destroy_if_dynptr_stack_slot(st, idx, sf, ((-o - 1) / 8) as usize)?;
    }
    super::fastcall::check_fastcall_stack_contract(env, st.frames[sf].subprog_start, idx, min_off);
    let mut zero_used = false;
    let fr = &mut st.frames[sf];
    fr.allocated_stack = fr.allocated_stack.max((-min_off) as i32);
    for i in min_off..max_off {
        let slot = (-i - 1) as usize;
        let (spi, b) = (slot / BPF_REG_SIZE, slot % BPF_REG_SIZE);
        let s = &mut fr.stack[spi];
        let stype = s.slot_type[b];
        if writing_zero
            && stype == SlotType::Spill
            && s.spilled.is_scalar()
            && s.spilled.var.is_const()
            && s.spilled.var.var_off.value == 0
        {
            zero_used = true;
            continue;
        }
        s.spilled = RegState::not_init();
        let new_type = if writing_zero && stype == SlotType::Zero {
            zero_used = true;
            SlotType::Zero
        } else {
            SlotType::Misc
        };
        s.slot_type[b] = new_type;
    }
    if zero_used && let Value::Reg(v) = value {
        super::precision::mark_chain_precision(env, st, v);
    }
    Ok(())
}

/// `check_stack_write_fixed_off` (privileged: `bpf_capable`,
/// `allow_ptr_leaks`).
fn check_stack_write_fixed_off(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    sf: usize,
    off: i32,
    size: i32,
    value: Value,
) -> Result<(), Stop> {
    if !env.privileged {
        return Err(unsupported(idx, "unprivileged stack writes"));
    }
    let (spi, slot) = slot_of(off);
    // Registers are the current frame's; the stack is the one `sf` points into.
    let frame = st.frames.len() - 1;
    let reg = match value {
        Value::Reg(v) => Some(st.frames[frame].regs[v].clone()),
        Value::Imm(_) | Value::None => None,
    };
    super::dynptr::destroy_if_dynptr_stack_slot(st, idx, sf, spi)?;
    super::fastcall::check_fastcall_stack_contract(
        env,
        st.frames[sf].subprog_start,
        idx,
        i64::from(off),
    );
    let fr = &mut st.frames[sf];
    fr.allocated_stack = fr.allocated_stack.max(-off);
    let aligned = off % BPF_REG_SIZE as i32 == 0;
    let spillable = |r: &RegState| r.is_pointer();
    match (&reg, value) {
        (Some(r), _) if aligned && r.is_scalar() => {
            let mut r = r.clone();
            let fits = r.var.umax
                <= if size == 8 {
                    u64::MAX
                } else {
                    (1u64 << (8 * size)) - 1
                };
            if fits {
                // assign_scalar_id_before_mov
                super::alu::assign_scalar_id_before_mov(env, &mut r);
                if let Value::Reg(v) = value {
                    st.frames[frame].regs[v].id = r.id;
                    st.frames[frame].regs[v].off = r.off;
                }
            }
            let mut saved = r;
            if !fits {
                saved.id = 0;
            }
            save_register_state(&mut st.frames[sf].stack[spi], saved, size, env.privileged);
            env.hist_stack_access(sf, spi);
        }
        (None, Value::Imm(imm)) if aligned => {
            save_register_state(
                &mut st.frames[sf].stack[spi],
                RegState::known(imm as i64 as u64),
                size,
                env.privileged,
            );
            env.hist_stack_access(sf, spi);
        }
        (Some(r), _) if spillable(r) => {
            if size != 8 {
                bail_reject!("BPF303", idx, "invalid size of register spill");
            }
            if sf != frame && r.base == BaseType::Stack {
                bail_reject!(
                    "BPF303",
                    idx,
                    "cannot spill pointers to stack into stack frame of the caller"
                );
            }
            save_register_state(
                &mut st.frames[sf].stack[spi],
                r.clone(),
                size,
                env.privileged,
            );
            env.hist_stack_access(sf, spi);
        }
        _ => {
            st.frames[sf].stack[spi].scrub();
            let zero = match (&reg, value) {
                (Some(r), _) => r.is_null(),
                (None, Value::Imm(imm)) => imm == 0,
                _ => false,
            };
            if zero && let Value::Reg(v) = value {
                // STACK_ZERO depends on the register being zero.
                super::precision::mark_chain_precision(env, st, v);
            }
            let ty = if zero { SlotType::Zero } else { SlotType::Misc };
            let s = &mut st.frames[sf].stack[spi];
            for i in 0..size {
                s.slot_type[((slot - i) as usize) % BPF_REG_SIZE] = ty;
            }
        }
    }
    Ok(())
}

/// `save_register_state`.
fn save_register_state(
    s: &mut crate::state::StackSlot,
    r: RegState,
    size: i32,
    allow_ptr_leaks: bool,
) {
    s.spilled = r;
    let size = size as usize;
    for i in (BPF_REG_SIZE - size..BPF_REG_SIZE).rev() {
        s.slot_type[i] = SlotType::Spill;
    }
    for k in 0..BPF_REG_SIZE - size {
        s.mark_misc(k, allow_ptr_leaks);
    }
}

/// `check_stack_read_fixed_off` (privileged: `allow_uninit_stack`).
fn check_stack_read_fixed_off(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    sf: usize,
    off: i32,
    size: i32,
    dst: Option<usize>,
) -> Result<(), Stop> {
    let (spi, slot) = slot_of(off);
    // The kernel checks the contract of the current function here.
    let cur_start = st.cur().subprog_start;
    super::fastcall::check_fastcall_stack_contract(env, cur_start, idx, i64::from(off));
    // The stack is the one `sf` points into; the destination is a register
    // of the current frame.
    let frame = st.frames.len() - 1;
    let s = st.frames[sf].stack[spi].clone();
    let allow_uninit = env.privileged;
    if s.is_spilled_reg() {
        let mut spill_size = 1;
        let mut i = BPF_REG_SIZE - 1;
        while i > 0 && s.slot_type[i - 1] == SlotType::Spill {
            spill_size += 1;
            i -= 1;
        }
        if size != 8 || spill_size != 8 {
            if !s.spilled.is_scalar() {
                bail_reject!("BPF303", idx, "invalid size of register fill");
            }
            let Some(d) = dst else { return Ok(()) };
            let narrow_ok = size <= spill_size && bpf_stack_narrow_access_ok(off, size, spill_size);
            if narrow_ok {
                env.hist_stack_access(sf, spi);
                let mut r = s.spilled.clone();
                if r.var.umax
                    > if size == 8 {
                        u64::MAX
                    } else {
                        (1u64 << (8 * size)) - 1
                    }
                {
                    r.id = 0;
                }
                st.frames[frame].regs[d] = r;
            } else {
                let (mut spill_cnt, mut zero_cnt) = (0, 0);
                for i in 0..size {
                    match s.slot_type[((slot - i) as usize) % BPF_REG_SIZE] {
                        SlotType::Spill => spill_cnt += 1,
                        SlotType::Misc => {}
                        SlotType::Zero => zero_cnt += 1,
                        SlotType::Iter => {
                            return Err(unsupported(idx, "stack accesses to iterator slots"));
                        }
                        SlotType::Invalid if allow_uninit => {}
                        SlotType::Invalid | SlotType::Dynptr => {
                            bail_reject!(
                                "BPF303",
                                idx,
                                "invalid read from stack off {}+{} size {}",
                                off,
                                i,
                                size
                            );
                        }
                    }
                }
                let spilled_zero = spill_cnt == size
                    && s.spilled.var.is_const()
                    && s.spilled.var.var_off.value == 0;
                if spilled_zero {
                    // This is a register fill: keep the history flag.
                    env.hist_stack_access(sf, spi);
                }
                let r = if spilled_zero || zero_cnt == size {
                    RegState::known(0)
                } else {
                    RegState::unknown_scalar()
                };
                st.frames[frame].regs[d] = r;
            }
        } else if let Some(d) = dst {
            env.hist_stack_access(sf, spi);
            st.frames[frame].regs[d] = s.spilled.clone();
        } else if s.spilled.is_pointer() && !env.privileged {
            bail_reject!("BPF206", idx, "leaking pointer from stack off {}", off);
        }
    } else {
        for i in 0..size {
            match s.slot_type[((slot - i) as usize) % BPF_REG_SIZE] {
                SlotType::Misc | SlotType::Zero => {}
                SlotType::Invalid if allow_uninit => {}
                _ => {
                    bail_reject!(
                        "BPF303",
                        idx,
                        "invalid read from stack off {}+{} size {}",
                        off,
                        i,
                        size
                    );
                }
            }
        }
        if let Some(d) = dst {
            // mark_reg_stack_read: all-zero bytes give a known zero.
            let fr = &st.frames[sf];
            let all_zero = (off..off + size).all(|o| {
                let sl = -o - 1;
                fr.stack[(sl / 8) as usize].slot_type[(sl % 8) as usize] == SlotType::Zero
            });
            st.frames[frame].regs[d] = if all_zero {
                RegState::known(0)
            } else {
                RegState::unknown_scalar()
            };
        }
    }
    Ok(())
}

/// `bpf_stack_narrow_access_ok` (little-endian): the fill starts at the
/// slot's first byte.
fn bpf_stack_narrow_access_ok(off: i32, _fill_size: i32, _spill_size: i32) -> bool {
    off % BPF_REG_SIZE as i32 == 0
}

/// The part of `check_helper_mem_access` for memory that is not the stack:
/// the whole `size`-byte range at the register's fixed offset, with the
/// same checks and messages as the kernel.
pub(super) fn check_helper_region(
    env: &Env<'_>,
    idx: usize,
    regno: usize,
    reg: &RegState,
    size: i32,
    t: Access,
) -> Result<(), Stop> {
    match reg.base {
        BaseType::Packet | BaseType::PacketMeta => {
            check_packet_access(idx, regno, reg, reg.off, size)
        }
        BaseType::MapKey => {
            if t == Access::Write {
                bail_reject!(
                    "BPF306",
                    idx,
                    "R{} cannot write into {}",
                    regno,
                    reg.type_str()
                );
            }
            let key_size = map_of(env, reg, idx)?.key_size;
            check_mem_region_access(idx, regno, reg, reg.off, size, key_size)
        }
        BaseType::MapValue => {
            let m = map_of(env, reg, idx)?;
            check_map_access_type(idx, m, reg.off, size, t)?;
            check_mem_region_access(idx, regno, reg, reg.off, size, m.value_size)?;
            check_map_fields(env, idx, reg, reg.off, size, false)
        }
        BaseType::Mem => {
            if t == Access::Write && reg.flags.has(TypeFlags::RDONLY) {
                bail_reject!(
                    "BPF307",
                    idx,
                    "R{} cannot write into {}",
                    regno,
                    reg.type_str()
                );
            }
            check_mem_region_access(idx, regno, reg, reg.off, size, reg.mem_size)
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

/// A stack access through a pointer with a variable offset:
/// `check_stack_access_within_bounds`, then `check_stack_read_var_off`
/// (privileged: every byte type is readable, the result is zero only when
/// every byte is `STACK_ZERO`) or `check_stack_write_var_off`.
#[allow(clippy::too_many_arguments)]
fn check_stack_var_off(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    regno: usize,
    reg: &RegState,
    off: i32,
    size: i32,
    t: Access,
    value: Value,
    is_ldsx: bool,
) -> Result<(), Stop> {
    let dst = match (t, value) {
        (Access::Read, Value::Reg(v)) => Some(v),
        _ => None,
    };
    let what = if t == Access::Read {
        " read from"
    } else {
        " write to"
    };
    let v = &reg.var;
    if v.smax >= BPF_MAX_VAR_OFF || v.smin <= -BPF_MAX_VAR_OFF {
        bail_reject!(
            "BPF303",
            idx,
            "invalid unbounded variable-offset{} stack R{}",
            what,
            regno
        );
    }
    let min_off = v.smin + off as i64;
    let max_off = v.smax + off as i64 + size as i64;
    if min_off < -(MAX_BPF_STACK as i64) || min_off > -1 || max_off > 0 {
        bail_reject!(
            "BPF303",
            idx,
            "invalid variable-offset{} stack R{} var_off={} off={} size={}",
            what,
            regno,
            v.var_off,
            off,
            size
        );
    }
    if !env.privileged {
        return Err(unsupported(
            idx,
            "unprivileged variable-offset stack accesses",
        ));
    }
    let sf = reg.frameno as usize;
    if sf >= st.frames.len() {
        return Err(unsupported(
            idx,
            "stack pointer into a frame that has returned",
        ));
    }
    if t == Access::Write {
        return check_stack_write_var_off(env, st, idx, sf, min_off, max_off, value);
    }
    if (min_off..max_off).any(|o| {
        st.frames[sf].stack[((-o - 1) / 8) as usize]
            .slot_type
            .contains(&SlotType::Iter)
    }) {
        return Err(unsupported(idx, "stack accesses to iterator slots"));
    }
    super::regs::mark_stack_range_read(env, st, sf, min_off, max_off);
    super::fastcall::check_fastcall_stack_contract(env, st.frames[sf].subprog_start, idx, min_off);
    if let Some(d) = dst {
        let fr = &st.frames[sf];
        let lo = v.smin + off as i64;
        let hi = v.smax + off as i64 + size as i64;
        let all_zero = (lo..hi).all(|o| {
            let sl = -o - 1;
            fr.stack[(sl / 8) as usize].slot_type[(sl % 8) as usize] == SlotType::Zero
        });
        let cur = st.frames.len() - 1;
        st.frames[cur].regs[d] = if all_zero {
            RegState::known(0)
        } else {
            RegState::unknown_scalar()
        };
    }
    if let Some(d) = dst
        && size < 8
        && st.cur().regs[d].is_scalar()
    {
        coerce_loaded(st, d, size, is_ldsx);
    }
    Ok(())
}
