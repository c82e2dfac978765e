//! A concrete BPF interpreter for the soundness test: runs a loaded
//! program on one random input and, before every instruction, hands the
//! concrete registers to a checker.
//!
//! Written from the instruction-set definition (Documentation/bpf/
//! standardization/instruction-set.rst and the kernel's interpreter,
//! `kernel/bpf/core.c` `___bpf_prog_run`), independently of the engine:
//! ALU32 results are zero-extended, division by zero gives 0, modulo by
//! zero leaves the destination (truncated to 32 bits for ALU32), shifts are
//! masked, `sdiv`/`smod` by -1 do not trap, `movsx`/`ldsx` sign-extend.
//!
//! Memory is a set of regions (stack frames, ctx, packet, map values), each
//! with a fake base address; a pointer is a region and an offset, so that
//! an access outside its region is caught. Helpers are modelled for common
//! cases; anything else ends the run without a verdict (`End::Unmodelled`).

use bpfproof_analyzer::object::{MapOrigin, Object, Program};
use bpfproof_analyzer::platform::ProgType;
use std::collections::HashMap;

/// A seeded splitmix64 generator (reproducible inputs).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// What a pointer points to, as the verifier would type it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// `ctx`.
    Ctx,
    /// `fp` of call frame N (0 = main).
    Stack(usize),
    /// `pkt`.
    Packet,
    /// `pkt_meta`.
    PacketMeta,
    /// `pkt_end`.
    PacketEnd,
    /// `map_value` of map N.
    MapValue(u32),
    /// `map_ptr` of map N.
    MapPtr(u32),
}

/// A concrete register value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// Never written (or clobbered by a call).
    Uninit,
    /// A number (NULL pointers are `Scalar(0)`).
    Scalar(u64),
    /// Region `r`, byte offset `off` from its start.
    Ptr { r: usize, off: i64, tag: Tag },
}

/// One memory region.
pub struct Region {
    /// Fake address of byte 0.
    pub base: u64,
    /// Contents.
    pub bytes: Vec<u8>,
    /// Pointers stored as whole 8-byte words, by offset.
    pub ptrs: HashMap<i64, Val>,
}

/// How a run ended.
#[derive(Debug)]
pub enum End {
    /// `exit` from the main function.
    Exit,
    /// Something the interpreter does not model.
    Unmodelled(String),
    /// The step budget ran out.
    Budget,
    /// A concrete fact the verifier had ruled out.
    Escape(String),
}

/// Program types whose ctx this interpreter models.
pub fn modelled_type(t: ProgType) -> bool {
    matches!(
        t,
        ProgType::SocketFilter
            | ProgType::SchedCls
            | ProgType::SchedAct
            | ProgType::CgroupSkb
            | ProgType::Xdp
            | ProgType::Kprobe
            | ProgType::Tracepoint
            | ProgType::RawTracepoint
            | ProgType::PerfEvent
    )
}

/// The machine: registers, regions, call frames.
pub struct Machine<'a> {
    obj: &'a Object,
    prog: &'a Program,
    /// R0-R10.
    pub regs: [Val; 11],
    /// Memory.
    pub regions: Vec<Region>,
    /// Per call frame: return address, saved R6-R9 and R10, and the
    /// caller's `frame_base`.
    frames: Vec<(usize, [Val; 5], usize)>,
    /// The frame where the running global function starts: the verifier
    /// checks global functions on their own, with frame 0 their own.
    pub frame_base: usize,
    /// Map value regions by map and key.
    values: HashMap<(u32, Vec<u8>), usize>,
    rng: Rng,
    packet: Option<usize>,
    ctx_kind: CtxKind,
    /// Instructions executed.
    pub steps: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CtxKind {
    Skb,
    Xdp,
    Raw,
}

const STACK: usize = 512;

fn sx(v: u64, bits: u32) -> u64 {
    (((v << (64 - bits)) as i64) >> (64 - bits)) as u64
}

