//! `check_cond_jmp_op`: branch prediction (`is_branch_taken`), range
//! refinement of both branches (`reg_set_min_max`, `sync_linked_regs` for
//! exact copies), null checks (`mark_ptr_or_null_regs`) and packet range
//! marking (`try_match_pkt_pointers`, `find_good_pkt_pointers`,
//! `mark_pkt_end`). Linked scalars with constant deltas (`BPF_ADD_CONST`)
//! are not tracked: only exact copies share ranges.

use super::env::{Env, MAX_PACKET_OFF, Stop, bail_reject};
use super::precision::LinkedReg;
use super::regs::check_reg_read;
use crate::isa::{JmpOp, Src};
use crate::state::{BPF_ADD_CONST, BaseType, RegState, TypeFlags, VerifierState};
use bpfproof_domains::scalar::{JmpOp as DJmp, Scalar};

/// `AT_PKT_END`.
const AT_PKT_END: i32 = -1;
/// `BEYOND_PKT_END`.
const BEYOND_PKT_END: i32 = -2;

fn djmp(op: JmpOp) -> DJmp {
    match op {
        JmpOp::Jeq => DJmp::Jeq,
        JmpOp::Jne => DJmp::Jne,
        JmpOp::Jgt => DJmp::Jgt,
        JmpOp::Jge => DJmp::Jge,
        JmpOp::Jlt => DJmp::Jlt,
        JmpOp::Jle => DJmp::Jle,
        JmpOp::Jsgt => DJmp::Jsgt,
        JmpOp::Jsge => DJmp::Jsge,
        JmpOp::Jslt => DJmp::Jslt,
        JmpOp::Jsle => DJmp::Jsle,
        JmpOp::Jset => DJmp::Jset,
    }
}

/// What to do after a conditional jump.
pub enum Branch {
    /// Only the fall-through is possible.
    FallThrough,
    /// Only the jump is possible.
    Taken,
    /// Both: the jump target's state.
    Both(Box<VerifierState>),
}

/// `reg_not_null`.
fn reg_not_null(r: &RegState) -> bool {
    !r.may_be_null()
        && matches!(
            r.base,
            BaseType::Socket
                | BaseType::TcpSock
                | BaseType::MapValue
                | BaseType::MapKey
                | BaseType::SockCommon
                | BaseType::Mem
        )
}

/// `is_pkt_ptr_branch_taken`.
fn is_pkt_ptr_branch_taken(dst: &RegState, src: &RegState, mut op: JmpOp) -> Option<bool> {
    let pkt = if src.base == BaseType::PacketEnd {
        dst
    } else if dst.base == BaseType::PacketEnd {
        op = flip(op);
        src
    } else {
        return None;
    };
    if pkt.range >= 0 {
        return None;
    }
    match op {
        JmpOp::Jle | JmpOp::Jgt if pkt.range == BEYOND_PKT_END => Some(op == JmpOp::Jgt),
        JmpOp::Jlt | JmpOp::Jge if pkt.range == BEYOND_PKT_END || pkt.range == AT_PKT_END => {
            Some(op == JmpOp::Jge)
        }
        _ => None,
    }
}

/// `flip_opcode`: the op with operands swapped.
fn flip(op: JmpOp) -> JmpOp {
    match op {
        JmpOp::Jgt => JmpOp::Jlt,
        JmpOp::Jlt => JmpOp::Jgt,
        JmpOp::Jge => JmpOp::Jle,
        JmpOp::Jle => JmpOp::Jge,
        JmpOp::Jsgt => JmpOp::Jslt,
        JmpOp::Jslt => JmpOp::Jsgt,
        JmpOp::Jsge => JmpOp::Jsle,
        JmpOp::Jsle => JmpOp::Jsge,
        other => other,
    }
}

/// `is_branch_taken`.
fn is_branch_taken(r1: &RegState, r2: &RegState, op: JmpOp, is32: bool) -> Option<bool> {
    if r1.base.is_pkt_pointer_any() && r2.base.is_pkt_pointer_any() && !is32 {
        return is_pkt_ptr_branch_taken(r1, r2, op);
    }
    if r1.is_pointer() || r2.is_pointer() {
        let (p, c, op) = if r2.is_scalar() && r2.var.is_reg_const(is32) {
            (r1, r2, op)
        } else {
            (r2, r1, flip(op))
        };
        if !(c.is_scalar() && c.var.is_reg_const(is32) && reg_not_null(p)) {
            return None;
        }
        if c.var.const_value(is32) != 0 {
            return None;
        }
        return match op {
            JmpOp::Jeq => Some(false),
            JmpOp::Jne => Some(true),
            _ => None,
        };
    }
    Scalar::branch_taken(&r1.var, &r2.var, djmp(op), is32)
}

