//! Symbolic replay of one recorded path: the instructions from the path's
//! start to the failing instruction, following the engine's decisions,
//! with registers and stack as 64-bit bit-vector terms. Inputs the program
//! cannot control (packet length and bytes, ctx fields, map values, helper
//! results) are fresh symbols; each decision becomes a constraint.
//!
//! The replay over-approximates where it cannot be exact (a comparison it
//! cannot express is dropped and `approx` is set), so an unsatisfiable
//! query is a proof and a satisfiable one is a real input only when
//! nothing was dropped.

use crate::engine::Failure;
use crate::isa::{AluOp, AtomicOp, CallKind, EndKind, Insn, JmpOp, Src};
use crate::object::{Object, Program};
use crate::platform::protos::{ArgBase, RetBase, TypeFlags};
use crate::state::{BaseType, RegState};
use std::collections::HashMap;
use z3::ast::{Ast, BV, Bool};

/// At most this many instructions are replayed.
pub const MAX_REPLAY_STEPS: usize = 200_000;

/// What a pointer points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Base {
    /// The program's context.
    Ctx,
    /// The stack of the frame with this id.
    Stack(u32),
    /// The packet of this generation (a helper that changes packet data
    /// starts a new one); `data` is offset 0, `data_end` offset `len`.
    Pkt(u32),
    /// A map value (`map` = index in the object) of `size` bytes; `id`
    /// tells lookups apart.
    Map {
        /// Distinct per lookup.
        id: u32,
        /// The map.
        map: u32,
        /// `value_size`.
        size: u32,
    },
    /// Memory of `size` bytes (ring buffer record, map key, ...).
    Mem {
        /// Distinct per allocation.
        id: u32,
        /// Size.
        size: u32,
    },
    /// A map itself.
    MapPtr(u32),
    /// A subprogram (callback).
    Func(usize),
    /// Any other kernel object (socket, BTF pointer, ...).
    Opaque(u32),
}

/// A pointer: base, byte offset and, for `_or_null` pointers, whether it
/// is NULL.
#[derive(Clone, Debug)]
pub struct Ptr {
    /// What it points into.
    pub base: Base,
    /// Offset from the base.
    pub off: BV,
    /// True when the pointer is NULL (`None`: never).
    pub null: Option<Bool>,
}

/// A register or spilled value.
#[derive(Clone, Debug)]
pub enum Val {
    /// Never written.
    Uninit,
    /// A number.
    Scalar(BV),
    /// A pointer.
    Ptr(Ptr),
    /// Something the replay does not model.
    Unknown,
}

/// A named input of the program, for the counterexample.
#[derive(Clone, Debug)]
pub struct Input {
    /// In the user's terms: `packet length`, `pkt[14]`, `bpf_get_prandom_u32() at insn 7`.
    pub name: String,
    /// The symbol.
    pub term: BV,
    /// Whether it is a packet length (shown first).
    pub is_len: bool,
    /// The symbol's name in the Z3 terms.
    pub sym: String,
}

fn sym_name<T: z3::ast::Ast>(t: &T) -> String {
    t.decl().name()
}

/// One decision turned into a constraint.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// The instruction that decided.
    pub insn: usize,
    /// The condition that holds on the path.
    pub cond: Bool,
    /// The registers compared.
    pub regs: Vec<u8>,
    /// Their loss events when compared.
    pub losses: Vec<Loss>,
}

/// Why a value's bounds may be lost to the kernel (for imprecision
/// findings): the last such event on the value's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Filled from a stack slot (spill and fill).
    Fill(usize),
    /// A 32-bit operation.
    Trunc32(usize),
    /// Copied from another register.
    Copy(usize),
    /// Read back from memory other than the stack.
    Load(usize),
}

impl Loss {
    /// The instruction.
    pub fn insn(self) -> usize {
        match self {
            Loss::Fill(i) | Loss::Trunc32(i) | Loss::Copy(i) | Loss::Load(i) => i,
        }
    }
}

#[derive(Clone)]
struct Frame {
    regs: Vec<Val>,
    loss: Vec<Vec<Loss>>,
    uid: u32,
    callsite: Option<usize>,
    in_callback: bool,
}

/// The state at the failing instruction.
pub struct Replayed {
    /// Registers of the innermost frame.
    pub regs: Vec<Val>,
    /// Loss events per register (most recent last).
    pub loss: Vec<Vec<Loss>>,
    /// Path constraints in order.
    pub constraints: Vec<Constraint>,
    /// Side conditions that always hold (input ranges).
    pub facts: Vec<Bool>,
    /// Named inputs.
    pub inputs: Vec<Input>,
    /// Packet length per generation.
    pub pkt_len: HashMap<u32, BV>,
    /// `data - data_meta` per generation.
    pub pkt_meta: HashMap<u32, BV>,
    /// A comparison could not be expressed and was dropped.
    pub approx: Vec<String>,
    /// Stack bytes written on the path, per frame id (offsets from the
    /// frame pointer).
    pub stack_init: HashMap<u32, std::collections::HashSet<i64>>,
    /// Frame id of the innermost frame.
    pub frame_uid: u32,
    /// Instructions replayed.
    pub steps: usize,
}

/// Why the path could not be replayed.
#[derive(Clone, Debug)]
pub struct ReplayError(pub String);

fn bv(v: u64) -> BV {
    BV::from_u64(v, 64)
}

fn sext_imm(imm: i32) -> BV {
    BV::from_i64(imm as i64, 64)
}

fn as_const(b: &BV) -> Option<i64> {
    b.simplify()
        .as_i64()
        .or_else(|| b.simplify().as_u64().map(|u| u as i64))
}

struct Replayer<'a> {
    obj: &'a Object,
    prog: &'a Program,
    insns: Vec<Option<Result<Insn, crate::isa::IsaError>>>,
    frames: Vec<Frame>,
    next_uid: u32,
    /// Bytes written or read on the stack of each frame id.
    stack: HashMap<u32, HashMap<i64, BV>>,
    /// Full 8-byte spills of pointers (and other values) per frame id.
    spills: HashMap<u32, HashMap<i64, Val>>,
    stack_init: HashMap<u32, std::collections::HashSet<i64>>,
    /// Packet bytes per generation and offset; ctx and owned memory.
    mem: HashMap<(Base, i64), BV>,
    ctx_vals: HashMap<(i64, u32, u32), Val>,
    pkt_gen: u32,
    pkt_len: HashMap<u32, BV>,
    pkt_meta: HashMap<u32, BV>,
    constraints: Vec<Constraint>,
    facts: Vec<Bool>,
    inputs: Vec<Input>,
    approx: Vec<String>,
    next_id: u32,
    /// Objects derived from another (`bpf_tcp_sock(sk)`): released with it.
    root: HashMap<u32, u32>,
}

