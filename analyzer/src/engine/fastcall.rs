//! `bpf_fastcall` spill/fill patterns (Linux 6.12's
//! `mark_fastcall_patterns`, `check_fastcall_stack_contract` and the depth
//! part of `remove_fastcall_spills_fills`): clang spills the caller-saved
//! registers a fastcall function does not clobber around the call; when the
//! kernel inlines the call and the spill slots are used by nothing else,
//! it removes the pairs and the subprogram's stack depth shrinks to what is
//! left (`-fastcall_stack_off`). That changes `check_max_stack_depth`.

use super::env::Env;
use crate::isa::RawInsn;

/// `BPF_FUNC_get_smp_processor_id`, inlined by the verifier on x86-64
/// (`verifier_inlines_helper_call`).
const BPF_FUNC_GET_SMP_PROCESSOR_ID: i32 = 8;
/// `ALL_CALLER_SAVED_REGS`: R0-R5.
const ALL_CALLER_SAVED_REGS: u32 = 0x3f;

/// The fastcall facts of one subprogram.
#[derive(Clone, Copy, Debug, Default)]
pub struct SubprogFastcall {
    /// `fastcall_stack_off`: where the pattern slots start (0 when none;
    /// `i16::MIN` once the contract was broken).
    pub stack_off: i32,
    /// `keep_fastcall_stack`: a pattern around a call that is not inlined.
    pub keep_stack: bool,
}

/// Per-instruction and per-subprogram marks.
#[derive(Clone, Debug, Default)]
pub struct Fastcall {
    /// `fastcall_pattern` per instruction slot.
    pub pattern: Vec<bool>,
    /// `fastcall_spills_num` per instruction slot (call instructions).
    pub spills_num: Vec<u8>,
    /// By subprogram start.
    pub subprogs: std::collections::HashMap<usize, SubprogFastcall>,
}

fn is_stx_dw_fp(i: &RawInsn) -> bool {
    // BPF_STX | BPF_MEM | BPF_DW with dst r10.
    i.code == 0x7b && i.dst == 10
}

fn is_ldx_dw_fp(i: &RawInsn) -> bool {
    // BPF_LDX | BPF_MEM | BPF_DW with src r10.
    i.code == 0x79 && i.src == 10
}

/// The clobber mask and `can_be_inlined` of the call at `idx`
/// (`helper_fastcall_clobber_mask` / `kfunc_fastcall_clobber_mask`), or
/// `None` when it is not a helper or kfunc call the kernel can resolve.
fn call_contract(env: &Env<'_>, idx: usize) -> Option<(u32, bool)> {
    let call = env.prog.insns.get(idx)?;
    if call.code != 0x85 {
        return None;
    }
    match call.src {
        0 => {
            let proto = crate::platform::protos::func_proto_alternatives(env.prog_type, call.imm)
                .first()
                .map(|a| a.proto)?;
            let mut mask = 0;
            if proto.ret.base != crate::platform::protos::RetBase::Void {
                mask |= 1;
            }
            for (i, a) in proto.args.iter().enumerate() {
                if !a.is_unused() {
                    mask |= 1 << (i + 1);
                }
            }
            // JIT requested; the x86-64 JIT supports per-CPU instructions.
            let inlined = proto.allow_fastcall && call.imm == BPF_FUNC_GET_SMP_PROCESSOR_ID;
            Some((mask, inlined))
        }
        2 => {
            let name = env
                .prog
                .externs
                .iter()
                .find(|e| e.insn == idx && e.kind == "kfunc")
                .map(|e| e.name.clone())?;
            let btf = crate::object::btf::bundled_vmlinux_btf().ok()?;
            let func = btf.find_by_name_kind(&name, crate::object::btf::BtfKind::Func)?;
            let (ret, params) = btf.func_proto_of(func)?;
            let mut mask = 0;
            if ret != 0 {
                mask |= 1;
            }
            for i in 0..params.len().min(5) {
                mask |= 1 << (i + 1);
            }
            let inlined = matches!(name.as_str(), "bpf_cast_to_kern_ctx" | "bpf_rdonly_cast");
            Some((mask, inlined))
        }
        _ => None,
    }
}

