//! Decoding and encoding of instructions, and the per-class reserved-field
//! checks of `do_check` / `check_alu_op` / `check_cond_jmp_op` /
//! `check_atomic` / `check_ld_abs` in `kernel/bpf/verifier.c`, with the
//! kernel's messages. The opcode table mirrors `bpf_opcode_in_insntable`
//! (`kernel/bpf/core.c`).

use super::raw::*;
use std::fmt;

/// Memory access width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    B,
    H,
    W,
    DW,
}

impl Size {
    /// Width in bytes.
    pub const fn bytes(self) -> u32 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
    /// The `BPF_SIZE` field value.
    pub const fn code(self) -> u8 {
        match self {
            Size::B => BPF_B,
            Size::H => BPF_H,
            Size::W => BPF_W,
            Size::DW => BPF_DW,
        }
    }
    /// Decodes the `BPF_SIZE` field.
    pub const fn from_code(code: u8) -> Size {
        match code & 0x18 {
            BPF_B => Size::B,
            BPF_H => Size::H,
            BPF_W => Size::W,
            _ => Size::DW,
        }
    }
}

/// The second operand of ALU and jump instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Src {
    /// `BPF_X`: a register.
    Reg(u8),
    /// `BPF_K`: the 32-bit immediate (sign-extended for 64-bit ops).
    Imm(i32),
}

/// Binary ALU operations (`BPF_NEG`/`BPF_END` are separate instructions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    /// Unsigned division (`off == 0`).
    Div,
    /// Signed division (`BPF_DIV` with `off == 1`).
    Sdiv,
    Or,
    And,
    Lsh,
    Rsh,
    /// Unsigned modulo (`off == 0`).
    Mod,
    /// Signed modulo (`BPF_MOD` with `off == 1`).
    Smod,
    Xor,
    Mov,
    /// Sign-extending move from the low 8/16/32 bits (`BPF_MOV`, `off` = bits).
    Movsx(u8),
    Arsh,
}

/// Byte-swap flavours of `BPF_END`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndKind {
    /// `BPF_ALU | BPF_END | BPF_TO_LE`.
    ToLe,
    /// `BPF_ALU | BPF_END | BPF_TO_BE`.
    ToBe,
    /// `BPF_ALU64 | BPF_END` (unconditional swap).
    Bswap,
}

/// Conditional jump operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JmpOp {
    Jeq,
    Jgt,
    Jge,
    Jset,
    Jne,
    Jsgt,
    Jsge,
    Jlt,
    Jle,
    Jslt,
    Jsle,
}

/// Atomic read-modify-write (and acquire/release) operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    Add { fetch: bool },
    Or { fetch: bool },
    And { fetch: bool },
    Xor { fetch: bool },
    Xchg,
    Cmpxchg,
    LoadAcquire,
    StoreRelease,
}

/// What a `call` instruction calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// A helper by id (`src_reg == 0`).
    Helper(i32),
    /// A bpf-to-bpf call (`src_reg == BPF_PSEUDO_CALL`), `imm` relative to the next insn.
    Local(i32),
    /// A kfunc (`src_reg == BPF_PSEUDO_KFUNC_CALL`): BTF id and BTF fd index (`off`).
    Kfunc { btf_id: i32, off: i16 },
}

