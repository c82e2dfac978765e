//! BPF arena (`BPF_MAP_TYPE_ARENA`, Linux 6.9+) as the verifier sees it:
//! the program's one arena (`env->prog->aux->arena`, set by
//! `resolve_pseudo_ldimm64`), `addr_space_cast` (`check_alu_op`), arena
//! pointer arithmetic (`adjust_reg_min_max_vals`), arena globals
//! (`check_ld_imm` with `BPF_PSEUDO_MAP_VALUE`) and atomics on arena memory
//! (`atomic_ptr_type_ok`).
//!
//! `PTR_TO_ARENA` is a 32-bit pointer into the arena: any arithmetic keeps
//! it an arena pointer with its bounds untouched, any access through it is
//! allowed (the JIT turns it into a fault-tolerant `PROBE_MEM32` access),
//! and two arena pointers are always equivalent for pruning.

use super::env::{BPF_MAX_VAR_OFF, Env, Stop, bail_reject};
use crate::isa::AtomicOp;
use crate::state::{BaseType, RegState, VerifierState};

/// `BPF_MAP_TYPE_ARENA`.
pub const MAP_TYPE_ARENA: u32 = 33;

/// The arena's page size on the target (x86-64): `PAGE_SIZE`.
const PAGE_SIZE: u64 = 4096;

/// A register after `mark_reg_unknown` and `type = PTR_TO_ARENA`.
pub fn arena_reg() -> RegState {
    RegState {
        base: BaseType::Arena,
        ..RegState::unknown_scalar()
    }
}

/// The arena checks of `resolve_pseudo_ldimm64` / `check_map_prog_compatibility`
/// over every `ld_imm64` of the program, reachable or not: at most one
/// arena map (`Only one arena per program`). Returns the arena's map index
/// (`env->prog->aux->arena`).
pub fn resolve_prog_arena(env: &Env<'_>) -> Result<Option<u32>, Stop> {
    let mut arena: Option<u32> = None;
    let mut relocs = env.prog.map_relocs.clone();
    relocs.sort_unstable();
    for at in relocs {
        let Some(insn) = env.prog.insns.get(at) else {
            continue;
        };
        let m = insn.imm as u32;
        let Some(map) = env.obj.maps.get(m as usize) else {
            continue;
        };
        if map.map_type != MAP_TYPE_ARENA {
            continue;
        }
        // A map already in `used_maps` skips the checks (`reused`).
        match arena {
            Some(a) if a == m => {}
            Some(_) => bail_reject!("BPF401", at, "Only one arena per program"),
            None => arena = Some(m),
        }
    }
    Ok(arena)
}

/// `check_ld_imm` for `BPF_PSEUDO_MAP_[IDX_]VALUE` of the arena map (an
/// arena global, `.addr_space.1`): `arena_map_direct_value_addr` checks
/// the offset against the arena's size, and the register becomes an
/// unknown scalar (the user-space address of the variable).
pub fn check_ld_imm_arena_value(
    idx: usize,
    map: &crate::object::MapDef,
    off: u32,
) -> Result<RegState, Stop> {
    if i64::from(off) >= BPF_MAX_VAR_OFF {
        bail_reject!(
            "BPF302",
            idx,
            "direct value offset of {} is not allowed",
            off
        );
    }
    // user_vm_end - user_vm_start: the arena's max_entries pages.
    if u64::from(off) > u64::from(map.max_entries) * PAGE_SIZE {
        bail_reject!(
            "BPF302",
            idx,
            "invalid access to map value pointer, value_size={} off={}",
            map.value_size,
            off
        );
    }
    Ok(RegState::unknown_scalar())
}

/// `check_alu_op` for `BPF_ALU64 | BPF_MOV | BPF_X` with
/// `off == BPF_ADDR_SPACE_CAST`: `imm == 1` casts an as(1) pointer to an
/// as(0) one (`PTR_TO_ARENA`), `imm == 1 << 16` the other way (a scalar).
pub fn check_addr_space_cast(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    dst: u8,
    src: u8,
    imm: i32,
) -> Result<(), Stop> {
    // The imm check is the decoder's (it reports the kernel's message).
    if env.arena.is_none() {
        bail_reject!(
            "BPF101",
            idx,
            "addr_space_cast insn can only be used in a program that has an associated arena"
        );
    }
    let (d, s) = (dst as usize, src as usize);
    if s >= 11 {
        bail_reject!("BPF101", idx, "R{} is invalid", s);
    }
    if d >= 11 {
        bail_reject!("BPF101", idx, "R{} is invalid", d);
    }
    super::regs::check_reg_read(env, st, idx, s)?;
    super::regs::check_reg_write(idx, d)?;
    st.cur_mut().regs[d] = if imm == 1 {
        arena_reg()
    } else {
        RegState::unknown_scalar()
    };
    Ok(())
}

/// The arena case of `adjust_reg_min_max_vals`: when either operand is an
/// arena pointer the result is one (the source's state when the destination
/// is not), and nothing else is checked or tracked. `None` when neither is.
pub fn adjust_arena_alu(dst_reg: &RegState, src_reg: Option<&RegState>) -> Option<RegState> {
    if dst_reg.base == BaseType::Arena {
        return Some(dst_reg.clone());
    }
    match src_reg {
        Some(s) if s.base == BaseType::Arena => Some(s.clone()),
        _ => None,
    }
}