/// `mark_fastcall_patterns`, after `check_cfg`.
pub fn mark_fastcall_patterns(env: &Env<'_>) -> Fastcall {
    let insns = &env.prog.insns;
    let n = insns.len();
    let mut fc = Fastcall {
        pattern: vec![false; n],
        spills_num: vec![0; n],
        subprogs: Default::default(),
    };
    let jump_target = |i: usize| {
        env.cfg
            .as_ref()
            .and_then(|c| c.flags.get(i))
            .is_some_and(|f| f.jump_target)
    };
    for &start in &env.subprog_starts {
        let end = env.subprog_end(start);
        let mut sub = SubprogFastcall::default();
        let lowest_off = (start..end)
            .filter(|&i| is_stx_dw_fp(&insns[i]))
            .map(|i| i32::from(insns[i].off))
            .min()
            .unwrap_or(0)
            .min(0);
        for idx in start..end {
            if insns[idx].code != 0x85 {
                continue;
            }
            let Some((clobbered, inlined)) = call_contract(env, idx) else {
                continue;
            };
            if clobbered == ALL_CALLER_SAVED_REGS {
                continue;
            }
            let mut expected = !clobbered & ALL_CALLER_SAVED_REGS;
            let (mut i, mut off) = (1usize, lowest_off);
            while i <= 6 {
                if idx < i || idx + i >= n {
                    break;
                }
                if jump_target(idx - i + 1) || jump_target(idx + i) {
                    break;
                }
                let (stx, ldx) = (&insns[idx - i], &insns[idx + i]);
                if !is_stx_dw_fp(stx) || !is_ldx_dw_fp(ldx) || stx.src != ldx.dst {
                    break;
                }
                if expected & (1 << stx.src) == 0 {
                    break;
                }
                if i32::from(stx.off) != off || i32::from(ldx.off) != off {
                    break;
                }
                expected &= !(1 << stx.src);
                fc.pattern[idx - i] = true;
                fc.pattern[idx + i] = true;
                i += 1;
                off += 8;
            }
            if i == 1 {
                continue;
            }
            if inlined {
                fc.spills_num[idx] = (i - 1) as u8;
            } else {
                sub.keep_stack = true;
            }
            sub.stack_off = sub.stack_off.min(off);
        }
        fc.subprogs.insert(start, sub);
    }
    fc
}

/// `check_fastcall_stack_contract`: a stack access below the pattern
/// slots' start by an instruction outside every pattern disables the
/// rewrite for the subprogram `subprog_start`.
pub fn check_fastcall_stack_contract(
    env: &mut Env<'_>,
    subprog_start: usize,
    idx: usize,
    off: i64,
) {
    let Some(fc) = env.fastcall.as_mut() else {
        return;
    };
    let Some(sub) = fc.subprogs.get_mut(&subprog_start) else {
        return;
    };
    if i64::from(sub.stack_off) <= off || fc.pattern.get(idx).copied().unwrap_or(false) {
        return;
    }
    sub.stack_off = i32::from(i16::MIN);
    let end = env.subprog_end(subprog_start);
    let Some(fc) = env.fastcall.as_mut() else {
        return;
    };
    for i in subprog_start..end.min(fc.pattern.len()) {
        fc.pattern[i] = false;
        fc.spills_num[i] = 0;
    }
}

/// `remove_fastcall_spills_fills`' effect on the depth: the stack depth of
/// subprogram `start` once its inlined patterns are gone, if they are.
pub fn fastcall_stack_depth(env: &Env<'_>, start: usize) -> Option<i32> {
    let fc = env.fastcall.as_ref()?;
    let sub = fc.subprogs.get(&start)?;
    let end = env.subprog_end(start).min(fc.spills_num.len());
    let modified = (start..end).any(|i| fc.spills_num[i] > 0);
    (modified && !sub.keep_stack).then_some(-sub.stack_off)
}