impl<'a> Machine<'a> {
    /// A machine with a random packet, ctx and map contents.
    pub fn new(obj: &'a Object, prog: &'a Program, t: ProgType, seed: u64) -> Self {
        let mut m = Machine {
            obj,
            prog,
            regs: [Val::Uninit; 11],
            regions: Vec::new(),
            frames: Vec::new(),
            frame_base: 0,
            values: HashMap::new(),
            rng: Rng(seed),
            packet: None,
            ctx_kind: match t {
                ProgType::Xdp => CtxKind::Xdp,
                ProgType::SocketFilter
                | ProgType::SchedCls
                | ProgType::SchedAct
                | ProgType::CgroupSkb => CtxKind::Skb,
                _ => CtxKind::Raw,
            },
            steps: 0,
        };
        let ctx_len = match m.ctx_kind {
            CtxKind::Xdp => 24,
            CtxKind::Skb => 192,
            CtxKind::Raw => 4096,
        };
        let ctx_bytes = m.rng.bytes(ctx_len);
        let ctx = m.region(ctx_bytes);
        if m.ctx_kind != CtxKind::Raw {
            let pkt = m.random_packet();
            // pkt_meta: an empty region just before the packet.
            let meta = m.region(Vec::new());
            let p = m.region(pkt);
            m.regions[meta].base = m.regions[p].base;
            m.packet = Some(p);
        }
        let stack = m.new_stack();
        m.regs[1] = Val::Ptr {
            r: ctx,
            off: 0,
            tag: Tag::Ctx,
        };
        m.regs[10] = Val::Ptr {
            r: stack,
            off: STACK as i64,
            tag: Tag::Stack(0),
        };
        m
    }

    fn region(&mut self, bytes: Vec<u8>) -> usize {
        let base = (self.regions.len() as u64 + 1) << 32;
        self.regions.push(Region {
            base,
            bytes,
            ptrs: HashMap::new(),
        });
        self.regions.len() - 1
    }

    fn new_stack(&mut self) -> usize {
        // Uninitialised stack reads are allowed to privileged programs and
        // give garbage.
        let b = self.rng.bytes(STACK);
        self.region(b)
    }

    /// A random packet: often Ethernet + IPv4/IPv6 + TCP/UDP headers with
    /// random fields, of random length (possibly truncated or empty).
    fn random_packet(&mut self) -> Vec<u8> {
        let len = match self.rng.below(4) {
            0 => self.rng.below(64) as usize,
            1 => self.rng.below(1500) as usize,
            _ => 54 + self.rng.below(200) as usize,
        };
        let mut p = self.rng.bytes(len);
        if self.rng.below(3) != 0 && len >= 14 {
            let v6 = self.rng.below(3) == 0;
            p[12] = if v6 { 0x86 } else { 0x08 };
            p[13] = if v6 { 0xdd } else { 0x00 };
            let proto = [6u8, 17, 1][self.rng.below(3) as usize];
            if !v6 && len >= 34 {
                p[14] = 0x45;
                p[23] = proto;
            } else if v6 && len >= 54 {
                p[14] = 0x60;
                p[20] = proto;
            }
        }
        p
    }

    fn addr(&self, v: Val) -> Result<u64, End> {
        match v {
            Val::Scalar(x) => Ok(x),
            Val::Ptr { r, off, tag } => Ok(match tag {
                Tag::MapPtr(m) => 0xffff_0000_0000_0000 + ((m as u64) << 12),
                _ => self.regions[r].base.wrapping_add(off as u64),
            }),
            Val::Uninit => Err(End::Escape("read of an uninitialised register".into())),
        }
    }

    fn reg(&self, i: u8) -> Result<Val, End> {
        match self.regs.get(i as usize) {
            Some(Val::Uninit) => Err(End::Escape(format!("R{i} read before it was written"))),
            Some(v) => Ok(*v),
            None => Err(End::Escape(format!("bad register {i}"))),
        }
    }