/// `atomic_ptr_type_ok` for an arena destination:
/// `bpf_jit_supports_insn(insn, true)` of the x86-64 JIT, which cannot do
/// `BPF_AND`/`BPF_OR`/`BPF_XOR` with `BPF_FETCH` on arena memory.
pub fn jit_supports_arena_atomic(op: AtomicOp) -> bool {
    !matches!(
        op,
        AtomicOp::And { fetch: true }
            | AtomicOp::Or { fetch: true }
            | AtomicOp::Xor { fetch: true }
    )
}

/// `check_kfunc_args` for `KF_ARG_PTR_TO_MAP` (a `__map` argument, e.g.
/// the arena of `bpf_arena_alloc_pages`): the register must carry a map
/// pointer, be trusted when the kfunc takes trusted arguments, and point to
/// a `struct bpf_map` (`process_kf_arg_ptr_to_btf_id`). The NULL check of
/// trusted arguments is the caller's.
#[allow(clippy::too_many_arguments)]
pub fn process_kf_arg_ptr_to_map(
    env: &Env<'_>,
    idx: usize,
    func: &str,
    argno: usize,
    reg: &RegState,
    trusted_args: bool,
    rcu: bool,
    release: bool,
) -> Result<(), Stop> {
    use crate::state::TypeFlags;
    let regno = argno + 1;
    let _ = env;
    if reg.ref_obj_id != 0 && release {
        return Err(super::env::unsupported(
            idx,
            format!("release kfunc {func} with a __map argument"),
        ));
    }
    // `reg->map_ptr` shares a union with `btf` (BTF pointers), `mem_size`
    // (memory) and `range` (packets); scalars, stack and ctx pointers
    // have it zeroed.
    let has_map_ptr = match reg.base {
        BaseType::MapPtr | BaseType::MapValue | BaseType::MapKey | BaseType::BtfId => true,
        BaseType::Scalar | BaseType::Stack | BaseType::Ctx | BaseType::Arena => false,
        _ => {
            return Err(super::env::unsupported(
                idx,
                format!("kfunc {func} __map argument of type {}", reg.type_str()),
            ));
        }
    };
    if !has_map_ptr {
        bail_reject!("BPF405", idx, "pointer in R{} isn't map pointer", regno);
    }
    // reg2btf_ids[]: CONST_PTR_TO_MAP is `struct bpf_map`, always trusted
    // unless it has unsafe modifiers (it never has).
    let unsafe_mods = reg.flags.0 & !(TypeFlags::TRUSTED | TypeFlags::ALLOC) != 0;
    let in_reg2btf = reg.base == BaseType::MapPtr;
    let trusted = reg.ref_obj_id != 0
        || (in_reg2btf && !unsafe_mods)
        || (reg.flags.0 & (TypeFlags::TRUSTED | TypeFlags::ALLOC) != 0 && !unsafe_mods);
    let is_rcu = reg.flags.has(TypeFlags::RCU);
    if (trusted_args || rcu) && !trusted {
        if !rcu {
            bail_reject!("BPF405", idx, "R{} must be referenced or trusted", regno);
        }
        if !is_rcu {
            bail_reject!("BPF405", idx, "R{} must be a rcu pointer", regno);
        }
    }
    if (reg.base != BaseType::BtfId || (unsafe_mods && !is_rcu)) && !in_reg2btf {
        let base = crate::state::RegState {
            flags: TypeFlags(reg.flags.0 & (TypeFlags::TRUSTED | TypeFlags::ALLOC)),
            ..reg.clone()
        };
        bail_reject!(
            "BPF405",
            idx,
            "arg#{} is {} expected {} or socket",
            argno,
            reg.type_str(),
            base.type_str()
        );
    }
    let btf = crate::object::btf::bundled_vmlinux_btf()
        .map_err(|e| super::env::unsupported(idx, format!("kernel BTF: {e}")))?;
    let Some(want) = btf.find_by_name_kind("bpf_map", crate::object::btf::BtfKind::Struct) else {
        return Err(super::env::unsupported(
            idx,
            "struct bpf_map not in the kernel BTF",
        ));
    };
    let have = if reg.base == BaseType::BtfId {
        reg.btf_id
    } else {
        want
    };
    match super::kfunc::btf_struct_ids_match_off(btf, have, reg.off, want, false) {
        Some(true) => Ok(()),
        Some(false) => bail_reject!(
            "BPF405",
            idx,
            "kernel function {} args#{} expected pointer to STRUCT bpf_map but R{} has a pointer to STRUCT {}",
            func,
            argno,
            regno,
            btf.name_of(btf.skip_mods_and_typedefs(have))
        ),
        None => Err(super::env::unsupported(
            idx,
            format!("kfunc {func} __map argument at an offset into a struct"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_alu_keeps_the_arena_operand() {
        let a = arena_reg();
        let s = RegState::known(8);
        assert_eq!(
            adjust_arena_alu(&a, Some(&s)).unwrap().base,
            BaseType::Arena
        );
        assert_eq!(
            adjust_arena_alu(&s, Some(&a)).unwrap().base,
            BaseType::Arena
        );
        assert!(adjust_arena_alu(&s, Some(&s)).is_none());
        assert!(adjust_arena_alu(&s, None).is_none());
    }

    #[test]
    fn x86_jit_refuses_fetching_bitwise_atomics() {
        assert!(jit_supports_arena_atomic(AtomicOp::Add { fetch: true }));
        assert!(jit_supports_arena_atomic(AtomicOp::And { fetch: false }));
        assert!(!jit_supports_arena_atomic(AtomicOp::Or { fetch: true }));
        assert!(jit_supports_arena_atomic(AtomicOp::Cmpxchg));
    }
}