/// A decoded instruction. Every valid encoding maps to exactly one value and
/// back (`encode(decode(x)) == x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Insn {
    /// `dst op= src` on 64 (`is64`) or 32 bits.
    Alu {
        is64: bool,
        op: AluOp,
        dst: u8,
        src: Src,
    },
    /// `dst = -dst`.
    Neg { is64: bool, dst: u8 },
    /// Byte swap of the low `bits` bits.
    End { kind: EndKind, bits: u8, dst: u8 },
    /// `dst = addr_space_cast(src, imm >> 16, imm & 0xffff)` (arena pointers).
    AddrSpaceCast { dst: u8, src: u8, imm: i32 },
    /// Unconditional jump; `long` is the JMP32 `gotol` form with a 32-bit offset.
    Ja { long: bool, off: i32 },
    /// Conditional jump on 64 or 32 (`is32`) bits.
    Jmp {
        is32: bool,
        op: JmpOp,
        dst: u8,
        src: Src,
        off: i16,
    },
    /// `call`.
    Call(CallKind),
    /// `exit`.
    Exit,
    /// `may_goto pc+off` (`BPF_JMP | BPF_JCOND`, `src_reg == BPF_MAY_GOTO`).
    MayGoto { off: i16 },
    /// The 16-byte `ld_imm64`: `pseudo` is the `src_reg` (0 plain, 1 map fd, ...),
    /// `imm` the first slot's imm, `imm_hi` the second slot's imm.
    LdImm64 {
        dst: u8,
        pseudo: u8,
        imm: i32,
        imm_hi: i32,
    },
    /// Legacy `r0 = *(size *)skb[imm]`.
    LdAbs { size: Size, imm: i32 },
    /// Legacy `r0 = *(size *)skb[src + imm]`.
    LdInd { size: Size, src: u8, imm: i32 },
    /// `dst = *(size *)(src + off)`, sign-extending when `sx`.
    Ldx {
        size: Size,
        sx: bool,
        dst: u8,
        src: u8,
        off: i16,
    },
    /// `*(size *)(dst + off) = imm`.
    St {
        size: Size,
        dst: u8,
        off: i16,
        imm: i32,
    },
    /// `*(size *)(dst + off) = src`.
    Stx {
        size: Size,
        dst: u8,
        src: u8,
        off: i16,
    },
    /// Atomic operation on `*(size *)(dst + off)` with `src`.
    Atomic {
        size: Size,
        op: AtomicOp,
        dst: u8,
        src: u8,
        off: i16,
    },
}

impl Insn {
    /// True for the `BPF_JMP` and `BPF_JMP32` classes (jumps, calls, exit).
    pub const fn is_jmp_class(&self) -> bool {
        matches!(
            self,
            Insn::Ja { .. } | Insn::Jmp { .. } | Insn::Call(_) | Insn::Exit | Insn::MayGoto { .. }
        )
    }

    /// Number of 8-byte slots the instruction occupies (2 for `ld_imm64`).
    pub const fn slots(&self) -> usize {
        match self {
            Insn::LdImm64 { .. } => 2,
            _ => 1,
        }
    }
}

/// Why an instruction is not one the kernel accepts, in the kernel's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsaError {
    /// The kernel's message, e.g. `BPF_ALU uses reserved fields`.
    pub message: String,
    /// True when the kernel rejects it before the CFG pass
    /// (`resolve_pseudo_ldimm64`: unknown opcode, bad `ld_imm64`, LDX
    /// reserved fields); otherwise only when the instruction is reached.
    pub early: bool,
}

impl fmt::Display for IsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IsaError {}

#[cold]
fn late(message: impl Into<String>) -> IsaError {
    IsaError {
        message: message.into(),
        early: false,
    }
}

#[cold]
fn early(message: impl Into<String>) -> IsaError {
    IsaError {
        message: message.into(),
        early: true,
    }
}