impl<'a> Replayer<'a> {
    fn fresh(&mut self, name: String, bits: u32) -> BV {
        let t = BV::fresh_const("in", bits);
        let sym = sym_name(&t);
        let wide = if bits < 64 { t.zero_ext(64 - bits) } else { t };
        self.inputs.push(Input {
            name,
            term: wide.clone(),
            is_len: false,
            sym,
        });
        wide
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    fn cur(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a frame")
    }

    fn reg(&self, r: u8) -> Val {
        self.frames.last().expect("a frame").regs[r as usize].clone()
    }

    fn set(&mut self, r: u8, v: Val, loss: Option<Loss>) {
        self.set_losses(r, v, loss.into_iter().collect());
    }

    fn set_losses(&mut self, r: u8, v: Val, mut loss: Vec<Loss>) {
        loss.sort_by_key(|l| l.insn());
        loss.dedup();
        if loss.len() > 8 {
            loss.drain(..loss.len() - 8);
        }
        let f = self.cur();
        f.regs[r as usize] = v;
        f.loss[r as usize] = loss;
    }

    fn loss_of(&self, r: u8) -> Vec<Loss> {
        self.frames.last().expect("a frame").loss[r as usize].clone()
    }

    fn new_frame(&mut self, callsite: Option<usize>, in_callback: bool) -> Frame {
        self.next_uid += 1;
        let uid = self.next_uid;
        let mut regs = vec![Val::Uninit; 11];
        regs[10] = Val::Ptr(Ptr {
            base: Base::Stack(uid),
            off: bv(0),
            null: None,
        });
        Frame {
            regs,
            loss: vec![Vec::new(); 11],
            uid,
            callsite,
            in_callback,
        }
    }

    fn pkt_len(&mut self, g: u32) -> BV {
        if let Some(l) = self.pkt_len.get(&g) {
            return l.clone();
        }
        let max: u64 = if self.prog.prog_type == Some(crate::platform::ProgType::Xdp) {
            // PAGE_SIZE - XDP_PACKET_HEADROOM - skb_shared_info.
            3520
        } else {
            0xffff
        };
        let l = BV::fresh_const("len", 64);
        self.facts.push(l.bvule(bv(max)));
        let name = if g == 0 {
            "packet length".to_string()
        } else {
            format!("packet length after helper call #{g}")
        };
        self.inputs.push(Input {
            name,
            term: l.clone(),
            is_len: true,
            sym: sym_name(&l),
        });
        self.pkt_len.insert(g, l.clone());
        l
    }

    fn pkt_meta(&mut self, g: u32) -> BV {
        if let Some(l) = self.pkt_meta.get(&g) {
            return l.clone();
        }
        let l = BV::fresh_const("meta", 64);
        self.facts.push(l.bvule(bv(32)));
        self.inputs.push(Input {
            name: "metadata length".to_string(),
            term: l.clone(),
            is_len: true,
            sym: sym_name(&l),
        });
        self.pkt_meta.insert(g, l.clone());
        l
    }

    /// The value of a register in the engine's entry state.
    fn entry_val(&mut self, r: &RegState, regno: usize) -> Val {
        let maybe_null = r.flags.0 & crate::state::TypeFlags::MAYBE_NULL != 0;
        let ptr = |base| {
            Val::Ptr(Ptr {
                base,
                off: BV::from_i64(r.off as i64, 64),
                null: maybe_null.then(|| Bool::fresh_const("null")),
            })
        };
        match r.base {
            BaseType::NotInit => Val::Uninit,
            BaseType::Scalar => {
                if r.var.is_const() {
                    Val::Scalar(bv(r.var.var_off.value))
                } else {
                    Val::Scalar(self.fresh(format!("argument r{regno}"), 64))
                }
            }
            BaseType::Ctx => ptr(Base::Ctx),
            BaseType::Stack => Val::Unknown,
            BaseType::MapValue => {
                let id = self.id();
                let map = r.map.unwrap_or(0);
                let size = self
                    .obj
                    .maps
                    .get(map as usize)
                    .map_or(r.mem_size, |m| m.value_size);
                ptr(Base::Map { id, map, size })
            }
            BaseType::Mem => {
                let id = self.id();
                ptr(Base::Mem {
                    id,
                    size: r.mem_size,
                })
            }
            _ => {
                let id = self.id();
                Val::Ptr(Ptr {
                    base: Base::Opaque(id),
                    off: BV::from_i64(r.off as i64, 64),
                    null: Some(Bool::fresh_const("null")),
                })
            }
        }
    }

    /// Every value pointing into `base` (all frames, spills) becomes
    /// unknown: the kernel invalidates them (released references, packet
    /// pointers after a helper that changes packet data).
    fn invalidate(&mut self, pred: impl Fn(Base) -> bool) {
        // `mark_reg_invalid`: an unknown number from now on.
        let bad = |v: &Val| matches!(v, Val::Ptr(p) if pred(p.base));
        let any = || Val::Scalar(BV::fresh_const("invalid", 64));
        for f in &mut self.frames {
            for r in f.regs.iter_mut() {
                if bad(r) {
                    *r = any();
                }
            }
        }
        for m in self.spills.values_mut() {
            for v in m.values_mut() {
                if bad(v) {
                    *v = any();
                }
            }
        }
    }

    /// Packet data may have changed: a new packet, old pointers invalid.
    fn new_packet(&mut self) {
        self.pkt_gen += 1;
        self.invalidate(|b| matches!(b, Base::Pkt(_)));
        self.ctx_vals.clear();
    }

    fn store_stack(&mut self, uid: u32, off: i64, n: u32, v: &Val) {
        let spills = self.spills.entry(uid).or_default();
        // Any spill overlapping the write is gone (its bytes are kept when
        // they are a scalar's).
        let over: Vec<i64> = spills
            .keys()
            .copied()
            .filter(|&s| s < off + n as i64 && off < s + 8)
            .collect();
        for s in over {
            if let Some(Val::Scalar(b)) = spills.remove(&s) {
                let bytes = self.stack.entry(uid).or_default();
                for k in 0..8 {
                    bytes.insert(s + k, b.extract((k as u32) * 8 + 7, (k as u32) * 8));
                }
            }
        }
        let init = self.stack_init.entry(uid).or_default();
        for k in 0..n as i64 {
            init.insert(off + k);
        }
        let bytes = self.stack.entry(uid).or_default();
        match v {
            Val::Scalar(b) => {
                for k in 0..n {
                    bytes.insert(off + k as i64, b.extract(k * 8 + 7, k * 8));
                }
                if n == 8 {
                    self.spills.entry(uid).or_default().insert(off, v.clone());
                }
            }
            Val::Ptr(_) if n == 8 => {
                for k in 0..8 {
                    bytes.remove(&(off + k));
                }
                self.spills.entry(uid).or_default().insert(off, v.clone());
            }
            _ => {
                for k in 0..n as i64 {
                    bytes.remove(&(off + k));
                }
            }
        }
    }

    fn load_stack(&mut self, uid: u32, off: i64, n: u32) -> Val {
        if let Some(v) = self.spills.get(&uid).and_then(|s| s.get(&off))
            && n == 8
        {
            return v.clone();
        }
        if let Some(s) = self.spills.get(&uid)
            && s.iter()
                .any(|(&o, v)| matches!(v, Val::Ptr(_)) && o < off + n as i64 && off < o + 8)
        {
            return Val::Unknown;
        }
        let mut out: Option<BV> = None;
        for k in 0..n as i64 {
            let b = match self.stack.get(&uid).and_then(|m| m.get(&(off + k))) {
                Some(b) => b.clone(),
                None => {
                    let t = BV::fresh_const("stack", 8);
                    self.stack
                        .entry(uid)
                        .or_default()
                        .insert(off + k, t.clone());
                    t
                }
            };
            out = Some(match out {
                None => b,
                Some(lo) => b.concat(&lo),
            });
        }
        let v = out.expect("n > 0");
        Val::Scalar(if n < 8 { v.zero_ext(64 - n * 8) } else { v })
    }

    fn havoc_stack(&mut self, uid: u32, from: Option<i64>, to: Option<i64>) {
        let keep = |o: i64| from.is_some_and(|f| o < f) || to.is_some_and(|t| o >= t);
        if let Some(m) = self.stack.get_mut(&uid) {
            m.retain(|&o, _| keep(o));
        }
        if let Some(m) = self.spills.get_mut(&uid) {
            m.retain(|&o, _| keep(o) && keep(o + 7));
        }
        if let (Some(f), Some(t)) = (from, to) {
            let init = self.stack_init.entry(uid).or_default();
            for o in f..t {
                init.insert(o);
            }
        }
    }

    fn havoc_base(&mut self, base: Base) {
        self.mem.retain(|(b, _), _| *b != base);
    }

    fn frame_of_uid(&self, uid: u32) -> bool {
        self.frames.iter().any(|f| f.uid == uid)
    }

    /// A load of `n` bytes through `p` at instruction `idx`.
    fn load(&mut self, idx: usize, p: &Ptr, insn_off: i64, n: u32, sx: bool) -> Val {
        let off = p.off.bvadd(sext_imm(insn_off as i32));
        let c = as_const(&off);
        let v = match (p.base, c) {
            (Base::Stack(uid), Some(o)) if self.frame_of_uid(uid) => self.load_stack(uid, o, n),
            (Base::Ctx, Some(o)) => return self.load_ctx(idx, o, n, sx),
            (Base::Pkt(_), Some(o)) | (Base::Mem { .. }, Some(o)) => {
                let mut out: Option<BV> = None;
                for k in 0..n as i64 {
                    let key = (p.base, o + k);
                    let b = match self.mem.get(&key) {
                        Some(b) => b.clone(),
                        None => {
                            let name = match p.base {
                                Base::Pkt(_) => format!("pkt[{}]", o + k),
                                _ => format!("memory byte {}", o + k),
                            };
                            let t = BV::fresh_const("b", 8);
                            self.inputs.push(Input {
                                name,
                                term: t.zero_ext(56),
                                is_len: false,
                                sym: sym_name(&t),
                            });
                            self.mem.insert(key, t.clone());
                            t
                        }
                    };
                    out = Some(match out {
                        None => b,
                        Some(lo) => b.concat(&lo),
                    });
                }
                let v = out.expect("n > 0");
                Val::Scalar(if n < 8 { v.zero_ext(64 - n * 8) } else { v })
            }
            (Base::Map { map, .. }, Some(o))
                if self.obj.maps.get(map as usize).is_some_and(|m| m.frozen) =>
            {
                let m = &self.obj.maps[map as usize];
                match &m.initial {
                    Some(init) if o >= 0 && (o as usize + n as usize) <= init.len() => {
                        let mut x = 0u64;
                        for k in (0..n as usize).rev() {
                            x = (x << 8) | init[o as usize + k] as u64;
                        }
                        Val::Scalar(bv(x))
                    }
                    _ => {
                        Val::Scalar(self.fresh(format!("map value byte {o} at insn {idx}"), n * 8))
                    }
                }
            }
            (Base::Map { map, .. }, _) => {
                let name = self
                    .obj
                    .maps
                    .get(map as usize)
                    .map_or("map".to_string(), |m| m.name.clone());
                let what = match c {
                    Some(o) => format!("`{name}` value at +{o} (read at insn {idx})"),
                    None => format!("`{name}` value (read at insn {idx})"),
                };
                Val::Scalar(self.fresh(what, n * 8))
            }
            _ => Val::Scalar(self.fresh(format!("value read at insn {idx}"), n * 8)),
        };
        match v {
            Val::Scalar(b) if sx && n < 8 => {
                let low = b.extract(n * 8 - 1, 0);
                Val::Scalar(low.sign_ext(64 - n * 8))
            }
            v => v,
        }
    }

    fn load_ctx(&mut self, idx: usize, off: i64, n: u32, sx: bool) -> Val {
        use crate::checks::ctx::{CtxCheck, CtxRegType, check_ctx_access};
        let key = (off, n, self.pkt_gen);
        if let Some(v) = self.ctx_vals.get(&key) {
            return v.clone();
        }
        let Some(t) = self.prog.prog_type else {
            return Val::Unknown;
        };
        let r = check_ctx_access(
            t,
            self.prog.attach_type,
            off as i32,
            n,
            crate::checks::ctx::AccessType::Read,
            sx,
        );
        let g = self.pkt_gen;
        let v = match r {
            CtxCheck::Ok(a) => match a.reg_type {
                CtxRegType::Scalar => {
                    let b = self.fresh(format!("ctx+{off} ({n} bytes)"), n * 8);
                    if sx && n < 8 {
                        Val::Scalar(b.extract(n * 8 - 1, 0).sign_ext(64 - n * 8))
                    } else {
                        Val::Scalar(b)
                    }
                }
                CtxRegType::Packet => Val::Ptr(Ptr {
                    base: {
                        // The packet has a length even when data_end is
                        // never read.
                        self.pkt_len(g);
                        Base::Pkt(g)
                    },
                    off: bv(0),
                    null: None,
                }),
                CtxRegType::PacketEnd => {
                    let l = self.pkt_len(g);
                    Val::Ptr(Ptr {
                        base: Base::Pkt(g),
                        off: l,
                        null: None,
                    })
                }
                CtxRegType::PacketMeta => {
                    let m = self.pkt_meta(g);
                    Val::Ptr(Ptr {
                        base: Base::Pkt(g),
                        off: m.bvneg(),
                        null: None,
                    })
                }
                other => {
                    let id = self.id();
                    // Whether the kernel types it `_or_null` or not, a
                    // comparison with NULL is a question about the input.
                    let _ = other;
                    Val::Ptr(Ptr {
                        base: Base::Opaque(id),
                        off: bv(0),
                        null: Some({
                            let b = Bool::fresh_const("null");
                            self.inputs.push(Input {
                                name: format!("ctx+{off} is NULL (insn {idx})"),
                                term: b.ite(&bv(1), &bv(0)),
                                is_len: false,
                                sym: sym_name(&b),
                            });
                            b
                        }),
                    })
                }
            },
            _ => Val::Unknown,
        };
        self.ctx_vals.insert(key, v.clone());
        v
    }

    fn store(&mut self, p: &Ptr, insn_off: i64, n: u32, v: &Val) {
        let off = p.off.bvadd(sext_imm(insn_off as i32));
        match (p.base, as_const(&off)) {
            (Base::Stack(uid), Some(o)) => self.store_stack(uid, o, n, v),
            (Base::Stack(uid), None) => self.havoc_stack(uid, None, None),
            (Base::Pkt(_) | Base::Mem { .. }, Some(o)) => {
                for k in 0..n as i64 {
                    match v {
                        Val::Scalar(b) => {
                            self.mem
                                .insert((p.base, o + k), b.extract(k as u32 * 8 + 7, k as u32 * 8));
                        }
                        _ => {
                            self.mem.remove(&(p.base, o + k));
                        }
                    }
                }
            }
            (Base::Ctx, Some(o)) => {
                self.ctx_vals
                    .retain(|&(co, _, _), _| co + 8 <= o || co >= o + n as i64);
            }
            (b, _) => self.havoc_base(b),
        }
    }

    fn helper_proto(id: i32) -> Option<&'static crate::platform::protos::FuncProto> {
        crate::platform::protos::all_protos()
            .iter()
            .find(|p| p.helper_id == Some(id))
    }

