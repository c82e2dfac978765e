//! `check_alu_op`, `adjust_reg_min_max_vals`, `adjust_ptr_min_max_vals`
//! and `adjust_scalar_min_max_vals` (Linux 6.12 `kernel/bpf/verifier.c`).

use super::env::{BPF_MAX_VAR_OFF, Env, Stop, bail_reject};
use super::regs::{check_reg_read, check_reg_write};
use crate::isa::{AluOp, EndKind, Src};
use crate::state::{BPF_ADD_CONST, BaseType, RegState, TypeFlags, VerifierState};
use bpfproof_domains::scalar::{AluOp as DAlu, Endian, Scalar};

/// `bpf_alu_string` of the kernel's disassembler, for messages.
fn alu_str(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "+=",
        AluOp::Sub => "-=",
        AluOp::Mul => "*=",
        AluOp::Div | AluOp::Sdiv => "/=",
        AluOp::Or => "|=",
        AluOp::And => "&=",
        AluOp::Lsh => "<<=",
        AluOp::Rsh => ">>=",
        AluOp::Mod | AluOp::Smod => "%=",
        AluOp::Xor => "^=",
        AluOp::Mov | AluOp::Movsx(_) => "=",
        AluOp::Arsh => "s>>=",
    }
}

fn domain_op(op: AluOp) -> DAlu {
    match op {
        AluOp::Add => DAlu::Add,
        AluOp::Sub => DAlu::Sub,
        AluOp::Mul => DAlu::Mul,
        AluOp::Div => DAlu::Div,
        AluOp::Sdiv => DAlu::Sdiv,
        AluOp::Or => DAlu::Or,
        AluOp::And => DAlu::And,
        AluOp::Lsh => DAlu::Lsh,
        AluOp::Rsh => DAlu::Rsh,
        AluOp::Mod => DAlu::Mod,
        AluOp::Smod => DAlu::Smod,
        AluOp::Xor => DAlu::Xor,
        AluOp::Mov => DAlu::Mov,
        AluOp::Movsx(8) => DAlu::Movsx8,
        AluOp::Movsx(16) => DAlu::Movsx16,
        AluOp::Movsx(_) => DAlu::Movsx32,
        AluOp::Arsh => DAlu::Arsh,
    }
}

/// `assign_scalar_id_before_mov`: give an unknown scalar an id so that a
/// copy of it stays linked (`find_equal_scalars`).
pub(super) fn assign_scalar_id_before_mov(env: &mut Env<'_>, r: &mut RegState) {
    if !r.is_scalar() {
        return;
    }
    if r.id & BPF_ADD_CONST != 0 {
        // Multiple `rX += const` links are not supported: the copy starts
        // a new plain link.
        r.id = 0;
        r.off = 0;
    }
    if r.id == 0 && !r.var.is_const() {
        r.id = env.new_id();
    }
}

/// The copy a sign-extending move starts from: linked to the source (same
/// id) only when the value cannot change by sign extension (`no_sext`).
fn copy_for_movsx(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    s: usize,
    mut sr: RegState,
    bits: u8,
) -> RegState {
    let no_sext = sr.var.umax < (1u64 << (bits - 1));
    if no_sext {
        assign_scalar_id_before_mov(env, &mut sr);
        st.cur_mut().regs[s] = sr.clone();
    } else {
        sr.id = 0;
    }
    sr
}