/// Mirrors `bpf_opcode_in_insntable`: the opcodes the 6.18 kernel knows.
pub fn bpf_opcode_in_insntable(code: u8) -> bool {
    let class = code & 0x07;
    let op = code & 0xf0;
    let src = code & 0x08;
    match class {
        BPF_ALU | BPF_ALU64 => match op {
            BPF_NEG => src == BPF_K,
            BPF_END => class == BPF_ALU || src == BPF_TO_LE,
            0xe0 | 0xf0 => false,
            _ => true,
        },
        BPF_JMP => match op {
            BPF_CALL | BPF_EXIT | BPF_JA | BPF_JCOND => src == BPF_K,
            0xf0 => false,
            _ => true,
        },
        BPF_JMP32 => match op {
            BPF_JA => src == BPF_K,
            BPF_CALL | BPF_EXIT | BPF_JCOND | 0xf0 => false,
            _ => true,
        },
        BPF_LD => matches!(code, 0x18 | 0x20 | 0x28 | 0x30 | 0x40 | 0x48 | 0x50),
        BPF_LDX => {
            matches!(code & 0xe0, BPF_MEM) || (code & 0xe0 == BPF_MEMSX && code & 0x18 != BPF_DW)
        }
        BPF_ST => code & 0xe0 == BPF_MEM,
        BPF_STX => code & 0xe0 == BPF_MEM || code & 0xe0 == BPF_ATOMIC,
        _ => false,
    }
}

fn alu_op(code: u8, off: i16) -> Option<AluOp> {
    Some(match code & 0xf0 {
        BPF_ADD => AluOp::Add,
        BPF_SUB => AluOp::Sub,
        BPF_MUL => AluOp::Mul,
        BPF_DIV if off == 1 => AluOp::Sdiv,
        BPF_DIV => AluOp::Div,
        BPF_OR => AluOp::Or,
        BPF_AND => AluOp::And,
        BPF_LSH => AluOp::Lsh,
        BPF_RSH => AluOp::Rsh,
        BPF_MOD if off == 1 => AluOp::Smod,
        BPF_MOD => AluOp::Mod,
        BPF_XOR => AluOp::Xor,
        BPF_MOV if off != 0 => AluOp::Movsx(off as u8),
        BPF_MOV => AluOp::Mov,
        BPF_ARSH => AluOp::Arsh,
        _ => return None,
    })
}

fn jmp_op(code: u8) -> Option<JmpOp> {
    Some(match code & 0xf0 {
        BPF_JEQ => JmpOp::Jeq,
        BPF_JGT => JmpOp::Jgt,
        BPF_JGE => JmpOp::Jge,
        BPF_JSET => JmpOp::Jset,
        BPF_JNE => JmpOp::Jne,
        BPF_JSGT => JmpOp::Jsgt,
        BPF_JSGE => JmpOp::Jsge,
        BPF_JLT => JmpOp::Jlt,
        BPF_JLE => JmpOp::Jle,
        BPF_JSLT => JmpOp::Jslt,
        BPF_JSLE => JmpOp::Jsle,
        _ => return None,
    })
}

impl JmpOp {
    /// The `BPF_OP` field value.
    pub const fn code(self) -> u8 {
        match self {
            JmpOp::Jeq => BPF_JEQ,
            JmpOp::Jgt => BPF_JGT,
            JmpOp::Jge => BPF_JGE,
            JmpOp::Jset => BPF_JSET,
            JmpOp::Jne => BPF_JNE,
            JmpOp::Jsgt => BPF_JSGT,
            JmpOp::Jsge => BPF_JSGE,
            JmpOp::Jlt => BPF_JLT,
            JmpOp::Jle => BPF_JLE,
            JmpOp::Jslt => BPF_JSLT,
            JmpOp::Jsle => BPF_JSLE,
        }
    }
}

impl AluOp {
    /// The `BPF_OP` field value and the `off` field that goes with it.
    pub const fn code_off(self) -> (u8, i16) {
        match self {
            AluOp::Add => (BPF_ADD, 0),
            AluOp::Sub => (BPF_SUB, 0),
            AluOp::Mul => (BPF_MUL, 0),
            AluOp::Div => (BPF_DIV, 0),
            AluOp::Sdiv => (BPF_DIV, 1),
            AluOp::Or => (BPF_OR, 0),
            AluOp::And => (BPF_AND, 0),
            AluOp::Lsh => (BPF_LSH, 0),
            AluOp::Rsh => (BPF_RSH, 0),
            AluOp::Mod => (BPF_MOD, 0),
            AluOp::Smod => (BPF_MOD, 1),
            AluOp::Xor => (BPF_XOR, 0),
            AluOp::Mov => (BPF_MOV, 0),
            AluOp::Movsx(bits) => (BPF_MOV, bits as i16),
            AluOp::Arsh => (BPF_ARSH, 0),
        }
    }
}