    /// A helper call that does not enter a callback.
    fn call_helper(&mut self, idx: usize, id: i32) {
        let name = crate::platform::helper_name(id).unwrap_or("helper");
        let proto = Self::helper_proto(id);
        // Memory the helper writes.
        if let Some(p) = proto {
            for (i, a) in p.args.iter().enumerate() {
                let writes = matches!(a.base, ArgBase::PtrToMem | ArgBase::PtrToMapValue)
                    && (a.flags.contains(TypeFlags::MEM_UNINIT)
                        || (a.base == ArgBase::PtrToMem
                            && !a.flags.contains(TypeFlags::MEM_RDONLY)));
                if !writes {
                    continue;
                }
                let Val::Ptr(ptr) = self.reg(i as u8 + 1) else {
                    continue;
                };
                let size = match (p.args.get(i + 1), self.reg(i as u8 + 2)) {
                    (Some(s), Val::Scalar(b))
                        if matches!(s.base, ArgBase::ConstSize | ArgBase::ConstSizeOrZero) =>
                    {
                        as_const(&b)
                    }
                    _ => None,
                };
                match (ptr.base, as_const(&ptr.off)) {
                    (Base::Stack(uid), Some(o)) => {
                        self.havoc_stack(uid, Some(o), size.map(|s| o + s))
                    }
                    (Base::Stack(uid), None) => self.havoc_stack(uid, None, None),
                    (b, _) => self.havoc_base(b),
                }
            }
        }
        let r0 = match proto.map(|p| p.ret.base) {
            Some(RetBase::Integer) | None => {
                Val::Scalar(self.fresh(format!("{name}() result at insn {idx}"), 64))
            }
            Some(RetBase::Void) => Val::Uninit,
            Some(base) => {
                let null = Some({
                    let b = Bool::fresh_const("null");
                    self.inputs.push(Input {
                        name: format!("{name}() returns NULL at insn {idx}"),
                        term: b.ite(&bv(1), &bv(0)),
                        is_len: false,
                        sym: sym_name(&b),
                    });
                    b
                });
                let rid = self.id();
                let b = match (base, self.reg(1), self.reg(2)) {
                    (
                        RetBase::PtrToMapValue,
                        Val::Ptr(Ptr {
                            base: Base::MapPtr(m),
                            ..
                        }),
                        _,
                    ) => Base::Map {
                        id: rid,
                        map: m,
                        size: self.obj.maps.get(m as usize).map_or(0, |d| d.value_size),
                    },
                    (RetBase::PtrToMem, _, Val::Scalar(s)) if as_const(&s).is_some() => Base::Mem {
                        id: rid,
                        size: as_const(&s).unwrap_or(0) as u32,
                    },
                    _ => {
                        // A socket derived from the argument's shares its
                        // reference.
                        if let Val::Ptr(Ptr {
                            base: Base::Opaque(parent),
                            ..
                        }) = self.reg(1)
                        {
                            let r = *self.root.get(&parent).unwrap_or(&parent);
                            self.root.insert(rid, r);
                        }
                        Base::Opaque(rid)
                    }
                };
                Val::Ptr(Ptr {
                    base: b,
                    off: bv(0),
                    null,
                })
            }
        };
        if let Some(p) = proto {
            for (i, a) in p.args.iter().enumerate() {
                if a.flags.contains(TypeFlags::OBJ_RELEASE)
                    && let Val::Ptr(ptr) = self.reg(i as u8 + 1)
                {
                    let b = ptr.base;
                    let root = self.root.clone();
                    let root_of = move |x: Base| match x {
                        Base::Opaque(id) => Base::Opaque(*root.get(&id).unwrap_or(&id)),
                        other => other,
                    };
                    let rb = root_of(b);
                    self.invalidate(|x| x == b || root_of(x) == rb);
                }
            }
        }
        if crate::cfg::subprogs::bpf_helper_changes_pkt_data(id) {
            self.new_packet();
        }
        for r in 1..=5 {
            self.set(r, Val::Uninit, None);
        }
        self.set(0, r0, None);
    }