    fn scalar(&self, i: u8) -> Result<u64, End> {
        match self.reg(i)? {
            Val::Scalar(x) => Ok(x),
            v => self.addr(v),
        }
    }

    /// Checks that `[off, off+size)` of the pointer's region may be accessed.
    fn locate(&self, v: Val, disp: i64, size: usize, what: &str) -> Result<(usize, i64), End> {
        match v {
            Val::Ptr { r, off, tag } => {
                if matches!(tag, Tag::MapPtr(_)) && what == "read" {
                    // Privileged programs may read `struct bpf_map` fields
                    // (`check_ptr_to_map_access`); not modelled here.
                    return Err(End::Unmodelled("read of struct bpf_map".into()));
                }
                if matches!(tag, Tag::PacketEnd | Tag::MapPtr(_)) {
                    return Err(End::Escape(format!("{what} through {tag:?}")));
                }
                let o = off + disp;
                let len = self.regions[r].bytes.len() as i64;
                if o < 0 || o + size as i64 > len {
                    return Err(End::Escape(format!(
                        "{what} of {size} bytes at offset {o} of a {len}-byte {tag:?} region"
                    )));
                }
                Ok((r, o))
            }
            Val::Scalar(0) => Err(End::Escape(format!("{what} through a NULL pointer"))),
            Val::Scalar(x) => Err(End::Unmodelled(format!(
                "{what} through scalar {x:#x} (an unmodelled pointer?)"
            ))),
            Val::Uninit => Err(End::Escape(format!(
                "{what} through an uninitialised register"
            ))),
        }
    }

    fn load(&self, v: Val, disp: i64, size: usize) -> Result<Val, End> {
        if let (
            Val::Ptr {
                tag: Tag::Ctx, off, ..
            },
            Some(p),
        ) = (v, self.packet)
        {
            let o = off + disp;
            let field = match (self.ctx_kind, o) {
                (CtxKind::Xdp, 0) | (CtxKind::Skb, 76) => Some((Tag::Packet, 0)),
                (CtxKind::Xdp, 4) | (CtxKind::Skb, 80) => {
                    Some((Tag::PacketEnd, self.regions[p].bytes.len() as i64))
                }
                (CtxKind::Xdp, 8) | (CtxKind::Skb, 140) => Some((Tag::PacketMeta, 0)),
                (CtxKind::Skb, 144..=191) if o % 8 == 0 && size == 8 => {
                    return Err(End::Unmodelled(format!("ctx pointer field at {o}")));
                }
                _ => None,
            };
            if let Some((tag, off)) = field {
                let r = if tag == Tag::PacketMeta { p - 1 } else { p };
                return Ok(Val::Ptr { r, off, tag });
            }
        }
        let (r, o) = self.locate(v, disp, size, "read")?;
        let reg = &self.regions[r];
        if let Some(p) = reg.ptrs.get(&o).filter(|_| size == 8) {
            return Ok(*p);
        }
        let mut x = 0u64;
        for i in (0..size).rev() {
            x = (x << 8) | reg.bytes[o as usize + i] as u64;
        }
        Ok(Val::Scalar(x))
    }

    fn store(&mut self, v: Val, disp: i64, size: usize, val: Val) -> Result<(), End> {
        let (r, o) = self.locate(v, disp, size, "write")?;
        let x = self.addr(val)?;
        let reg = &mut self.regions[r];
        reg.ptrs.retain(|&k, _| k + 8 <= o || k >= o + size as i64);
        if size == 8 && matches!(val, Val::Ptr { .. }) {
            reg.ptrs.insert(o, val);
        }
        for i in 0..size {
            reg.bytes[o as usize + i] = (x >> (8 * i)) as u8;
        }
        Ok(())
    }

    fn read_bytes(&self, v: Val, size: usize, what: &str) -> Result<Vec<u8>, End> {
        if size == 0 {
            return Ok(Vec::new());
        }
        let (r, o) = self.locate(v, 0, size, what)?;
        Ok(self.regions[r].bytes[o as usize..o as usize + size].to_vec())
    }