fn atomic_op(imm: i32) -> Option<AtomicOp> {
    let fetch = imm & BPF_FETCH != 0;
    Some(match imm {
        BPF_XCHG => AtomicOp::Xchg,
        BPF_CMPXCHG => AtomicOp::Cmpxchg,
        BPF_LOAD_ACQ => AtomicOp::LoadAcquire,
        BPF_STORE_REL => AtomicOp::StoreRelease,
        _ => match imm & !BPF_FETCH {
            0x00 => AtomicOp::Add { fetch },
            0x40 => AtomicOp::Or { fetch },
            0x50 => AtomicOp::And { fetch },
            0xa0 => AtomicOp::Xor { fetch },
            _ => return None,
        },
    })
}

impl AtomicOp {
    /// The `imm` encoding of the operation.
    pub const fn imm(self) -> i32 {
        let (base, fetch) = match self {
            AtomicOp::Add { fetch } => (0x00, fetch),
            AtomicOp::Or { fetch } => (0x40, fetch),
            AtomicOp::And { fetch } => (0x50, fetch),
            AtomicOp::Xor { fetch } => (0xa0, fetch),
            AtomicOp::Xchg => return BPF_XCHG,
            AtomicOp::Cmpxchg => return BPF_CMPXCHG,
            AtomicOp::LoadAcquire => return BPF_LOAD_ACQ,
            AtomicOp::StoreRelease => return BPF_STORE_REL,
        };
        if fetch { base | BPF_FETCH } else { base }
    }
}

/// Decodes the instruction at `insns[idx]`, with the kernel's checks of
/// opcode and reserved fields. `ld_imm64` consumes `insns[idx + 1]`.
pub fn decode(insns: &[RawInsn], idx: usize) -> Result<Insn, IsaError> {
    let Some(&i) = insns.get(idx) else {
        return Err(early(format!("insn {idx} out of range")));
    };
    // resolve_pseudo_ldimm64 order: LDX reserved fields, ld_imm64 shape, opcode table.
    if i.class() == BPF_LDX
        && ((i.code & 0xe0 != BPF_MEM && i.code & 0xe0 != BPF_MEMSX) || i.imm != 0)
    {
        return Err(early("BPF_LDX uses reserved fields"));
    }
    if i.is_ldimm64() {
        let next = insns.get(idx + 1);
        let Some(&n) = next else {
            return Err(early("invalid bpf_ld_imm64 insn"));
        };
        if n.code != 0 || n.dst != 0 || n.src != 0 || n.off != 0 {
            return Err(early("invalid bpf_ld_imm64 insn"));
        }
        if i.src > BPF_PSEUDO_MAP_IDX_VALUE {
            return Err(early("unrecognized bpf_ld_imm64 insn"));
        }
        if matches!(
            i.src,
            BPF_PSEUDO_MAP_FD | BPF_PSEUDO_MAP_IDX | BPF_PSEUDO_FUNC
        ) && n.imm != 0
        {
            return Err(early("unrecognized bpf_ld_imm64 insn"));
        }
        // resolve_pseudo_ldimm64 does not look at the first half's offset;
        // check_ld_imm does, when the instruction is reached (the engine).
        return Ok(Insn::LdImm64 {
            dst: i.dst,
            pseudo: i.src,
            imm: i.imm,
            imm_hi: n.imm,
        });
    }
    if !bpf_opcode_in_insntable(i.code) {
        return Err(early(format!("unknown opcode {:02x}", i.code)));
    }
    match i.class() {
        BPF_ALU | BPF_ALU64 => decode_alu(i),
        BPF_JMP | BPF_JMP32 => decode_jmp(i),
        BPF_LD => decode_ld(i),
        BPF_LDX => Ok(Insn::Ldx {
            size: Size::from_code(i.code),
            sx: i.code & 0xe0 == BPF_MEMSX,
            dst: i.dst,
            src: i.src,
            off: i.off,
        }),
        BPF_ST => {
            if i.src != 0 {
                return Err(late("BPF_ST uses reserved fields"));
            }
            Ok(Insn::St {
                size: Size::from_code(i.code),
                dst: i.dst,
                off: i.off,
                imm: i.imm,
            })
        }
        _ => decode_stx(i),
    }
}