    fn alu(&mut self, idx: usize, is64: bool, op: AluOp, dst: u8, src: Src) {
        let d = self.reg(dst);
        let (s, s_loss) = match src {
            Src::Reg(r) => (self.reg(r), self.loss_of(r)),
            Src::Imm(i) => (Val::Scalar(sext_imm(i)), Vec::new()),
        };
        let d_loss = self.loss_of(dst);
        let mut loss = match (op, src) {
            (AluOp::Mov, Src::Reg(_)) if is64 => {
                let mut l = s_loss;
                l.push(Loss::Copy(idx));
                l
            }
            (AluOp::Mov | AluOp::Movsx(_), _) => s_loss,
            _ => [d_loss, s_loss].concat(),
        };
        if !is64 {
            loss.push(Loss::Trunc32(idx));
        }
        let v = match (op, &d, &s) {
            (AluOp::Mov, _, _) if is64 => s.clone(),
            (AluOp::Mov, _, Val::Scalar(b)) => Val::Scalar(b.extract(31, 0).zero_ext(32)),
            (AluOp::Movsx(bits), _, Val::Scalar(b)) => {
                let low = b.extract(bits as u32 - 1, 0);
                if is64 {
                    Val::Scalar(low.sign_ext(64 - bits as u32))
                } else {
                    Val::Scalar(low.sign_ext(32 - bits as u32).zero_ext(32))
                }
            }
            (AluOp::Add, Val::Ptr(p), Val::Scalar(b))
            | (AluOp::Add, Val::Scalar(b), Val::Ptr(p))
                if is64 =>
            {
                Val::Ptr(Ptr {
                    base: p.base,
                    off: p.off.bvadd(b),
                    null: p.null.clone(),
                })
            }
            (AluOp::Sub, Val::Ptr(p), Val::Scalar(b)) if is64 => Val::Ptr(Ptr {
                base: p.base,
                off: p.off.bvsub(b),
                null: p.null.clone(),
            }),
            (AluOp::Sub, Val::Ptr(p), Val::Ptr(q)) if is64 && p.base == q.base => {
                Val::Scalar(p.off.bvsub(&q.off))
            }
            (AluOp::Lsh | AluOp::Rsh | AluOp::Arsh, Val::Scalar(a), Val::Scalar(b)) => {
                // A shift by the width or more is undefined: any value.
                let w: u64 = if is64 { 64 } else { 32 };
                let r = scalar_op(is64, op, a, b);
                let count = if is64 {
                    b.clone()
                } else {
                    b.extract(31, 0).zero_ext(32)
                };
                let c = count.bvult(bv(w));
                if c.simplify().as_bool() == Some(true) {
                    Val::Scalar(r)
                } else {
                    let any =
                        self.fresh(format!("result of the oversized shift at insn {idx}"), 64);
                    let any = if is64 {
                        any
                    } else {
                        any.extract(31, 0).zero_ext(32)
                    };
                    Val::Scalar(c.ite(&r, &any))
                }
            }
            (_, Val::Scalar(a), Val::Scalar(b)) => Val::Scalar(scalar_op(is64, op, a, b)),
            _ => Val::Unknown,
        };
        self.set_losses(dst, v, loss);
    }