/// `check_alu_op` for the binary operations and moves.
pub fn check_alu_op(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    is64: bool,
    op: AluOp,
    dst: u8,
    src: Src,
) -> Result<(), Stop> {
    let (d, regs_len) = (dst as usize, 11usize);
    if let Src::Reg(s) = src
        && s as usize >= regs_len
    {
        bail_reject!("BPF101", idx, "R{} is invalid", s);
    }
    if d >= regs_len {
        bail_reject!("BPF101", idx, "R{} is invalid", d);
    }
    if matches!(op, AluOp::Mov | AluOp::Movsx(_)) {
        return check_mov(env, st, idx, is64, op, d, src);
    }
    if let Src::Reg(s) = src {
        check_reg_read(env, st, idx, s as usize)?;
    }
    check_reg_read(env, st, idx, d)?;
    if let Src::Imm(imm) = src {
        if matches!(op, AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod) && imm == 0 {
            bail_reject!("BPF101", idx, "div by zero");
        }
        if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) {
            let size = if is64 { 64 } else { 32 };
            if imm < 0 || imm >= size {
                bail_reject!("BPF101", idx, "invalid shift {}", imm);
            }
        }
    }
    check_reg_write(idx, d)?;
    adjust_reg_min_max_vals(env, st, idx, is64, op, d, src)
}

fn check_mov(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    is64: bool,
    op: AluOp,
    d: usize,
    src: Src,
) -> Result<(), Stop> {
    match src {
        Src::Imm(imm) => {
            check_reg_write(idx, d)?;
            let v = if is64 {
                imm as i64 as u64
            } else {
                imm as u32 as u64
            };
            st.cur_mut().regs[d] = RegState::known(v);
        }
        Src::Reg(s) => {
            let s = s as usize;
            check_reg_read(env, st, idx, s)?;
            check_reg_write(idx, d)?;
            let mut sr = st.cur().regs[s].clone();
            if is64 {
                match op {
                    AluOp::Mov => {
                        assign_scalar_id_before_mov(env, &mut sr);
                        st.cur_mut().regs[s] = sr.clone();
                        st.cur_mut().regs[d] = sr;
                    }
                    AluOp::Movsx(bits) => {
                        if sr.is_pointer() {
                            if !env.privileged {
                                bail_reject!(
                                    "BPF203",
                                    idx,
                                    "R{} sign-extension part of pointer",
                                    s
                                );
                            }
                            // `is_pointer_value` is false for root: unknown scalar.
                            st.cur_mut().regs[d] = RegState::unknown_scalar();
                            return Ok(());
                        }
                        let mut nr = copy_for_movsx(env, st, s, sr, bits);
                        nr.var.coerce_to_size_sx(bits / 8);
                        st.cur_mut().regs[d] = nr;
                    }
                    _ => unreachable!("mov ops only"),
                }
            } else {
                // 32-bit moves: a pointer becomes an unknown scalar for root
                // (`is_pointer_value` is false with allow_ptr_leaks).
                if sr.is_pointer() {
                    if !env.privileged {
                        bail_reject!("BPF206", idx, "R{} partial copy of pointer", s);
                    }
                    // mark_reg_unknown, then zext_32_to_64 and reg_bounds_sync.
                    let mut nr = RegState::unknown_scalar();
                    nr.var.zext_32_to_64();
                    nr.var.sync();
                    st.cur_mut().regs[d] = nr;
                } else if let AluOp::Movsx(bits) = op {
                    let mut nr = copy_for_movsx(env, st, s, sr, bits);
                    nr.var.coerce_subreg_to_size_sx(bits / 8);
                    nr.var.zext_32_to_64();
                    nr.var.sync();
                    st.cur_mut().regs[d] = nr;
                } else {
                    let is_u32 = sr.var.umax <= u64::from(u32::MAX);
                    if is_u32 {
                        assign_scalar_id_before_mov(env, &mut sr);
                        st.cur_mut().regs[s] = sr.clone();
                    }
                    let mut nr = sr;
                    if !is_u32 {
                        nr.id = 0;
                    }
                    nr.var.zext_32_to_64();
                    nr.var.sync();
                    st.cur_mut().regs[d] = nr;
                }
            }
        }
    }
    Ok(())
}