/// `sync_linked_regs`: every scalar linked to `known` (same id, up to
/// `BPF_ADD_CONST`) gets its refined value, shifted by the difference of
/// their deltas.
fn sync_linked_regs(st: &mut VerifierState, known: &RegState) {
    let base = known.id & !BPF_ADD_CONST;
    if !known.is_scalar() || base == 0 {
        return;
    }
    let k = known.clone();
    st.for_each_reg(|r| {
        if !r.is_scalar() || (r.id & !BPF_ADD_CONST) != base {
            return;
        }
        let plain = r.id & BPF_ADD_CONST == 0 && k.id & BPF_ADD_CONST == 0;
        if plain || r.off == k.off {
            *r = k.clone();
        } else {
            // reg = known; reg += delta (64-bit add of a constant).
            let (id, off) = (r.id, r.off);
            let delta = off.wrapping_sub(k.off) as i64 as u64;
            let (sum, _) = bpfproof_domains::scalar::Scalar::alu_forked(
                bpfproof_domains::scalar::AluOp::Add,
                true,
                &k.var,
                &bpfproof_domains::scalar::Scalar::constant(delta),
            );
            *r = k.clone();
            r.var = sum;
            r.id = id;
            r.off = off;
        }
    });
}

/// `collect_linked_regs`: every scalar register and spilled scalar with
/// scalar id `id`, in every frame.
fn collect_linked_regs(st: &VerifierState, id: u32, out: &mut Vec<LinkedReg>) {
    for (fr, f) in st.frames.iter().enumerate().rev() {
        for (i, r) in f.regs.iter().enumerate().take(10) {
            let e = LinkedReg {
                frameno: fr as u8,
                is_reg: true,
                no: i as u8,
            };
            if r.is_scalar() && (r.id & !BPF_ADD_CONST) == id && !out.contains(&e) {
                out.push(e);
            }
        }
        for (spi, sl) in f.stack.iter().enumerate() {
            let e = LinkedReg {
                frameno: fr as u8,
                is_reg: false,
                no: spi as u8,
            };
            if sl.is_spilled_reg()
                && sl.spilled.is_scalar()
                && (sl.spilled.id & !BPF_ADD_CONST) == id
                && !out.contains(&e)
            {
                out.push(e);
            }
        }
    }
}