fn decode_alu(i: RawInsn) -> Result<Insn, IsaError> {
    let is64 = i.class() == BPF_ALU64;
    let op = i.code & 0xf0;
    let x = i.code & BPF_X != 0;
    match op {
        BPF_NEG => {
            if x || i.src != 0 || i.off != 0 || i.imm != 0 {
                return Err(late("BPF_NEG uses reserved fields"));
            }
            Ok(Insn::Neg { is64, dst: i.dst })
        }
        BPF_END => {
            if i.src != 0 || i.off != 0 || !matches!(i.imm, 16 | 32 | 64) || (is64 && x) {
                return Err(late("BPF_END uses reserved fields"));
            }
            let kind = match (is64, x) {
                (true, _) => EndKind::Bswap,
                (false, false) => EndKind::ToLe,
                (false, true) => EndKind::ToBe,
            };
            Ok(Insn::End {
                kind,
                bits: i.imm as u8,
                dst: i.dst,
            })
        }
        BPF_MOV => {
            if x {
                if is64 && i.off == 1 {
                    if i.imm != 1 && i.imm != 1 << 16 {
                        return Err(late(
                            "addr_space_cast insn can only convert between address space 1 and 0",
                        ));
                    }
                    return Ok(Insn::AddrSpaceCast {
                        dst: i.dst,
                        src: i.src,
                        imm: i.imm,
                    });
                }
                let ok_off = matches!(i.off, 0 | 8 | 16) || (is64 && i.off == 32);
                if !ok_off || i.imm != 0 {
                    return Err(late("BPF_MOV uses reserved fields"));
                }
            } else if i.src != 0 || i.off != 0 {
                return Err(late("BPF_MOV uses reserved fields"));
            }
            let op = alu_op(i.code, i.off).expect("mov");
            let src = if x { Src::Reg(i.src) } else { Src::Imm(i.imm) };
            Ok(Insn::Alu {
                is64,
                op,
                dst: i.dst,
                src,
            })
        }
        _ => {
            let sdiv_ok = i.off == 1 && matches!(op, BPF_DIV | BPF_MOD);
            let bad_off = i.off != 0 && !sdiv_ok;
            let bad = if x {
                i.imm != 0 || bad_off
            } else {
                i.src != 0 || bad_off
            };
            if bad {
                return Err(late("BPF_ALU uses reserved fields"));
            }
            let Some(aop) = alu_op(i.code, i.off) else {
                return Err(late(format!("invalid BPF_ALU opcode {:x}", op)));
            };
            let src = if x { Src::Reg(i.src) } else { Src::Imm(i.imm) };
            Ok(Insn::Alu {
                is64,
                op: aop,
                dst: i.dst,
                src,
            })
        }
    }
}

