//! kptrs in map values: `check_map_kptr_access`, `map_kptr_match_type`,
//! `btf_ld_kptr_type` and `process_kptr_func` (the `bpf_kptr_xchg`
//! destination), for kptrs to kernel structs. kptrs to the program's own
//! types (`bpf_obj_new` objects) stay unsupported.

use super::env::{Env, Stop, bail_reject, unsupported};
use super::mem::{MapFields, Value};
use super::precision::mark_chain_precision;
use crate::isa::raw::{BPF_LDX, BPF_MEM, BPF_ST, BPF_STX};
use crate::object::btf::{BtfKind, BtfTypeKind, bundled_vmlinux_btf};
use crate::state::{BaseType, RegState, TypeFlags, VerifierState};

/// `BPF_KPTR_UNREF`, `BPF_KPTR_REF`, `BPF_KPTR_PERCPU`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KptrKind {
    /// `__kptr_untrusted`.
    Unref,
    /// `__kptr`: a referenced pointer, exchanged with `bpf_kptr_xchg`.
    Ref,
    /// `__percpu_kptr`.
    Percpu,
}

/// One kptr field of a map value (`struct btf_field` of a kptr type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KptrField {
    /// Byte offset in the value.
    pub off: u32,
    /// Which kind of kptr.
    pub kind: KptrKind,
    /// The pointee struct in the kernel BTF.
    pub btf_id: u32,
}

/// `btf_find_kptr` + `btf_parse_kptr` for a member of type `ptr` (after
/// modifiers of the pointer itself): `Ok(None)` when it is no kptr, `Err`
/// when it is one bpfproof does not model (a program-local pointee).
pub fn parse_kptr(
    btf: &crate::object::btf::Btf,
    ptr: u32,
    off: u32,
) -> Result<Option<KptrField>, ()> {
    let mut t = ptr;
    if let Some(BtfTypeKind::Volatile { target }) = btf.type_by_id(t).map(|x| &x.kind) {
        t = *target;
    }
    let Some(BtfTypeKind::Ptr { target }) = btf.type_by_id(t).map(|x| &x.kind) else {
        return Ok(None);
    };
    let tag = *target;
    let Some(BtfTypeKind::TypeTag { target: pointee }) = btf.type_by_id(tag).map(|x| &x.kind)
    else {
        return Ok(None);
    };
    let kind = match btf.name_of(tag) {
        "kptr_untrusted" => KptrKind::Unref,
        "kptr" => KptrKind::Ref,
        "percpu_kptr" => KptrKind::Percpu,
        _ => return Err(()),
    };
    let s = btf.skip_mods_and_typedefs(*pointee);
    if !matches!(
        btf.type_by_id(s).map(|x| &x.kind),
        Some(BtfTypeKind::Struct { .. })
    ) {
        return Err(());
    }
    let vmlinux = bundled_vmlinux_btf().map_err(|_| ())?;
    let btf_id = vmlinux
        .find_by_name_kind(btf.name_of(s), BtfKind::Struct)
        .ok_or(())?;
    Ok(Some(KptrField { off, kind, btf_id }))
}

/// The kptr field at exactly `off` of the map value `reg` points into
/// (`btf_record_find(..., BPF_KPTR)`).
pub fn kptr_at(env: &Env<'_>, reg: &RegState, off: i64) -> Option<KptrField> {
    let Some(MapFields::Kptrs(fields)) = reg.map.and_then(|m| env.map_fields.get(m as usize))
    else {
        return None;
    };
    fields.iter().find(|f| i64::from(f.off) == off).cloned()
}

/// `rcu_protected_types`.
fn rcu_protected_object(name: &str) -> bool {
    matches!(
        name,
        "prog_test_ref_kfunc" | "cgroup" | "bpf_cpumask" | "task_struct" | "bpf_crypto_ctx"
    )
}

/// `btf_ld_kptr_type` for a kernel pointee, outside any explicit RCU
/// section (non-sleepable programs are always in one).
fn btf_ld_kptr_type(env: &Env<'_>, idx: usize, f: &KptrField) -> Result<u32, Stop> {
    let name = bundled_vmlinux_btf()
        .map(|b| b.name_of(f.btf_id).to_string())
        .unwrap_or_default();
    let rcu_safe =
        f.kind == KptrKind::Percpu || (f.kind == KptrKind::Ref && rcu_protected_object(&name));
    if rcu_safe && env.prog.sleepable {
        return Err(unsupported(
            idx,
            "kptr loads in sleepable programs (RCU sections)",
        ));
    }
    Ok(if rcu_safe {
        let mut flags = TypeFlags::MAYBE_NULL | TypeFlags::RCU;
        if f.kind == KptrKind::Percpu {
            flags |= TypeFlags::PERCPU;
        }
        flags
    } else {
        TypeFlags::MAYBE_NULL | TypeFlags::UNTRUSTED
    })
}