/// `check_cond_jmp_op` for `if dst op src goto`.
pub fn check_cond_jmp_op(
    env: &mut Env<'_>,
    st: &mut VerifierState,
    idx: usize,
    is32: bool,
    op: JmpOp,
    dst: u8,
    src: Src,
) -> Result<Branch, Stop> {
    let d = dst as usize;
    let src_reg = match src {
        Src::Reg(s) => {
            check_reg_read(env, st, idx, s as usize)?;
            let sr = st.cur().regs[s as usize].clone();
            let dr0 = &st.cur().regs[d.min(10)];
            if !(dr0.base.is_pkt_pointer_any() && sr.base.is_pkt_pointer_any())
                && sr.is_pointer()
                && !env.privileged
            {
                bail_reject!("BPF204", idx, "R{} pointer comparison prohibited", s);
            }
            sr
        }
        Src::Imm(imm) => RegState::known(imm as i64 as u64),
    };
    check_reg_read(env, st, idx, d)?;
    let dst_reg = st.cur().regs[d].clone();
    if let Some(h) = env.hist.last_mut() {
        if matches!(src, Src::Reg(_)) && src_reg.base == BaseType::Stack {
            h.flags |= super::precision::F_SRC_REG_STACK;
        }
        if dst_reg.base == BaseType::Stack {
            h.flags |= super::precision::F_DST_REG_STACK;
        }
    }
    if let Some(taken) = is_branch_taken(&dst_reg, &src_reg, op, is32) {
        // The decision rests on the scalars' values.
        if dst_reg.is_scalar() {
            super::precision::mark_chain_precision(env, st, d);
        }
        if let Src::Reg(s) = src
            && src_reg.is_scalar()
        {
            super::precision::mark_chain_precision(env, st, s as usize);
        }
        return Ok(if taken {
            Branch::Taken
        } else {
            Branch::FallThrough
        });
    }
    // collect_linked_regs: scalars sharing an id with an operand get the
    // same refinement, so they share precision too.
    let mut linked = Vec::new();
    if let Src::Reg(_) = src
        && src_reg.is_scalar()
        && src_reg.id != 0
    {
        collect_linked_regs(st, src_reg.id & !BPF_ADD_CONST, &mut linked);
    }
    if dst_reg.is_scalar() && dst_reg.id != 0 {
        collect_linked_regs(st, dst_reg.id & !BPF_ADD_CONST, &mut linked);
    }
    if linked.len() > 1
        && let Some(h) = env.hist.last_mut()
    {
        h.linked = Some(Box::new(linked));
    }
    let mut other = st.clone();
    // Scalar refinement of both branches.
    if dst_reg.is_scalar() && src_reg.is_scalar() {
        let b = Scalar::reg_set_min_max(&dst_reg.var, &src_reg.var, djmp(op), is32);
        let (t_dst, t_src) = b.taken.unwrap_or((dst_reg.var, src_reg.var));
        let (f_dst, f_src) = b.not_taken.unwrap_or((dst_reg.var, src_reg.var));
        other.cur_mut().regs[d].var = t_dst;
        st.cur_mut().regs[d].var = f_dst;
        if let Src::Reg(s) = src {
            let s = s as usize;
            if s == d {
                // `if rX op rX`: both operands are the same register.
                other.cur_mut().regs[d].var = t_dst;
            } else {
                other.cur_mut().regs[s].var = t_src;
                st.cur_mut().regs[s].var = f_src;
            }
            let (ts, fs) = (other.cur().regs[s].clone(), st.cur().regs[s].clone());
            sync_linked_regs(&mut other, &ts);
            sync_linked_regs(st, &fs);
        }
        let (td, fd) = (other.cur().regs[d].clone(), st.cur().regs[d].clone());
        sync_linked_regs(&mut other, &td);
        sync_linked_regs(st, &fd);
    }
    let src_is_reg = matches!(src, Src::Reg(_));
    if !is32
        && src_is_reg
        && src_reg.is_pointer()
        && dst_reg.is_pointer()
        && src_reg.may_be_null() != dst_reg.may_be_null()
        && src_reg.base != BaseType::BtfId
        && dst_reg.base != BaseType::BtfId
    {
        // Equal to a non-null pointer means not null (on that register only).
        let target = match src {
            Src::Reg(s) if src_reg.may_be_null() => s as usize,
            _ => d,
        };
        let eq_branch = match op {
            JmpOp::Jeq => Some(&mut other),
            JmpOp::Jne => Some(&mut *st),
            _ => None,
        };
        if let Some(b) = eq_branch {
            let r = &mut b.cur_mut().regs[target];
            if r.base == BaseType::MapValue
                && r.map.is_some_and(|m| {
                    env.obj
                        .maps
                        .get(m as usize)
                        .is_some_and(|m| matches!(m.map_type, 12 | 13))
                })
            {
                return Err(super::env::unsupported(idx, "map-in-map values"));
            }
            r.flags.0 &= !TypeFlags::MAYBE_NULL;
        }
    }
    if !is32
        && !src_is_reg
        && matches!(src, Src::Imm(0))
        && matches!(op, JmpOp::Jeq | JmpOp::Jne)
        && dst_reg.may_be_null()
    {
        // `mark_ptr_or_null_regs` in both branches.
        mark_ptr_or_null_regs(env, st, d, op == JmpOp::Jne);
        mark_ptr_or_null_regs(env, &mut other, d, op == JmpOp::Jeq);
    } else if !try_match_pkt_pointers(is32, op, src, d, &dst_reg, &src_reg, st, &mut other)
        && dst_reg.is_pointer()
        && !env.privileged
    {
        bail_reject!("BPF204", idx, "R{} pointer comparison prohibited", d);
    }
    Ok(Branch::Both(Box::new(other)))
}

/// `mark_ptr_or_null_regs`: every register with the checked id becomes
/// the pointer (not null) or the scalar 0 (null).
fn mark_ptr_or_null_regs(env: &Env<'_>, st: &mut VerifierState, regno: usize, is_null: bool) {
    let sock_maps: Vec<u32> = env
        .all_maps()
        .enumerate()
        .filter(|(_, m)| matches!(m.map_type, 15 | 18))
        .map(|(i, _)| i as u32)
        .collect();
    let lock_maps: Vec<u32> = env
        .map_fields
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f, super::mem::MapFields::SpinLock(_)))
        .map(|(i, _)| i as u32)
        .collect();
    let id = st.cur().regs[regno].id;
    if id == 0 {
        return;
    }
    let ref_obj_id = st.cur().regs[regno].ref_obj_id;
    if is_null && ref_obj_id != 0 && ref_obj_id == id {
        // No one could have freed the reference before the NULL check.
        st.refs.retain(|r| r.0 != id);
    }
    st.for_each_reg(|r| {
        if r.may_be_null() && r.id == id {
            if is_null {
                *r = RegState::known(0);
            } else {
                r.flags.0 &= !TypeFlags::MAYBE_NULL;
                // mark_ptr_not_null_reg: a non-NULL socket-map value is a socket.
                if r.base == BaseType::MapValue && r.map.is_some_and(|m| sock_maps.contains(&m)) {
                    r.base = BaseType::Socket;
                    r.map = None;
                }
                // A non-NULL map-in-map value is the inner map
                // (`inner_map_meta`).
                if r.base == BaseType::MapValue
                    && let Some(inner) = r
                        .map
                        .and_then(|m| env.inner_of.get(m as usize).copied().flatten())
                {
                    r.base = BaseType::MapPtr;
                    r.map = Some(inner);
                }
                // reg_may_point_to_spin_lock: keep the id that tells locks apart.
                let may_lock =
                    r.base == BaseType::MapValue && r.map.is_some_and(|m| lock_maps.contains(&m));
                if !may_lock {
                    r.id = 0;
                }
            }
        }
    });
}