    fn fill(&mut self, v: Val, size: usize, what: &str) -> Result<(), End> {
        if size == 0 {
            return Ok(());
        }
        let (r, o) = self.locate(v, 0, size, what)?;
        let b = self.rng.bytes(size);
        let reg = &mut self.regions[r];
        reg.ptrs.retain(|&k, _| k + 8 <= o || k >= o + size as i64);
        reg.bytes[o as usize..o as usize + size].copy_from_slice(&b);
        Ok(())
    }

    /// The value region of map `m` under `key` (created on first use).
    fn value_region(&mut self, m: u32, key: Vec<u8>) -> Result<usize, End> {
        if let Some(&r) = self.values.get(&(m, key.clone())) {
            return Ok(r);
        }
        let def = self
            .obj
            .maps
            .get(m as usize)
            .ok_or_else(|| End::Unmodelled(format!("map {m}")))?;
        let bytes = match (&def.origin, &def.initial) {
            (MapOrigin::Data | MapOrigin::Kconfig, Some(init)) => {
                let mut b = init.clone();
                b.resize(def.value_size as usize, 0);
                b
            }
            (MapOrigin::Data | MapOrigin::Kconfig, None) => vec![0; def.value_size as usize],
            _ => self.rng.bytes(def.value_size as usize),
        };
        let r = self.region(bytes);
        self.values.insert((m, key), r);
        Ok(r)
    }

    fn map_of(&self, v: Val) -> Result<u32, End> {
        match v {
            Val::Ptr {
                tag: Tag::MapPtr(m),
                ..
            } => Ok(m),
            _ => Err(End::Escape(format!("map argument is {v:?}"))),
        }
    }

    fn helper(&mut self, id: i32) -> Result<Val, End> {
        let rand = |m: &mut Self| Val::Scalar(m.rng.next());
        let r = match id {
            1 => {
                let m = self.map_of(self.reg(1)?)?;
                let def = &self.obj.maps[m as usize];
                let (ks, mt, max) = (def.key_size as usize, def.map_type, def.max_entries);
                let key = self.read_bytes(self.reg(2)?, ks, "map key read")?;
                let found = match mt {
                    // array, percpu array
                    2 | 6 => {
                        let mut k = [0u8; 4];
                        k.copy_from_slice(&key[..4]);
                        u32::from_le_bytes(k) < max
                    }
                    // hash, percpu hash, LRU hashes, LPM trie
                    1 | 5 | 9 | 10 | 11 => self.rng.below(3) != 0,
                    _ => return Err(End::Unmodelled(format!("lookup in map type {mt}"))),
                };
                if found {
                    let r = self.value_region(m, key)?;
                    Val::Ptr {
                        r,
                        off: 0,
                        tag: Tag::MapValue(m),
                    }
                } else {
                    Val::Scalar(0)
                }
            }
            2 | 3 => {
                let m = self.map_of(self.reg(1)?)?;
                let def = &self.obj.maps[m as usize];
                let (ks, vs) = (def.key_size as usize, def.value_size as usize);
                self.read_bytes(self.reg(2)?, ks, "map key read")?;
                if id == 2 {
                    self.read_bytes(self.reg(3)?, vs, "map value read")?;
                }
                Val::Scalar(0)
            }
            5 | 125 | 14 | 15 => rand(self),
            7 => Val::Scalar(self.rng.next() & 0xffff_ffff),
            8 => Val::Scalar(self.rng.below(64)),
            16 => {
                let n = self.scalar(2)? as usize;
                self.fill(self.reg(1)?, n, "get_current_comm write")?;
                Val::Scalar(0)
            }
            4 | 112 | 113 => {
                let n = self.scalar(2)? as u32 as usize;
                self.fill(self.reg(1)?, n, "probe_read write")?;
                Val::Scalar(0)
            }
            45 | 114 | 115 => {
                let n = self.scalar(2)? as u32 as usize;
                self.fill(self.reg(1)?, n, "probe_read_str write")?;
                Val::Scalar(if n == 0 {
                    0
                } else {
                    1 + self.rng.below(n as u64)
                })
            }
            6 => {
                let n = self.scalar(2)? as usize;
                self.read_bytes(self.reg(1)?, n, "trace_printk format read")?;
                Val::Scalar(0)
            }
            25 => {
                let n = self.scalar(5)? as usize;
                self.read_bytes(self.reg(4)?, n, "perf_event_output read")?;
                Val::Scalar(0)
            }
            130 => {
                let n = self.scalar(3)? as usize;
                self.read_bytes(self.reg(2)?, n, "ringbuf_output read")?;
                Val::Scalar(0)
            }
            _ => return Err(End::Unmodelled(format!("helper {id}"))),
        };
        Ok(r)
    }