fn decode_jmp(i: RawInsn) -> Result<Insn, IsaError> {
    let is32 = i.class() == BPF_JMP32;
    let x = i.code & BPF_X != 0;
    match i.code & 0xf0 {
        BPF_CALL => {
            let bad = x
                || (i.src != BPF_PSEUDO_KFUNC_CALL && i.off != 0)
                || !matches!(i.src, 0 | BPF_PSEUDO_CALL | BPF_PSEUDO_KFUNC_CALL)
                || i.dst != 0
                || is32;
            if bad {
                return Err(late("BPF_CALL uses reserved fields"));
            }
            Ok(Insn::Call(match i.src {
                0 => CallKind::Helper(i.imm),
                BPF_PSEUDO_CALL => CallKind::Local(i.imm),
                _ => CallKind::Kfunc {
                    btf_id: i.imm,
                    off: i.off,
                },
            }))
        }
        BPF_JA => {
            if x || i.src != 0 || i.dst != 0 || (!is32 && i.imm != 0) || (is32 && i.off != 0) {
                return Err(late("BPF_JA uses reserved fields"));
            }
            Ok(if is32 {
                Insn::Ja {
                    long: true,
                    off: i.imm,
                }
            } else {
                Insn::Ja {
                    long: false,
                    off: i.off as i32,
                }
            })
        }
        BPF_EXIT => {
            if x || i.imm != 0 || i.src != 0 || i.dst != 0 || is32 {
                return Err(late("BPF_EXIT uses reserved fields"));
            }
            Ok(Insn::Exit)
        }
        BPF_JCOND => {
            if i.src != 0 || i.dst != 0 || i.imm != 0 {
                return Err(late(format!("invalid may_goto imm {}", i.imm)));
            }
            Ok(Insn::MayGoto { off: i.off })
        }
        _ => {
            let bad = if x { i.imm != 0 } else { i.src != 0 };
            if bad {
                return Err(late("BPF_JMP/JMP32 uses reserved fields"));
            }
            let Some(op) = jmp_op(i.code) else {
                return Err(late(format!(
                    "invalid BPF_JMP/JMP32 opcode {:x}",
                    i.code & 0xf0
                )));
            };
            let src = if x { Src::Reg(i.src) } else { Src::Imm(i.imm) };
            Ok(Insn::Jmp {
                is32,
                op,
                dst: i.dst,
                src,
                off: i.off,
            })
        }
    }
}

fn decode_ld(i: RawInsn) -> Result<Insn, IsaError> {
    let mode = i.code & 0xe0;
    let size = Size::from_code(i.code);
    if i.dst != 0 || i.off != 0 || size == Size::DW || (mode == BPF_ABS && i.src != 0) {
        return Err(late("BPF_LD_[ABS|IND] uses reserved fields"));
    }
    Ok(if mode == BPF_ABS {
        Insn::LdAbs { size, imm: i.imm }
    } else {
        Insn::LdInd {
            size,
            src: i.src,
            imm: i.imm,
        }
    })
}

fn decode_stx(i: RawInsn) -> Result<Insn, IsaError> {
    let size = Size::from_code(i.code);
    if i.code & 0xe0 == BPF_ATOMIC {
        let Some(op) = atomic_op(i.imm) else {
            return Err(late(format!(
                "BPF_ATOMIC uses invalid atomic opcode {:02x}",
                i.imm
            )));
        };
        let acq_rel = matches!(op, AtomicOp::LoadAcquire | AtomicOp::StoreRelease);
        if !acq_rel && !matches!(size, Size::W | Size::DW) {
            return Err(late("invalid atomic operand size"));
        }
        return Ok(Insn::Atomic {
            size,
            op,
            dst: i.dst,
            src: i.src,
            off: i.off,
        });
    }
    if i.imm != 0 {
        return Err(late("BPF_STX uses reserved fields"));
    }
    Ok(Insn::Stx {
        size,
        dst: i.dst,
        src: i.src,
        off: i.off,
    })
}

/// Decodes every instruction of a program; the second slot of an
/// `ld_imm64` is `None` (it is not an instruction of its own).
pub fn decode_all(insns: &[RawInsn]) -> Vec<Option<Result<Insn, IsaError>>> {
    let mut out = Vec::with_capacity(insns.len());
    let mut idx = 0;
    while idx < insns.len() {
        let d = decode(insns, idx);
        let two = matches!(d, Ok(Insn::LdImm64 { .. }));
        out.push(Some(d));
        if two {
            out.push(None);
            idx += 2;
        } else {
            idx += 1;
        }
    }
    out
}