    fn cond(&mut self, idx: usize, is32: bool, op: JmpOp, dst: u8, src: Src) -> Option<Bool> {
        let a = self.reg(dst);
        let b = match src {
            Src::Reg(r) => self.reg(r),
            Src::Imm(i) => Val::Scalar(sext_imm(i)),
        };
        match (&a, &b) {
            (Val::Scalar(x), Val::Scalar(y)) => {
                let (x, y) = if is32 {
                    (x.extract(31, 0), y.extract(31, 0))
                } else {
                    (x.clone(), y.clone())
                };
                Some(cmp(op, &x, &y))
            }
            (Val::Ptr(p), Val::Ptr(q)) if p.base == q.base && !is32 => {
                if p.null.is_some() || q.null.is_some() {
                    self.approx
                        .push(format!("insn {idx}: comparison of nullable pointers"));
                    return None;
                }
                // Addresses in one object: compare the offsets as signed
                // numbers (no object wraps around the address space).
                Some(cmp(signed(op), &p.off, &q.off))
            }
            (Val::Ptr(p), Val::Ptr(q))
                if p.base != q.base && !is32 && matches!(op, JmpOp::Jeq | JmpOp::Jne) =>
            {
                // Two pointers from different sources: equal when both are
                // NULL, never when one is; two kernel objects looked up
                // apart may still be the same one.
                let f = Bool::from_bool(false);
                let n1 = p.null.clone().unwrap_or_else(|| f.clone());
                let n2 = q.null.clone().unwrap_or_else(|| f.clone());
                let both = Bool::and(&[n1.clone(), n2.clone()]);
                let eq = match (p.base, q.base) {
                    (Base::Opaque(_), Base::Opaque(_)) => {
                        let e = Bool::fresh_const("same");
                        self.facts.push(both.implies(&e));
                        self.facts.push(n1.xor(&n2).implies(e.not()));
                        e
                    }
                    _ => both,
                };
                Some(if op == JmpOp::Jeq { eq } else { eq.not() })
            }
            (Val::Ptr(p), Val::Scalar(z)) | (Val::Scalar(z), Val::Ptr(p))
                if as_const(z) == Some(0) && !is32 =>
            {
                let is_null = p.null.clone().unwrap_or_else(|| Bool::from_bool(false));
                let ptr_first = matches!(a, Val::Ptr(_));
                match (op, ptr_first) {
                    (JmpOp::Jeq, _) | (JmpOp::Jle, true) | (JmpOp::Jge, false) => Some(is_null),
                    (JmpOp::Jne, _) | (JmpOp::Jgt, true) | (JmpOp::Jlt, false) => {
                        Some(is_null.not())
                    }
                    _ => {
                        self.approx
                            .push(format!("insn {idx}: comparison of a pointer with 0"));
                        None
                    }
                }
            }
            _ => {
                self.approx.push(format!(
                    "insn {idx}: comparison of values bpfproof does not model"
                ));
                None
            }
        }
    }
}