    /// Runs to the end, calling `check(machine, insn, frame depth)` (the
    /// depth counted from `frame_base`) before
    /// every instruction; the checker returns an escape to stop the run.
    pub fn run(
        &mut self,
        budget: u64,
        mut check: impl FnMut(&Self, usize, usize) -> Result<(), String>,
    ) -> End {
        match self.run_inner(budget, &mut check) {
            Ok(e) | Err(e) => e,
        }
    }

    fn run_inner(
        &mut self,
        budget: u64,
        check: &mut impl FnMut(&Self, usize, usize) -> Result<(), String>,
    ) -> Result<End, End> {
        let insns = &self.prog.insns;
        let mut pc = 0usize;
        loop {
            if self.steps >= budget {
                return Ok(End::Budget);
            }
            self.steps += 1;
            let Some(&i) = insns.get(pc) else {
                return Err(End::Escape(format!("fell off the program at {pc}")));
            };
            check(self, pc, self.frames.len() + 1 - self.frame_base).map_err(End::Escape)?;
            let class = i.code & 7;
            let (dst, src) = (i.dst, i.src);
            let mut next = pc + 1;
            match class {
                // ALU, ALU64
                4 | 7 => {
                    let wide = class == 7;
                    let op = i.code & 0xf0;
                    let use_x = i.code & 8 != 0;
                    if op == 0xd0 {
                        let x = self.scalar(dst)?;
                        let bits = i.imm as u32;
                        let swap = wide || use_x;
                        let v = match (bits, swap) {
                            (16, false) => x & 0xffff,
                            (32, false) => x & 0xffff_ffff,
                            (64, false) => x,
                            (16, true) => (x as u16).swap_bytes() as u64,
                            (32, true) => (x as u32).swap_bytes() as u64,
                            (64, true) => x.swap_bytes(),
                            _ => return Err(End::Unmodelled(format!("end {bits}"))),
                        };
                        self.regs[dst as usize] = Val::Scalar(v);
                    } else if op == 0x80 {
                        let x = self.scalar(dst)?;
                        let v = if wide {
                            x.wrapping_neg()
                        } else {
                            (x as u32).wrapping_neg() as u64
                        };
                        self.regs[dst as usize] = Val::Scalar(v);
                    } else {
                        let s = if use_x {
                            self.reg(src)?
                        } else {
                            Val::Scalar(i.imm as i64 as u64)
                        };
                        let d = if op == 0xb0 {
                            Val::Scalar(0)
                        } else {
                            self.reg(dst)?
                        };
                        self.regs[dst as usize] = self.alu(op, i.off, wide, d, s)?;
                    }
                }
                // JMP, JMP32
                5 | 6 => {
                    let op = i.code & 0xf0;
                    match op {
                        0x00 => {
                            let off = if class == 6 {
                                i.imm as i64
                            } else {
                                i.off as i64
                            };
                            next = (pc as i64 + off + 1) as usize;
                        }
                        0x80 => {
                            if src == 1 {
                                let target = (pc as i64 + i.imm as i64 + 1) as usize;
                                let saved = [
                                    self.regs[6],
                                    self.regs[7],
                                    self.regs[8],
                                    self.regs[9],
                                    self.regs[10],
                                ];
                                self.frames.push((pc + 1, saved, self.frame_base));
                                let depth = self.frames.len();
                                if self
                                    .prog
                                    .subprogs
                                    .iter()
                                    .any(|s| s.start == target && s.global && !s.hidden)
                                {
                                    self.frame_base = depth;
                                }
                                let st = self.new_stack();
                                for r in 6..10 {
                                    self.regs[r] = Val::Uninit;
                                }
                                self.regs[10] = Val::Ptr {
                                    r: st,
                                    off: STACK as i64,
                                    tag: Tag::Stack(depth),
                                };
                                next = target;
                            } else if src == 0 {
                                self.regs[0] = self.helper(i.imm)?;
                                for r in 1..6 {
                                    self.regs[r] = Val::Uninit;
                                }
                            } else {
                                return Err(End::Unmodelled("kfunc call".into()));
                            }
                        }
                        0x90 => {
                            let Some((ret, saved, base)) = self.frames.pop() else {
                                self.scalar(0)?;
                                return Ok(End::Exit);
                            };
                            self.regs[6..11].copy_from_slice(&saved);
                            self.frame_base = base;
                            for r in 1..6 {
                                self.regs[r] = Val::Uninit;
                            }
                            next = ret;
                        }
                        0xe0 => {
                            // may_goto: the budget is not exhausted in a
                            // bounded run, so it falls through.
                        }
                        _ => {
                            let a = self.scalar(dst)?;
                            let b = if i.code & 8 != 0 {
                                self.scalar(src)?
                            } else {
                                i.imm as i64 as u64
                            };
                            let (a, b) = if class == 6 {
                                (sx(a & 0xffff_ffff, 32), sx(b & 0xffff_ffff, 32))
                            } else {
                                (a, b)
                            };
                            let (ua, ub) = if class == 6 {
                                (a & 0xffff_ffff, b & 0xffff_ffff)
                            } else {
                                (a, b)
                            };
                            let taken = match op {
                                0x10 => ua == ub,
                                0x20 => ua > ub,
                                0x30 => ua >= ub,
                                0x40 => ua & ub != 0,
                                0x50 => ua != ub,
                                0x60 => (a as i64) > (b as i64),
                                0x70 => (a as i64) >= (b as i64),
                                0xa0 => ua < ub,
                                0xb0 => ua <= ub,
                                0xc0 => (a as i64) < (b as i64),
                                0xd0 => (a as i64) <= (b as i64),
                                _ => return Err(End::Unmodelled(format!("jmp op {op:#x}"))),
                            };
                            if taken {
                                next = (pc as i64 + i.off as i64 + 1) as usize;
                            }
                        }
                    }
                }
                // LD
                0 => {
                    let mode = i.code & 0xe0;
                    if i.code == 0x18 {
                        let hi = insns
                            .get(pc + 1)
                            .ok_or_else(|| End::Escape("truncated ld_imm64".into()))?;
                        let v = match src {
                            0 => {
                                Val::Scalar((i.imm as u32 as u64) | ((hi.imm as u32 as u64) << 32))
                            }
                            1 | 5 if self.prog.map_relocs.contains(&pc) => Val::Ptr {
                                r: usize::MAX,
                                off: 0,
                                tag: Tag::MapPtr(i.imm as u32),
                            },
                            2 | 6 if self.prog.map_relocs.contains(&pc) => {
                                let m = i.imm as u32;
                                let r = self.value_region(m, vec![0; 4])?;
                                Val::Ptr {
                                    r,
                                    off: hi.imm as i64,
                                    tag: Tag::MapValue(m),
                                }
                            }
                            _ => return Err(End::Unmodelled(format!("ld_imm64 src {src}"))),
                        };
                        self.regs[dst as usize] = v;
                        next = pc + 2;
                    } else if mode == 0x20 || mode == 0x40 {
                        let size = [4usize, 2, 1, 8][((i.code >> 3) & 3) as usize];
                        let mut off = i.imm as i64;
                        if mode == 0x40 {
                            off += self.scalar(src)? as u32 as i64;
                        }
                        let Some(p) = self.packet else {
                            return Err(End::Unmodelled("LD_ABS without a packet".into()));
                        };
                        let b = &self.regions[p].bytes;
                        if off < 0 || off as usize + size > b.len() {
                            // The kernel ends the program returning 0.
                            return Ok(End::Exit);
                        }
                        let mut x = 0u64;
                        for k in 0..size {
                            x = (x << 8) | b[off as usize + k] as u64;
                        }
                        self.regs[0] = Val::Scalar(x);
                        for r in 1..6 {
                            self.regs[r] = Val::Uninit;
                        }
                    } else {
                        return Err(End::Unmodelled(format!("ld code {:#x}", i.code)));
                    }
                }
                // LDX
                1 => {
                    let size = [4usize, 2, 1, 8][((i.code >> 3) & 3) as usize];
                    let mode = i.code & 0xe0;
                    let p = self.reg(src)?;
                    let v = self.load(p, i.off as i64, size)?;
                    self.regs[dst as usize] = match (mode, v) {
                        (0x60, v) => v,
                        (0x80, Val::Scalar(x)) => Val::Scalar(sx(x, 8 * size as u32)),
                        _ => return Err(End::Unmodelled(format!("ldx code {:#x}", i.code))),
                    };
                }
                // ST, STX
                2 | 3 => {
                    let size = [4usize, 2, 1, 8][((i.code >> 3) & 3) as usize];
                    let mode = i.code & 0xe0;
                    let p = self.reg(dst)?;
                    match (class, mode) {
                        (2, 0x60) => {
                            self.store(p, i.off as i64, size, Val::Scalar(i.imm as i64 as u64))?
                        }
                        (3, 0x60) => {
                            let v = self.reg(src)?;
                            self.store(p, i.off as i64, size, v)?
                        }
                        (3, 0xc0) => self.atomic(p, i.off as i64, size, src, i.imm)?,
                        _ => return Err(End::Unmodelled(format!("st code {:#x}", i.code))),
                    }
                }
                _ => unreachable!(),
            }
            pc = next;
        }
    }