/// Encodes a decoded instruction back into its one or two slots.
pub fn encode(insn: &Insn) -> Vec<RawInsn> {
    let one = |code, dst, src, off, imm| vec![RawInsn::new(code, dst, src, off, imm)];
    match *insn {
        Insn::Alu { is64, op, dst, src } => {
            let class = if is64 { BPF_ALU64 } else { BPF_ALU };
            let (code, off) = op.code_off();
            match src {
                Src::Reg(r) => one(class | code | BPF_X, dst, r, off, 0),
                Src::Imm(imm) => one(class | code | BPF_K, dst, 0, off, imm),
            }
        }
        Insn::Neg { is64, dst } => one(
            if is64 { BPF_ALU64 } else { BPF_ALU } | BPF_NEG,
            dst,
            0,
            0,
            0,
        ),
        Insn::End { kind, bits, dst } => {
            let code = match kind {
                EndKind::ToLe => BPF_ALU | BPF_END | BPF_TO_LE,
                EndKind::ToBe => BPF_ALU | BPF_END | BPF_TO_BE,
                EndKind::Bswap => BPF_ALU64 | BPF_END | BPF_TO_LE,
            };
            one(code, dst, 0, 0, bits as i32)
        }
        Insn::AddrSpaceCast { dst, src, imm } => one(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 1, imm),
        Insn::Ja { long: false, off } => one(BPF_JMP | BPF_JA, 0, 0, off as i16, 0),
        Insn::Ja { long: true, off } => one(BPF_JMP32 | BPF_JA, 0, 0, 0, off),
        Insn::Jmp {
            is32,
            op,
            dst,
            src,
            off,
        } => {
            let class = if is32 { BPF_JMP32 } else { BPF_JMP };
            match src {
                Src::Reg(r) => one(class | op.code() | BPF_X, dst, r, off, 0),
                Src::Imm(imm) => one(class | op.code() | BPF_K, dst, 0, off, imm),
            }
        }
        Insn::Call(kind) => match kind {
            CallKind::Helper(imm) => one(BPF_JMP | BPF_CALL, 0, 0, 0, imm),
            CallKind::Local(imm) => one(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, imm),
            CallKind::Kfunc { btf_id, off } => {
                one(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, off, btf_id)
            }
        },
        Insn::Exit => one(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        Insn::MayGoto { off } => one(BPF_JMP | BPF_JCOND, 0, 0, off, 0),
        Insn::LdImm64 {
            dst,
            pseudo,
            imm,
            imm_hi,
        } => vec![
            RawInsn::new(BPF_LD | BPF_IMM | BPF_DW, dst, pseudo, 0, imm),
            RawInsn::new(0, 0, 0, 0, imm_hi),
        ],
        Insn::LdAbs { size, imm } => one(BPF_LD | BPF_ABS | size.code(), 0, 0, 0, imm),
        Insn::LdInd { size, src, imm } => one(BPF_LD | BPF_IND | size.code(), 0, src, 0, imm),
        Insn::Ldx {
            size,
            sx,
            dst,
            src,
            off,
        } => {
            let mode = if sx { BPF_MEMSX } else { BPF_MEM };
            one(BPF_LDX | mode | size.code(), dst, src, off, 0)
        }
        Insn::St {
            size,
            dst,
            off,
            imm,
        } => one(BPF_ST | BPF_MEM | size.code(), dst, 0, off, imm),
        Insn::Stx {
            size,
            dst,
            src,
            off,
        } => one(BPF_STX | BPF_MEM | size.code(), dst, src, off, 0),
        Insn::Atomic {
            size,
            op,
            dst,
            src,
            off,
        } => one(BPF_STX | BPF_ATOMIC | size.code(), dst, src, off, op.imm()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(raw: &[RawInsn]) {
        let d = decode(raw, 0).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
        assert_eq!(encode(&d), raw[..d.slots()].to_vec(), "{d:?}");
    }

    #[test]
    fn every_valid_single_slot_opcode_round_trips() {
        let mut n = 0;
        for code in 0..=255u8 {
            if !bpf_opcode_in_insntable(code) || code == 0x18 {
                continue;
            }
            for (dst, src, off, imm) in [(1, 2, 0, 0), (3, 0, -4, 16), (0, 0, 0, 0), (2, 1, 1, 0)] {
                let raw = [RawInsn::new(code, dst, src, off, imm)];
                if let Ok(d) = decode(&raw, 0) {
                    assert_eq!(encode(&d), raw.to_vec(), "{code:02x} {d:?}");
                    n += 1;
                }
            }
        }
        assert!(n > 200, "only {n} encodings decoded");
    }

    #[test]
    fn ldimm64_and_checks() {
        rt(&[RawInsn::new(0x18, 1, 1, 0, 3), RawInsn::new(0, 0, 0, 0, 0)]);
        rt(&[RawInsn::new(0x18, 1, 2, 0, 3), RawInsn::new(0, 0, 0, 0, 40)]);
        let bad = [RawInsn::new(0x18, 1, 0, 0, 3)];
        assert_eq!(
            decode(&bad, 0).unwrap_err().message,
            "invalid bpf_ld_imm64 insn"
        );
        let bad = [RawInsn::new(0xff, 0, 0, 0, 0)];
        assert_eq!(decode(&bad, 0).unwrap_err().message, "unknown opcode ff");
        let bad = [RawInsn::new(0x07, 1, 2, 0, 1)];
        assert_eq!(
            decode(&bad, 0).unwrap_err().message,
            "BPF_ALU uses reserved fields"
        );
        let bad = [RawInsn::new(0x95, 1, 0, 0, 0)];
        assert_eq!(
            decode(&bad, 0).unwrap_err().message,
            "BPF_EXIT uses reserved fields"
        );
        let bad = [RawInsn::new(0x61, 1, 2, 0, 7)];
        let e = decode(&bad, 0).unwrap_err();
        assert!(e.early);
        assert_eq!(e.message, "BPF_LDX uses reserved fields");
    }

    #[test]
    fn signed_forms() {
        let sdiv = [RawInsn::new(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 1, 0)];
        assert!(matches!(
            decode(&sdiv, 0),
            Ok(Insn::Alu {
                op: AluOp::Sdiv,
                ..
            })
        ));
        rt(&sdiv);
        let movsx = [RawInsn::new(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 32, 0)];
        assert!(matches!(
            decode(&movsx, 0),
            Ok(Insn::Alu {
                op: AluOp::Movsx(32),
                ..
            })
        ));
        let movsx32 = [RawInsn::new(BPF_ALU | BPF_MOV | BPF_X, 1, 2, 32, 0)];
        assert!(decode(&movsx32, 0).is_err());
        let gotol = [RawInsn::new(BPF_JMP32 | BPF_JA, 0, 0, 0, 70000)];
        assert_eq!(
            decode(&gotol, 0),
            Ok(Insn::Ja {
                long: true,
                off: 70000
            })
        );
        let bswap = [RawInsn::new(BPF_ALU64 | BPF_END, 3, 0, 0, 64)];
        assert_eq!(
            decode(&bswap, 0),
            Ok(Insn::End {
                kind: EndKind::Bswap,
                bits: 64,
                dst: 3
            })
        );
        let cmpxchg = [RawInsn::new(0xdb, 1, 2, -8, BPF_CMPXCHG)];
        assert!(matches!(
            decode(&cmpxchg, 0),
            Ok(Insn::Atomic {
                op: AtomicOp::Cmpxchg,
                ..
            })
        ));
        let fetch_add = [RawInsn::new(0xc3, 1, 2, 0, 0x01)];
        assert!(matches!(
            decode(&fetch_add, 0),
            Ok(Insn::Atomic {
                op: AtomicOp::Add { fetch: true },
                ..
            })
        ));
    }
}