/// `BPF_NEG` and `BPF_END`: 6.12 marks the destination unknown for
/// scalars, and refuses pointers (`R%d pointer arithmetic prohibited`
/// when unprivileged; root turns them into unknown scalars too).
pub fn check_neg_end(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    is64: bool,
    dst: u8,
    end: Option<(EndKind, u8)>,
) -> Result<(), Stop> {
    let d = dst as usize;
    if d >= 11 {
        bail_reject!("BPF101", idx, "R{} is invalid", d);
    }
    check_reg_read(env, st, idx, d)?;
    if st.cur().regs[d].is_pointer() && !env.privileged {
        bail_reject!("BPF203", idx, "R{} pointer arithmetic prohibited", d);
    }
    check_reg_write(idx, d)?;
    let r = st.cur().regs[d].clone();
    let var = if r.is_scalar() {
        match end {
            None => Scalar::alu(DAlu::Neg, is64, &r.var, &Scalar::constant(0)),
            Some((kind, bits)) => {
                let e = match kind {
                    EndKind::ToLe => Endian::ToLe,
                    EndKind::ToBe => Endian::ToBe,
                    EndKind::Bswap => Endian::Bswap,
                };
                Scalar::alu(DAlu::End(e, bits), is64, &r.var, &Scalar::constant(0))
            }
        }
    } else {
        Scalar::unknown()
    };
    st.cur_mut().regs[d] = RegState::scalar(var);
    Ok(())
}

/// `adjust_reg_min_max_vals`.
fn adjust_reg_min_max_vals(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    is64: bool,
    op: AluOp,
    d: usize,
    src: Src,
) -> Result<(), Stop> {
    let dst_reg = st.cur().regs[d].clone();
    let src_reg = match src {
        Src::Reg(s) => st.cur().regs[s as usize].clone(),
        Src::Imm(imm) => RegState::known(imm as i64 as u64),
    };
    // Any arithmetic on an arena pointer is allowed and keeps it one.
    let src_opt = matches!(src, Src::Reg(_)).then_some(&src_reg);
    if let Some(r) = super::arena::adjust_arena_alu(&dst_reg, src_opt) {
        st.cur_mut().regs[d] = r;
        return Ok(());
    }
    if dst_reg.is_pointer() && src_reg.is_pointer() {
        if op == AluOp::Sub && env.privileged {
            st.cur_mut().regs[d] = RegState::unknown_scalar();
            return Ok(());
        }
        bail_reject!(
            "BPF203",
            idx,
            "R{} pointer {} pointer prohibited",
            d,
            alu_str(op)
        );
    }
    if src_reg.is_pointer() {
        // scalar += pointer: reverse the roles; the offset's value matters.
        if dst_reg.is_scalar() {
            super::precision::mark_chain_precision(env, st, d);
        }
        return adjust_ptr_min_max_vals(env, st, idx, is64, op, d, &src_reg, &dst_reg, true);
    }
    if dst_reg.is_pointer() {
        if let Src::Reg(s) = src {
            super::precision::mark_chain_precision(env, st, s as usize);
        }
        return adjust_ptr_min_max_vals(env, st, idx, is64, op, d, &dst_reg, &src_reg, false);
    }
    // Two scalars.
    let (r, fork) = Scalar::alu_forked(domain_op(op), is64, &dst_reg.var, &src_reg.var);
    let var = match fork {
        Some(f) => r.join(&f),
        None => r,
    };
    let mut nr = RegState::scalar(var);
    // `rX += const` on a linked scalar keeps the link with a delta
    // (`BPF_ADD_CONST`, 64-bit adds only); any other ALU op breaks it.
    let src_const = match src {
        Src::Imm(imm) => Some(imm as i64 as u64),
        Src::Reg(_) if src_reg.var.is_const() => Some(src_reg.var.var_off.value),
        Src::Reg(_) => None,
    };
    if env.privileged
        && op == AluOp::Add
        && is64
        && dst_reg.id != 0
        && let Some(val) = src_const
    {
        if dst_reg.id & BPF_ADD_CONST != 0 || val > i32::MAX as u64 {
            nr.id = 0;
            nr.off = 0;
        } else {
            nr.id = dst_reg.id | BPF_ADD_CONST;
            nr.off = val as i32;
        }
    } else {
        nr.id = 0;
    }
    st.cur_mut().regs[d] = nr;
    Ok(())
}