    fn atomic(&mut self, p: Val, off: i64, size: usize, src: u8, op: i32) -> Result<(), End> {
        let old = match self.load(p, off, size)? {
            Val::Scalar(x) => x,
            v => return Err(End::Unmodelled(format!("atomic on {v:?}"))),
        };
        let s = self.scalar(src)?;
        let mask = if size == 8 { u64::MAX } else { 0xffff_ffff };
        let (new, fetch) = match op {
            0x00 | 0x01 => (old.wrapping_add(s), op & 1 != 0),
            0x40 | 0x41 => (old | s, op & 1 != 0),
            0x50 | 0x51 => (old & s, op & 1 != 0),
            0xa0 | 0xa1 => (old ^ s, op & 1 != 0),
            0xe1 => (s, true),
            0xf1 => {
                let r0 = self.scalar(0)?;
                let new = if r0 & mask == old & mask { s } else { old };
                self.store(p, off, size, Val::Scalar(new & mask))?;
                self.regs[0] = Val::Scalar(old & mask);
                return Ok(());
            }
            _ => return Err(End::Unmodelled(format!("atomic op {op:#x}"))),
        };
        self.store(p, off, size, Val::Scalar(new & mask))?;
        if fetch {
            self.regs[src as usize] = Val::Scalar(old & mask);
        }
        Ok(())
    }