fn signed(op: JmpOp) -> JmpOp {
    match op {
        JmpOp::Jgt => JmpOp::Jsgt,
        JmpOp::Jge => JmpOp::Jsge,
        JmpOp::Jlt => JmpOp::Jslt,
        JmpOp::Jle => JmpOp::Jsle,
        o => o,
    }
}

fn cmp(op: JmpOp, x: &BV, y: &BV) -> Bool {
    match op {
        JmpOp::Jeq => x.eq(y),
        JmpOp::Jne => x.eq(y).not(),
        JmpOp::Jgt => x.bvugt(y),
        JmpOp::Jge => x.bvuge(y),
        JmpOp::Jlt => x.bvult(y),
        JmpOp::Jle => x.bvule(y),
        JmpOp::Jsgt => x.bvsgt(y),
        JmpOp::Jsge => x.bvsge(y),
        JmpOp::Jslt => x.bvslt(y),
        JmpOp::Jsle => x.bvsle(y),
        JmpOp::Jset => x.bvand(y).eq(BV::from_u64(0, x.get_size())).not(),
    }
}

fn scalar_op(is64: bool, op: AluOp, a: &BV, b: &BV) -> BV {
    let w = if is64 { 64 } else { 32 };
    let (a, b) = if is64 {
        (a.clone(), b.clone())
    } else {
        (a.extract(31, 0), b.extract(31, 0))
    };
    let zero = BV::from_u64(0, w);
    let bz = b.eq(&zero);
    let mask = BV::from_u64(w as u64 - 1, w);
    let r = match op {
        AluOp::Add => a.bvadd(&b),
        AluOp::Sub => a.bvsub(&b),
        AluOp::Mul => a.bvmul(&b),
        AluOp::Div => bz.ite(&zero, &a.bvudiv(&b)),
        AluOp::Sdiv => bz.ite(&zero, &a.bvsdiv(&b)),
        AluOp::Mod => bz.ite(&a, &a.bvurem(&b)),
        AluOp::Smod => bz.ite(&a, &a.bvsrem(&b)),
        AluOp::Or => a.bvor(&b),
        AluOp::And => a.bvand(&b),
        AluOp::Xor => a.bvxor(&b),
        AluOp::Lsh => a.bvshl(b.bvand(&mask)),
        AluOp::Rsh => a.bvlshr(b.bvand(&mask)),
        AluOp::Arsh => a.bvashr(b.bvand(&mask)),
        AluOp::Mov | AluOp::Movsx(_) => b,
    };
    if is64 { r } else { r.zero_ext(32) }
}

fn bswap(x: &BV, bits: u32) -> BV {
    let mut out: Option<BV> = None;
    for k in 0..bits / 8 {
        let byte = x.extract(k * 8 + 7, k * 8);
        out = Some(match out {
            None => byte,
            Some(hi) => hi.concat(&byte),
        });
    }
    out.expect("bits >= 8")
}