fn signed_add_overflows(a: i64, b: i64) -> bool {
    a.checked_add(b).is_none()
}

fn signed_sub_overflows(a: i64, b: i64) -> bool {
    a.checked_sub(b).is_none()
}

/// `check_reg_sane_offset`.
fn check_reg_sane_offset(idx: usize, reg: &RegState, type_str: &str) -> Result<(), Stop> {
    let known = reg.var.is_const();
    let val = reg.var.var_off.value as i64;
    let smin = reg.var.smin;
    if known && (val >= BPF_MAX_VAR_OFF || val <= -BPF_MAX_VAR_OFF) {
        bail_reject!(
            "BPF203",
            idx,
            "math between {} pointer and {} is not allowed",
            type_str,
            val
        );
    }
    if i64::from(reg.off) >= BPF_MAX_VAR_OFF || i64::from(reg.off) <= -BPF_MAX_VAR_OFF {
        bail_reject!(
            "BPF203",
            idx,
            "{} pointer offset {} is not allowed",
            type_str,
            reg.off
        );
    }
    if smin == i64::MIN {
        bail_reject!(
            "BPF203",
            idx,
            "math between {} pointer and register with unbounded min value is not allowed",
            type_str
        );
    }
    if smin >= BPF_MAX_VAR_OFF || smin <= -BPF_MAX_VAR_OFF {
        bail_reject!(
            "BPF203",
            idx,
            "value {} makes {} pointer be out of bounds",
            smin,
            type_str
        );
    }
    Ok(())
}