    fn alu(&self, op: u8, off: i16, wide: bool, d: Val, s: Val) -> Result<Val, End> {
        // Pointer arithmetic: ptr +/- scalar, ptr - ptr, moves.
        match (op, d, s) {
            (0xb0, _, Val::Ptr { .. }) if wide && off == 0 => return Ok(s),
            (0x00, Val::Ptr { r, off: o, tag }, Val::Scalar(x))
            | (0x00, Val::Scalar(x), Val::Ptr { r, off: o, tag })
                if wide =>
            {
                return Ok(Val::Ptr {
                    r,
                    off: o.wrapping_add(x as i64),
                    tag,
                });
            }
            (0x10, Val::Ptr { r, off: o, tag }, Val::Scalar(x)) if wide => {
                return Ok(Val::Ptr {
                    r,
                    off: o.wrapping_sub(x as i64),
                    tag,
                });
            }
            (0x10, Val::Ptr { .. }, Val::Ptr { .. }) if wide => {
                return Ok(Val::Scalar(self.addr(d)?.wrapping_sub(self.addr(s)?)));
            }
            (_, Val::Ptr { .. }, _) | (_, _, Val::Ptr { .. }) => {
                return Err(End::Unmodelled(format!("alu op {op:#x} on a pointer")));
            }
            _ => {}
        }
        let (Val::Scalar(a), Val::Scalar(b)) = (d, s) else {
            return Err(End::Escape("alu on an uninitialised register".into()));
        };
        let v = if wide {
            match op {
                0x00 => a.wrapping_add(b),
                0x10 => a.wrapping_sub(b),
                0x20 => a.wrapping_mul(b),
                0x30 if off == 1 => match b as i64 {
                    0 => 0,
                    -1 => (a as i64).wrapping_neg() as u64,
                    y => ((a as i64) / y) as u64,
                },
                0x30 => a.checked_div(b).unwrap_or(0),
                0x90 if off == 1 => match b as i64 {
                    0 => a,
                    -1 => 0,
                    y => ((a as i64) % y) as u64,
                },
                0x90 => {
                    if b == 0 {
                        a
                    } else {
                        a % b
                    }
                }
                0x40 => a | b,
                0x50 => a & b,
                0xa0 => a ^ b,
                0x60 => a << (b & 63),
                0x70 => a >> (b & 63),
                0xc0 => ((a as i64) >> (b & 63)) as u64,
                0xb0 => match off {
                    0 => b,
                    8 | 16 | 32 => sx(b, off as u32),
                    _ => return Err(End::Unmodelled(format!("movsx {off}"))),
                },
                _ => return Err(End::Unmodelled(format!("alu64 op {op:#x}"))),
            }
        } else {
            let (a, b) = (a as u32, b as u32);
            let r: u32 = match op {
                0x00 => a.wrapping_add(b),
                0x10 => a.wrapping_sub(b),
                0x20 => a.wrapping_mul(b),
                0x30 if off == 1 => match b as i32 {
                    0 => 0,
                    -1 => (a as i32).wrapping_neg() as u32,
                    y => ((a as i32) / y) as u32,
                },
                0x30 => a.checked_div(b).unwrap_or(0),
                0x90 if off == 1 => match b as i32 {
                    0 => a,
                    -1 => 0,
                    y => ((a as i32) % y) as u32,
                },
                0x90 => {
                    if b == 0 {
                        a
                    } else {
                        a % b
                    }
                }
                0x40 => a | b,
                0x50 => a & b,
                0xa0 => a ^ b,
                0x60 => a << (b & 31),
                0x70 => a >> (b & 31),
                0xc0 => ((a as i32) >> (b & 31)) as u32,
                0xb0 => match off {
                    0 => b,
                    8 | 16 => sx(b as u64, off as u32) as u32,
                    _ => return Err(End::Unmodelled(format!("movsx32 {off}"))),
                },
                _ => return Err(End::Unmodelled(format!("alu32 op {op:#x}"))),
            };
            r as u64
        };
        Ok(Val::Scalar(v))
    }
}

/// Whether `prog` may be run: a modelled program type.
pub fn runnable(prog: &Program) -> bool {
    prog.prog_type.is_some_and(modelled_type)
}