/// `reg_is_init_pkt_pointer`.
fn is_init_pkt_pointer(r: &RegState, base: BaseType) -> bool {
    r.base == base && r.off == 0 && r.var.is_const() && r.var.var_off.value == 0
}

/// `try_match_pkt_pointers`.
#[allow(clippy::too_many_arguments)]
fn try_match_pkt_pointers(
    is32: bool,
    op: JmpOp,
    src: Src,
    d: usize,
    dst_reg: &RegState,
    src_reg: &RegState,
    this: &mut VerifierState,
    other: &mut VerifierState,
) -> bool {
    let Src::Reg(s) = src else { return false };
    if is32 {
        return false;
    }
    let dst_vs_end = (dst_reg.base == BaseType::Packet && src_reg.base == BaseType::PacketEnd)
        || (dst_reg.base == BaseType::PacketMeta && is_init_pkt_pointer(src_reg, BaseType::Packet));
    let end_vs_src = (dst_reg.base == BaseType::PacketEnd && src_reg.base == BaseType::Packet)
        || (is_init_pkt_pointer(dst_reg, BaseType::Packet) && src_reg.base == BaseType::PacketMeta);
    let dreg = dst_reg.clone();
    let sreg = src_reg.clone();
    let sno = s as usize;
    // `this` is the fall-through branch, `other` the jump target.
    match op {
        JmpOp::Jgt if dst_vs_end => {
            find_good_pkt_pointers(this, &dreg, false);
            mark_pkt_end(other, d, true);
        }
        JmpOp::Jgt if end_vs_src => {
            find_good_pkt_pointers(other, &sreg, true);
            mark_pkt_end(this, sno, false);
        }
        JmpOp::Jlt if dst_vs_end => {
            find_good_pkt_pointers(other, &dreg, true);
            mark_pkt_end(this, d, false);
        }
        JmpOp::Jlt if end_vs_src => {
            find_good_pkt_pointers(this, &sreg, false);
            mark_pkt_end(other, sno, true);
        }
        JmpOp::Jge if dst_vs_end => {
            find_good_pkt_pointers(this, &dreg, true);
            mark_pkt_end(other, d, false);
        }
        JmpOp::Jge if end_vs_src => {
            find_good_pkt_pointers(other, &sreg, false);
            mark_pkt_end(this, sno, true);
        }
        JmpOp::Jle if dst_vs_end => {
            find_good_pkt_pointers(other, &dreg, false);
            mark_pkt_end(this, d, true);
        }
        JmpOp::Jle if end_vs_src => {
            find_good_pkt_pointers(this, &sreg, true);
            mark_pkt_end(other, sno, false);
        }
        _ => return false,
    }
    true
}

/// `find_good_pkt_pointers`.
fn find_good_pkt_pointers(st: &mut VerifierState, dst: &RegState, range_right_open: bool) {
    if dst.off < 0 || (dst.off == 0 && range_right_open) {
        return;
    }
    if dst.var.umax > MAX_PACKET_OFF || dst.var.umax + dst.off as u64 > MAX_PACKET_OFF {
        return;
    }
    let mut new_range = dst.off;
    if range_right_open {
        new_range += 1;
    }
    let (base, id) = (dst.base, dst.id);
    st.for_each_reg(|r| {
        if r.base == base && r.flags == dst.flags && r.id == id {
            r.range = r.range.max(new_range);
        }
    });
}

/// `mark_pkt_end`.
fn mark_pkt_end(st: &mut VerifierState, regno: usize, range_open: bool) {
    let r = &mut st.cur_mut().regs[regno];
    if r.base != BaseType::Packet {
        return;
    }
    r.range = if range_open {
        BEYOND_PKT_END
    } else {
        AT_PKT_END
    };
}