/// `adjust_ptr_min_max_vals`: pointer +/- scalar.
#[allow(clippy::too_many_arguments)]
fn adjust_ptr_min_max_vals(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    is64: bool,
    op: AluOp,
    d: usize,
    ptr: &RegState,
    off_reg: &RegState,
    dst_is_off: bool,
) -> Result<(), Stop> {
    let ov = &off_reg.var;
    let (smin_val, smax_val, umin_val, umax_val) = (ov.smin, ov.smax, ov.umin, ov.umax);
    let known = ov.is_const();
    if !is64 {
        if op == AluOp::Sub && env.privileged {
            st.cur_mut().regs[d] = RegState::unknown_scalar();
            return Ok(());
        }
        bail_reject!("BPF203", idx, "R{} 32-bit pointer arithmetic prohibited", d);
    }
    let tstr = ptr.type_str();
    if ptr.may_be_null() {
        bail_reject!(
            "BPF203",
            idx,
            "R{} pointer arithmetic on {} prohibited, null-check it first",
            d,
            tstr
        );
    }
    let allowed = match ptr.base {
        BaseType::Ctx
        | BaseType::MapValue
        | BaseType::MapKey
        | BaseType::Stack
        | BaseType::PacketMeta
        | BaseType::Packet
        | BaseType::TpBuffer
        | BaseType::BtfId
        | BaseType::Mem
        | BaseType::Buf
        | BaseType::Func
        | BaseType::DynptrPtr => true,
        BaseType::FlowKeys if known => true,
        BaseType::FlowKeys | BaseType::MapPtr => known && smin_val == 0 && op == AluOp::Add,
        _ => false,
    };
    if !allowed {
        bail_reject!(
            "BPF203",
            idx,
            "R{} pointer arithmetic on {} prohibited",
            d,
            tstr
        );
    }
    if matches!(ptr.base, BaseType::Func | BaseType::Buf)
        || (ptr.base == BaseType::BtfId
            && ptr.flags.0 & !(TypeFlags::TRUSTED | TypeFlags::RCU | TypeFlags::UNTRUSTED) != 0)
    {
        return Err(super::env::unsupported(
            idx,
            format!("pointer arithmetic on {tstr}"),
        ));
    }
    if (known && (smin_val != smax_val || umin_val != umax_val))
        || smin_val > smax_val
        || umin_val > umax_val
    {
        st.cur_mut().regs[d] = RegState::unknown_scalar();
        return Ok(());
    }
    check_reg_sane_offset(idx, off_reg, &tstr)?;
    check_reg_sane_offset(idx, ptr, &tstr)?;
    let mut dr = ptr.clone();
    let p = &ptr.var;
    match op {
        AluOp::Add => {
            let new_off = i64::from(ptr.off) + smin_val;
            if known && new_off == new_off as i32 as i64 {
                dr.off = new_off as i32;
            } else {
                let mut v = Scalar::unknown();
                if signed_add_overflows(p.smin, smin_val) || signed_add_overflows(p.smax, smax_val)
                {
                    v.smin = i64::MIN;
                    v.smax = i64::MAX;
                } else {
                    v.smin = p.smin + smin_val;
                    v.smax = p.smax + smax_val;
                }
                match (p.umin.checked_add(umin_val), p.umax.checked_add(umax_val)) {
                    (Some(a), Some(b)) => {
                        v.umin = a;
                        v.umax = b;
                    }
                    _ => {
                        v.umin = 0;
                        v.umax = u64::MAX;
                    }
                }
                v.var_off = p.var_off.add(ov.var_off);
                dr.var = v;
                if ptr.base.is_pkt_pointer() {
                    dr.id = env.new_id();
                    dr.range = 0;
                }
            }
        }
        AluOp::Sub => {
            if dst_is_off {
                bail_reject!(
                    "BPF203",
                    idx,
                    "R{} tried to subtract pointer from scalar",
                    d
                );
            }
            if ptr.base == BaseType::Stack {
                bail_reject!(
                    "BPF203",
                    idx,
                    "R{} subtraction from stack pointer prohibited",
                    d
                );
            }
            let new_off = i64::from(ptr.off) - smin_val;
            if known && new_off == new_off as i32 as i64 {
                dr.off = new_off as i32;
            } else {
                let mut v = Scalar::unknown();
                if signed_sub_overflows(p.smin, smax_val) || signed_sub_overflows(p.smax, smin_val)
                {
                    v.smin = i64::MIN;
                    v.smax = i64::MAX;
                } else {
                    v.smin = p.smin - smax_val;
                    v.smax = p.smax - smin_val;
                }
                if p.umin < umax_val {
                    v.umin = 0;
                    v.umax = u64::MAX;
                } else {
                    v.umin = p.umin - umax_val;
                    v.umax = p.umax - umin_val;
                }
                v.var_off = p.var_off.sub(ov.var_off);
                dr.var = v;
                if ptr.base.is_pkt_pointer() {
                    dr.id = env.new_id();
                    if smin_val < 0 {
                        dr.range = 0;
                    }
                }
            }
        }
        AluOp::And | AluOp::Or | AluOp::Xor => {
            bail_reject!(
                "BPF203",
                idx,
                "R{} bitwise operator {} on pointer prohibited",
                d,
                alu_str(op)
            );
        }
        _ => {
            bail_reject!(
                "BPF203",
                idx,
                "R{} pointer arithmetic with {} operator prohibited",
                d,
                alu_str(op)
            );
        }
    }
    // Pointers carry no 32-bit bounds (`__mark_reg32_unbounded`).
    dr.var.mark32_unbounded();
    check_reg_sane_offset(idx, &dr, &tstr)?;
    dr.var.sync();
    if !env.privileged {
        return Err(super::env::unsupported(
            idx,
            "unprivileged pointer arithmetic sanitation",
        ));
    }
    st.cur_mut().regs[d] = dr;
    Ok(())
}