/// Replays the path of `fail` in `prog` up to (not including) the failing
/// instruction `at`.
pub fn replay(
    obj: &Object,
    prog: &Program,
    fail: &Failure,
    at: usize,
) -> Result<Replayed, ReplayError> {
    let mut r = Replayer {
        obj,
        prog,
        insns: crate::isa::decode_all(&prog.insns),
        frames: Vec::new(),
        next_uid: 0,
        stack: HashMap::new(),
        spills: HashMap::new(),
        stack_init: HashMap::new(),
        mem: HashMap::new(),
        ctx_vals: HashMap::new(),
        pkt_gen: 0,
        pkt_len: HashMap::new(),
        pkt_meta: HashMap::new(),
        constraints: Vec::new(),
        facts: Vec::new(),
        inputs: Vec::new(),
        approx: Vec::new(),
        next_id: 0,
        root: HashMap::new(),
    };
    let mut f = r.new_frame(None, false);
    if fail.start == 0 || fail.entry.is_empty() {
        f.regs[1] = Val::Ptr(Ptr {
            base: Base::Ctx,
            off: bv(0),
            null: None,
        });
    } else {
        for (i, reg) in fail.entry.iter().enumerate().take(10) {
            f.regs[i] = r.entry_val(reg, i);
        }
    }
    r.frames.push(f);
    let decisions = &fail.replay;
    let mut next = 0usize;
    let mut idx = fail.start;
    let mut steps = 0usize;
    loop {
        if idx == at && next == decisions.len() && r.frames.len() == fail.frames {
            break;
        }
        steps += 1;
        if steps > MAX_REPLAY_STEPS {
            return Err(ReplayError(format!(
                "the path is longer than {MAX_REPLAY_STEPS} instructions"
            )));
        }
        let Some(Some(Ok(insn))) = r.insns.get(idx).cloned() else {
            return Err(ReplayError(format!("no instruction at {idx}")));
        };
        let decision = decisions.get(next).filter(|d| d.0 == idx).map(|d| d.1);
        match insn {
            Insn::Alu { is64, op, dst, src } => {
                r.alu(idx, is64, op, dst, src);
                idx += 1;
            }
            Insn::Neg { is64, dst } => {
                let v = match r.reg(dst) {
                    Val::Scalar(b) if is64 => Val::Scalar(b.bvneg()),
                    Val::Scalar(b) => Val::Scalar(b.extract(31, 0).bvneg().zero_ext(32)),
                    _ => Val::Unknown,
                };
                let l = r.loss_of(dst);
                r.set_losses(dst, v, l);
                idx += 1;
            }
            Insn::End { kind, bits, dst } => {
                let bits = bits as u32;
                let v = match r.reg(dst) {
                    Val::Scalar(b) => {
                        let low = b.extract(bits - 1, 0);
                        let x = match kind {
                            EndKind::ToLe => low,
                            EndKind::ToBe | EndKind::Bswap => bswap(&low, bits),
                        };
                        Val::Scalar(if bits < 64 { x.zero_ext(64 - bits) } else { x })
                    }
                    _ => Val::Unknown,
                };
                let l = r.loss_of(dst);
                r.set_losses(dst, v, l);
                idx += 1;
            }
            Insn::AddrSpaceCast { dst, .. } => {
                r.set(dst, Val::Unknown, None);
                idx += 1;
            }
            Insn::Ja { off, .. } => idx = (idx as i64 + off as i64 + 1) as usize,
            Insn::Jmp {
                is32,
                op,
                dst,
                src,
                off,
            } => {
                let Some(taken) = decision else {
                    return Err(ReplayError(format!(
                        "the recorded path has no decision for the jump at insn {idx}"
                    )));
                };
                next += 1;
                if let Some(c) = r.cond(idx, is32, op, dst, src) {
                    let mut regs = vec![dst];
                    if let Src::Reg(s) = src {
                        regs.push(s);
                    }
                    let losses = regs.iter().flat_map(|&k| r.loss_of(k)).collect();
                    r.constraints.push(Constraint {
                        insn: idx,
                        cond: if taken { c } else { c.not() },
                        regs,
                        losses,
                    });
                }
                idx = if taken {
                    (idx as i64 + off as i64 + 1) as usize
                } else {
                    idx + 1
                };
            }
            Insn::MayGoto { off } => {
                let cont = decision.unwrap_or(false);
                if decision.is_some() {
                    next += 1;
                }
                idx = if cont {
                    idx + 1
                } else {
                    (idx as i64 + off as i64 + 1) as usize
                };
            }
            Insn::LdImm64 {
                dst,
                pseudo,
                imm,
                imm_hi,
            } => {
                use crate::isa::raw::*;
                let v = match pseudo {
                    0 => Val::Scalar(bv(((imm_hi as u32 as u64) << 32) | imm as u32 as u64)),
                    BPF_PSEUDO_MAP_FD | BPF_PSEUDO_MAP_IDX => Val::Ptr(Ptr {
                        base: Base::MapPtr(imm as u32),
                        off: bv(0),
                        null: None,
                    }),
                    BPF_PSEUDO_MAP_VALUE | BPF_PSEUDO_MAP_IDX_VALUE => Val::Ptr(Ptr {
                        base: Base::Map {
                            id: 1_000_000 + imm as u32,
                            map: imm as u32,
                            size: obj.maps.get(imm as usize).map_or(0, |m| m.value_size),
                        },
                        off: bv(imm_hi as u32 as u64),
                        null: None,
                    }),
                    BPF_PSEUDO_FUNC => Val::Ptr(Ptr {
                        base: Base::Func((idx as i64 + imm as i64 + 1) as usize),
                        off: bv(0),
                        null: None,
                    }),
                    _ => Val::Unknown,
                };
                r.set(dst, v, None);
                idx += 2;
            }
            Insn::LdAbs { size, .. } | Insn::LdInd { size, .. } => {
                let n = size.bytes();
                let v = r.fresh(format!("packet load at insn {idx}"), n * 8);
                for k in 1..=5 {
                    r.set(k, Val::Uninit, None);
                }
                r.set(0, Val::Scalar(v), None);
                match decision {
                    Some(false) => {
                        next += 1;
                        // The hidden exit with R0 = 0.
                        r.set(0, Val::Scalar(bv(0)), None);
                        idx = r.exit()?;
                    }
                    Some(true) => {
                        next += 1;
                        idx += 1;
                    }
                    None => idx += 1,
                }
            }
            Insn::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            } => {
                let n = size.bytes();
                let v = match r.reg(src) {
                    Val::Ptr(p) => r.load(idx, &p, off as i64, n, sx),
                    _ => Val::Unknown,
                };
                let loss = match r.reg(src) {
                    Val::Ptr(Ptr {
                        base: Base::Stack(_),
                        ..
                    }) => Some(Loss::Fill(idx)),
                    _ => None,
                };
                r.set(dst, v, loss);
                idx += 1;
            }
            Insn::St {
                size,
                dst,
                off,
                imm,
            } => {
                if let Val::Ptr(p) = r.reg(dst) {
                    r.store(&p, off as i64, size.bytes(), &Val::Scalar(sext_imm(imm)));
                }
                idx += 1;
            }
            Insn::Stx {
                size,
                dst,
                src,
                off,
            } => {
                if let Val::Ptr(p) = r.reg(dst) {
                    let v = r.reg(src);
                    r.store(&p, off as i64, size.bytes(), &v);
                }
                idx += 1;
            }
            Insn::Atomic {
                size,
                op,
                dst,
                src,
                off,
            } => {
                let n = size.bytes();
                let fetch = matches!(
                    op,
                    AtomicOp::Add { fetch: true }
                        | AtomicOp::Or { fetch: true }
                        | AtomicOp::And { fetch: true }
                        | AtomicOp::Xor { fetch: true }
                        | AtomicOp::Xchg
                );
                match op {
                    AtomicOp::LoadAcquire => {
                        let v = match r.reg(src) {
                            Val::Ptr(p) => r.load(idx, &p, off as i64, n, false),
                            _ => Val::Unknown,
                        };
                        r.set(dst, v, Some(Loss::Load(idx)));
                    }
                    AtomicOp::StoreRelease => {
                        if let Val::Ptr(p) = r.reg(dst) {
                            let v = r.reg(src);
                            r.store(&p, off as i64, n, &v);
                        }
                    }
                    _ => {
                        if let Val::Ptr(p) = r.reg(dst) {
                            let old = r.load(idx, &p, off as i64, n, false);
                            r.store(&p, off as i64, n, &Val::Unknown);
                            if fetch {
                                r.set(src, old, Some(Loss::Load(idx)));
                            } else if op == AtomicOp::Cmpxchg {
                                r.set(0, old, Some(Loss::Load(idx)));
                            }
                        } else if fetch {
                            r.set(src, Val::Unknown, None);
                        }
                    }
                }
                idx += 1;
            }
            Insn::Call(CallKind::Local(imm))
                if crate::engine::is_global_subprog_of(
                    obj,
                    prog,
                    (idx as i64 + imm as i64 + 1) as usize,
                ) =>
            {
                // A global function is verified on its own: for the
                // caller, a call that returns a number and may write
                // through its pointer arguments.
                let target = (idx as i64 + imm as i64 + 1) as usize;
                for k in 1..=5u8 {
                    if let Val::Ptr(p) = r.reg(k) {
                        match p.base {
                            Base::Stack(uid) => r.havoc_stack(uid, None, None),
                            b => r.havoc_base(b),
                        }
                    }
                }
                if r.may_change_pkt_data(target) {
                    r.new_packet();
                }
                let v = r.fresh(format!("global function result at insn {idx}"), 64);
                for k in 1..=5 {
                    r.set(k, Val::Uninit, None);
                }
                r.set(0, Val::Scalar(v), None);
                idx += 1;
            }
            Insn::Call(CallKind::Local(imm)) => {
                let target = (idx as i64 + imm as i64 + 1) as usize;
                let mut f = r.new_frame(Some(idx), false);
                for k in 1..=5u8 {
                    f.regs[k as usize] = r.reg(k);
                    f.loss[k as usize] = r.loss_of(k);
                }
                r.frames.push(f);
                idx = target;
            }
            Insn::Call(CallKind::Helper(id)) => {
                if decision.is_some() {
                    next += 1;
                }
                if decision == Some(true) {
                    // The callback is entered.
                    let target = (1..=5u8).find_map(|k| match r.reg(k) {
                        Val::Ptr(Ptr {
                            base: Base::Func(t),
                            ..
                        }) => Some(t),
                        _ => None,
                    });
                    let Some(target) = target else {
                        return Err(ReplayError(format!(
                            "no callback function in the arguments of the call at insn {idx}"
                        )));
                    };
                    let name = crate::platform::helper_name(id).unwrap_or("");
                    let caller: Vec<Val> = (0..=5u8).map(|k| r.reg(k)).collect();
                    let mut f = r.new_frame(Some(idx), true);
                    match name {
                        "bpf_loop" => {
                            let i = r.fresh(format!("bpf_loop index at insn {idx}"), 32);
                            if let Val::Scalar(n) = &caller[1] {
                                let n32 = n.extract(31, 0).zero_ext(32);
                                r.constraints.push(Constraint {
                                    insn: idx,
                                    cond: i.bvult(&n32),
                                    regs: vec![1],
                                    losses: Vec::new(),
                                });
                            }
                            f.regs[1] = Val::Scalar(i);
                            f.regs[2] = caller[3].clone();
                        }
                        "bpf_for_each_map_elem" => {
                            let (m, ksz, vsz) = match &caller[1] {
                                Val::Ptr(Ptr {
                                    base: Base::MapPtr(m),
                                    ..
                                }) => {
                                    let d = obj.maps.get(*m as usize);
                                    (
                                        *m,
                                        d.map_or(0, |d| d.key_size),
                                        d.map_or(0, |d| d.value_size),
                                    )
                                }
                                _ => (0, 0, 0),
                            };
                            f.regs[1] = caller[1].clone();
                            let kid = r.id();
                            f.regs[2] = Val::Ptr(Ptr {
                                base: Base::Mem { id: kid, size: ksz },
                                off: bv(0),
                                null: None,
                            });
                            let vid = r.id();
                            f.regs[3] = Val::Ptr(Ptr {
                                base: Base::Map {
                                    id: vid,
                                    map: m,
                                    size: vsz,
                                },
                                off: bv(0),
                                null: None,
                            });
                            f.regs[4] = caller[3].clone();
                        }
                        "bpf_find_vma" => {
                            let a = r.id();
                            f.regs[1] = Val::Ptr(Ptr {
                                base: Base::Opaque(a),
                                off: bv(0),
                                null: None,
                            });
                            let b = r.id();
                            f.regs[2] = Val::Ptr(Ptr {
                                base: Base::Opaque(b),
                                off: bv(0),
                                null: None,
                            });
                            f.regs[3] = caller[4].clone();
                        }
                        _ => {
                            for k in 1..=5 {
                                f.regs[k] = Val::Unknown;
                            }
                        }
                    }
                    r.frames.push(f);
                    idx = target;
                } else {
                    r.call_helper(idx, id);
                    idx += 1;
                }
            }
            Insn::Call(CallKind::Kfunc { .. }) => {
                let v = r.fresh(format!("kfunc result at insn {idx}"), 64);
                for k in 1..=5 {
                    r.set(k, Val::Uninit, None);
                }
                match decision {
                    Some(true) => {
                        // An iterator's next element: a pointer, not NULL.
                        next += 1;
                        let _ = v;
                        let id = r.id();
                        r.set(
                            0,
                            Val::Ptr(Ptr {
                                base: Base::Opaque(id),
                                off: bv(0),
                                null: Some(Bool::from_bool(false)),
                            }),
                            None,
                        );
                    }
                    Some(false) => {
                        next += 1;
                        r.set(0, Val::Scalar(bv(0)), None);
                    }
                    None => r.set(0, Val::Scalar(v), None),
                }
                idx += 1;
            }
            Insn::Exit => {
                if r.frames.len() == 1 {
                    return Err(ReplayError(format!(
                        "the replayed path left the program at insn {idx} before the failing instruction"
                    )));
                }
                idx = r.exit()?;
            }
        }
    }
    let f = r.frames.last().expect("a frame");
    Ok(Replayed {
        regs: f.regs.clone(),
        loss: f.loss.clone(),
        frame_uid: f.uid,
        constraints: r.constraints,
        facts: r.facts,
        inputs: r.inputs,
        pkt_len: r.pkt_len,
        pkt_meta: r.pkt_meta,
        approx: r.approx,
        stack_init: r.stack_init,
        steps,
    })
}