/// `check_map_kptr_access`: a load, store or `BPF_ST` of the kptr field
/// `f` through the map value pointer in `regno`.
pub fn check_map_kptr_access(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    value: Value,
    f: &KptrField,
) -> Result<(), Stop> {
    let code = env.prog.insns[idx].code;
    let class = code & 0x07;
    if code & 0xe0 != BPF_MEM {
        bail_reject!(
            "BPF302",
            idx,
            "kptr in map can only be accessed using BPF_MEM instruction mode"
        );
    }
    if class != BPF_LDX && matches!(f.kind, KptrKind::Ref | KptrKind::Percpu) {
        bail_reject!("BPF302", idx, "store to referenced kptr disallowed");
    }
    match (class, value) {
        (BPF_LDX, Value::Reg(v)) => {
            let flags = btf_ld_kptr_type(env, idx, f)?;
            let mut r = RegState::pointer(BaseType::BtfId);
            r.btf_id = f.btf_id;
            r.flags.0 |= flags;
            r.id = env.new_id();
            st.cur_mut().regs[v] = r;
        }
        (BPF_STX, Value::Reg(v)) => {
            if st.cur().regs[v].is_null() {
                mark_chain_precision(env, st, v);
                return Ok(());
            }
            let reg = st.cur().regs[v].clone();
            map_kptr_match_type(idx, f, &reg, v)?;
        }
        (BPF_ST, Value::Imm(imm)) => {
            if imm != 0 {
                bail_reject!(
                    "BPF302",
                    idx,
                    "BPF_ST imm must be 0 when storing to kptr at off={}",
                    f.off
                );
            }
        }
        _ => bail_reject!(
            "BPF302",
            idx,
            "kptr in map can only be accessed using BPF_LDX/BPF_STX/BPF_ST"
        ),
    }
    Ok(())
}

/// `map_kptr_match_type`: what may be stored into (or exchanged with) the
/// kptr field `f`.
pub fn map_kptr_match_type(
    idx: usize,
    f: &KptrField,
    reg: &RegState,
    regno: usize,
) -> Result<(), Stop> {
    let btf = bundled_vmlinux_btf().map_err(|e| unsupported(idx, format!("kernel BTF: {e}")))?;
    let targ = btf.name_of(f.btf_id);
    let bad = |reg_name: &str| -> Result<(), Stop> {
        let or = if f.kind == KptrKind::Unref {
            format!(" or untrusted_ptr_{targ}")
        } else {
            String::new()
        };
        bail_reject!(
            "BPF302",
            idx,
            "invalid kptr access, R{} type={}{} expected=ptr_{}{}",
            regno,
            reg.type_str(),
            reg_name,
            targ,
            or
        )
    };
    if reg.base != BaseType::BtfId {
        return bad("");
    }
    if reg.flags.has(TypeFlags::ALLOC) {
        return Err(unsupported(idx, "kptrs to bpf_obj_new objects"));
    }
    let mut perm = TypeFlags::MAYBE_NULL | TypeFlags::TRUSTED | TypeFlags::RCU;
    if f.kind == KptrKind::Unref {
        perm |= TypeFlags::UNTRUSTED;
    }
    if reg.flags.0 & !perm != 0 {
        return bad("");
    }
    if (f.kind == KptrKind::Percpu) != reg.flags.has(TypeFlags::PERCPU) {
        return bad("");
    }
    let reg_name = btf.name_of(reg.btf_id).to_string();
    super::mem::check_ptr_off_reg_fixed_ok(idx, regno, reg, true)?;
    let strict = f.kind != KptrKind::Unref;
    let Some(matched) =
        super::kfunc::btf_struct_ids_match_off(btf, reg.btf_id, reg.off, f.btf_id, strict)
    else {
        return Err(unsupported(idx, "kptr stores of pointers into arrays"));
    };
    if !matched {
        return bad(&reg_name);
    }
    Ok(())
}

/// `process_kptr_func`: the `ARG_KPTR_XCHG_DEST` argument of
/// `bpf_kptr_xchg` must point at a referenced kptr of a map value.
pub fn process_kptr_func(
    env: &Env<'_>,
    idx: usize,
    regno: usize,
    reg: &RegState,
) -> Result<KptrField, Stop> {
    if reg.base != BaseType::MapValue || reg.may_be_null() {
        bail_reject!(
            "BPF405",
            idx,
            "R{} type={} expected=map_value, ptr_",
            regno,
            reg.type_str()
        );
    }
    let map = reg.map.and_then(|m| env.map(m));
    if map.is_some_and(|m| m.btf_value_type_id.is_none()) {
        bail_reject!(
            "BPF405",
            idx,
            "map '{}' has to have BTF in order to use bpf_kptr_xchg",
            map.map_or("", |m| m.name.as_str())
        );
    }
    if !reg.var.is_const() {
        bail_reject!(
            "BPF405",
            idx,
            "R{} doesn't have constant offset. kptr has to be at the constant offset",
            regno
        );
    }
    let fields = match reg.map.and_then(|m| env.map_fields.get(m as usize)) {
        Some(MapFields::Kptrs(f)) => f.clone(),
        Some(MapFields::Other(_)) => {
            return Err(unsupported(
                idx,
                "bpf_kptr_xchg on maps with other special fields",
            ));
        }
        _ => bail_reject!("BPF405", idx, "R{} has no valid kptr", regno),
    };
    let off = i64::from(reg.off) + reg.var.var_off.value as i64;
    let Some(f) = fields.iter().find(|f| i64::from(f.off) == off) else {
        bail_reject!("BPF405", idx, "off={} doesn't point to kptr", off);
    };
    if f.kind == KptrKind::Unref {
        bail_reject!("BPF405", idx, "off={} kptr isn't referenced kptr", off);
    }
    Ok(f.clone())
}