impl Replayer<'_> {
    /// A function starting at `start`, or one it calls, calls a helper
    /// that changes packet data.
    fn may_change_pkt_data(&self, start: usize) -> bool {
        let mut starts: Vec<usize> = self.prog.subprogs.iter().map(|s| s.start).collect();
        starts.sort_unstable();
        let end_of = |s: usize| {
            starts
                .iter()
                .copied()
                .find(|&x| x > s)
                .unwrap_or(self.insns.len())
        };
        let mut seen = vec![start];
        let mut todo = vec![start];
        while let Some(s) = todo.pop() {
            for i in s..end_of(s) {
                match self.insns.get(i) {
                    Some(Some(Ok(Insn::Call(CallKind::Helper(id)))))
                        if crate::cfg::subprogs::bpf_helper_changes_pkt_data(*id) =>
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

    /// `BPF_EXIT` from a called frame: where the path goes on.
    fn exit(&mut self) -> Result<usize, ReplayError> {
        if self.frames.len() == 1 {
            return Err(ReplayError(
                "the replayed path exits the program".to_string(),
            ));
        }
        let f = self.frames.pop().expect("a frame");
        let callsite = f.callsite.unwrap_or(0);
        self.stack.remove(&f.uid);
        self.spills.remove(&f.uid);
        if f.in_callback {
            // Back to the helper, which decides on the next iteration.
            return Ok(callsite);
        }
        let r0 = f.regs[0].clone();
        let l0 = f.loss[0].clone();
        for k in 1..=5 {
            self.set(k, Val::Uninit, None);
        }
        self.set_losses(0, r0, l0);
        Ok(callsite + 1)
    }
}
