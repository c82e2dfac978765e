//! Disassembly in the syntax of the kernel's `kernel/bpf/disasm.c`
//! (`print_bpf_insn`), as verifier logs and `bpftool prog dump xlated`
//! print it: `(61) r1 = *(u32 *)(r6 +76)`, `(25) if r2 > 0x4 goto pc+3`,
//! `(85) call bpf_map_lookup_elem#1`. Works on raw slots, so it never fails,
//! whatever the bytes are (`BUG_xx` / `unknown` as the kernel prints them).

use super::raw::*;

/// Names that the disassembler cannot know on its own (the kernel's
/// `struct bpf_insn_cbs`). Every method has a neutral default.
pub trait DisasmCtx {
    /// Name of helper `id` (e.g. `bpf_map_lookup_elem`).
    fn helper_name(&self, _id: i32) -> Option<String> {
        None
    }
    /// Name of the kfunc with BTF id `btf_id` in BTF `off`.
    fn kfunc_name(&self, _btf_id: i32, _off: i16) -> Option<String> {
        None
    }
    /// Text of an `ld_imm64` operand (e.g. `map[blocked]`), given
    /// `src_reg`, the instruction index, and the two immediates.
    fn ldimm64(&self, _idx: usize, _pseudo: u8, _imm: i32, _imm_hi: i32) -> Option<String> {
        None
    }
}

/// A context with no names: helpers print as `unknown#N` would in the kernel
/// without callbacks, here as `#N`.
pub struct NoNames;
impl DisasmCtx for NoNames {}

const ALU_STR: [&str; 16] = [
    "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian",
    "BUG", "BUG",
];
const JMP_STR: [&str; 16] = [
    "jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=",
    "may_goto", "BUG",
];

fn ldst(code: u8) -> &'static str {
    match code & 0x18 {
        BPF_W => "u32",
        BPF_H => "u16",
        BPF_B => "u8",
        _ => "u64",
    }
}

fn size_bits(code: u8) -> u32 {
    match code & 0x18 {
        BPF_W => 32,
        BPF_H => 16,
        BPF_B => 8,
        _ => 64,
    }
}

/// `%+d` of C printf.
fn signed(v: i64) -> String {
    if v >= 0 {
        format!("+{v}")
    } else {
        v.to_string()
    }
}

fn atomic_name(op: i32) -> &'static str {
    match op & !BPF_FETCH {
        0x00 => "add",
        0x40 => "or",
        0x50 => "and",
        0xa0 => "xor",
        _ => "BUG",
    }
}

/// Prints `insns[idx]` as the kernel's `print_bpf_insn` does, without the
/// `idx: ` prefix and without a trailing newline.
pub fn print_bpf_insn(ctx: &dyn DisasmCtx, insns: &[RawInsn], idx: usize) -> String {
    let Some(&i) = insns.get(idx) else {
        return String::from("(out of range)");
    };
    let code = i.code;
    let class = i.class();
    let op = (code >> 4) as usize;
    let w = if class == BPF_ALU || class == BPF_JMP32 {
        'w'
    } else {
        'r'
    };
    let head = format!("({code:02x}) ");
    let body = match class {
        BPF_ALU | BPF_ALU64 => {
            let opc = code & 0xf0;
            if opc == BPF_END {
                if class == BPF_ALU64 {
                    format!("r{} = bswap{} r{}", i.dst, i.imm, i.dst)
                } else {
                    let be = if code & BPF_X != 0 { "be" } else { "le" };
                    format!("r{} = {be}{} r{}", i.dst, i.imm, i.dst)
                }
            } else if opc == BPF_NEG {
                format!("{w}{} = -{w}{}", i.dst, i.dst)
            } else if code & BPF_X != 0 {
                if opc == BPF_MOV && class == BPF_ALU64 && i.off == 1 {
                    format!(
                        "r{} = addr_space_cast(r{}, {}, {})",
                        i.dst,
                        i.src,
                        (i.imm as u32) >> 16,
                        (i.imm as u32) & 0xffff
                    )
                } else if opc == BPF_MOV && i.off != 0 {
                    format!("{w}{} = (s{}){w}{}", i.dst, i.off, i.src)
                } else {
                    let s = if i.off == 1 && (opc == BPF_DIV || opc == BPF_MOD) {
                        "s"
                    } else {
                        ""
                    };
                    format!("{w}{} {s}{} {w}{}", i.dst, ALU_STR[op], i.src)
                }
            } else {
                let s = if i.off == 1 && (opc == BPF_DIV || opc == BPF_MOD) {
                    "s"
                } else {
                    ""
                };
                format!("{w}{} {s}{} {}", i.dst, ALU_STR[op], i.imm)
            }
        }
        BPF_STX => {
            let sz = ldst(code);
            match code & 0xe0 {
                BPF_MEM => format!(
                    "*({sz} *)(r{} {}) = r{}",
                    i.dst,
                    signed(i.off as i64),
                    i.src
                ),
                BPF_ATOMIC => {
                    let off = signed(i.off as i64);
                    let bits = if code & 0x18 == BPF_DW { "64" } else { "" };
                    match i.imm {
                        0x00 | 0x40 | 0x50 | 0xa0 => format!(
                            "lock *({sz} *)(r{} {off}) {} r{}",
                            i.dst,
                            ALU_STR[(i.imm >> 4) as usize & 0xf],
                            i.src
                        ),
                        0x01 | 0x41 | 0x51 | 0xa1 => format!(
                            "r{} = atomic{bits}_fetch_{}(({sz} *)(r{} {off}), r{})",
                            i.src,
                            atomic_name(i.imm),
                            i.dst,
                            i.src
                        ),
                        BPF_CMPXCHG => format!(
                            "r0 = atomic{bits}_cmpxchg(({sz} *)(r{} {off}), r0, r{})",
                            i.dst, i.src
                        ),
                        BPF_XCHG => format!(
                            "r{} = atomic{bits}_xchg(({sz} *)(r{} {off}), r{})",
                            i.src, i.dst, i.src
                        ),
                        BPF_LOAD_ACQ => {
                            format!("r{} = load_acquire(({sz} *)(r{} {off}))", i.dst, i.src)
                        }
                        BPF_STORE_REL => {
                            format!("store_release(({sz} *)(r{} {off}), r{})", i.dst, i.src)
                        }
                        _ => format!("BUG_{code:02x}"),
                    }
                }
                _ => format!("BUG_{code:02x}"),
            }
        }
        BPF_ST => {
            if code & 0xe0 == BPF_MEM {
                format!(
                    "*({} *)(r{} {}) = {}",
                    ldst(code),
                    i.dst,
                    signed(i.off as i64),
                    i.imm
                )
            } else if code & 0xe0 == 0xc0 {
                "nospec".to_string()
            } else {
                format!("BUG_st_{code:02x}")
            }
        }
        BPF_LDX => match code & 0xe0 {
            BPF_MEM => format!(
                "r{} = *({} *)(r{} {})",
                i.dst,
                ldst(code),
                i.src,
                signed(i.off as i64)
            ),
            BPF_MEMSX => format!(
                "r{} = *(s{} *)(r{} {})",
                i.dst,
                size_bits(code),
                i.src,
                signed(i.off as i64)
            ),
            _ => format!("BUG_ldx_{code:02x}"),
        },
        BPF_LD => match code & 0xe0 {
            BPF_ABS => format!("r0 = *({} *)skb[{}]", ldst(code), i.imm),
            BPF_IND => format!("r0 = *({} *)skb[r{} + {}]", ldst(code), i.src, i.imm),
            BPF_IMM if code & 0x18 == BPF_DW => {
                let hi = insns.get(idx + 1).map_or(0, |n| n.imm);
                match ctx.ldimm64(idx, i.src, i.imm, hi) {
                    Some(t) => format!("r{} = {t}", i.dst),
                    None => {
                        let v = ((hi as u32 as u64) << 32) | i.imm as u32 as u64;
                        format!("r{} = 0x{v:x}", i.dst)
                    }
                }
            }
            _ => format!("BUG_ld_{code:02x}"),
        },
        _ => {
            // BPF_JMP / BPF_JMP32
            let opc = code & 0xf0;
            if opc == BPF_CALL && class == BPF_JMP {
                match i.src {
                    BPF_PSEUDO_CALL => format!("call pc{}", signed(i.imm as i64)),
                    BPF_PSEUDO_KFUNC_CALL => {
                        let name = ctx
                            .kfunc_name(i.imm, i.off)
                            .unwrap_or_else(|| "kernel-function".to_string());
                        format!("call {name}#{}", i.imm)
                    }
                    _ => {
                        let name = ctx
                            .helper_name(i.imm)
                            .unwrap_or_else(|| "unknown".to_string());
                        format!("call {name}#{}", i.imm)
                    }
                }
            } else if opc == BPF_EXIT && class == BPF_JMP {
                "exit".to_string()
            } else if opc == BPF_JA && class == BPF_JMP {
                format!("goto pc{}", signed(i.off as i64))
            } else if opc == BPF_JA {
                format!("gotol pc{}", signed(i.imm as i64))
            } else if opc == BPF_JCOND && class == BPF_JMP {
                format!("may_goto pc{}", signed(i.off as i64))
            } else if code & BPF_X != 0 {
                format!(
                    "if {w}{} {} {w}{} goto pc{}",
                    i.dst,
                    JMP_STR[op],
                    i.src,
                    signed(i.off as i64)
                )
            } else {
                format!(
                    "if {w}{} {} 0x{:x} goto pc{}",
                    i.dst,
                    JMP_STR[op],
                    i.imm as u32,
                    signed(i.off as i64)
                )
            }
        }
    };
    head + &body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(raw: &[RawInsn]) -> String {
        print_bpf_insn(&NoNames, raw, 0)
    }

    #[test]
    fn golden_kernel_syntax() {
        let r = RawInsn::new;
        let cases: &[(&[RawInsn], &str)] = &[
            (&[r(0x61, 1, 6, 76, 0)], "(61) r1 = *(u32 *)(r6 +76)"),
            (&[r(0x25, 2, 0, 3, 4)], "(25) if r2 > 0x4 goto pc+3"),
            (&[r(0xb7, 0, 0, 0, 0)], "(b7) r0 = 0"),
            (&[r(0xbc, 1, 2, 0, 0)], "(bc) w1 = w2"),
            (&[r(0x07, 1, 0, 0, -8)], "(07) r1 += -8"),
            (&[r(0x7b, 10, 1, -8, 0)], "(7b) *(u64 *)(r10 -8) = r1"),
            (&[r(0x62, 10, 0, -4, 0)], "(62) *(u32 *)(r10 -4) = 0"),
            (&[r(0x95, 0, 0, 0, 0)], "(95) exit"),
            (&[r(0x05, 0, 0, -3, 0)], "(05) goto pc-3"),
            (&[r(0x06, 0, 0, 0, 100000)], "(06) gotol pc+100000"),
            (&[r(0x85, 0, 1, 0, 5)], "(85) call pc+5"),
            (&[r(0x85, 0, 0, 0, 1)], "(85) call unknown#1"),
            (&[r(0xdc, 3, 0, 0, 16)], "(dc) r3 = be16 r3"),
            (&[r(0xd4, 3, 0, 0, 32)], "(d4) r3 = le32 r3"),
            (&[r(0xd7, 3, 0, 0, 64)], "(d7) r3 = bswap64 r3"),
            (&[r(0x87, 3, 0, 0, 0)], "(87) r3 = -r3"),
            (&[r(0x84, 3, 0, 0, 0)], "(84) w3 = -w3"),
            (&[r(0xbf, 1, 2, 8, 0)], "(bf) r1 = (s8)r2"),
            (&[r(0x3f, 1, 2, 1, 0)], "(3f) r1 s/= r2"),
            (&[r(0x97, 1, 0, 1, 3)], "(97) r1 s%= 3"),
            (&[r(0x91, 1, 2, 4, 0)], "(91) r1 = *(s8 *)(r2 +4)"),
            (&[r(0xdb, 1, 2, 0, 0)], "(db) lock *(u64 *)(r1 +0) += r2"),
            (
                &[r(0xc3, 1, 2, 8, 1)],
                "(c3) r2 = atomic_fetch_add((u32 *)(r1 +8), r2)",
            ),
            (
                &[r(0xdb, 1, 2, 0, 0xf1)],
                "(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)",
            ),
            (
                &[r(0xdb, 1, 2, 0, 0xe1)],
                "(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)",
            ),
            (&[r(0x30, 0, 0, 0, 12)], "(30) r0 = *(u8 *)skb[12]"),
            (&[r(0x40, 0, 7, 0, 14)], "(40) r0 = *(u32 *)skb[r7 + 14]"),
            (
                &[r(0x16, 1, 0, 2, -1)],
                "(16) if w1 == 0xffffffff goto pc+2",
            ),
            (&[r(0xad, 1, 2, 2, 0)], "(ad) if r1 < r2 goto pc+2"),
            (&[r(0xe5, 0, 0, 7, 0)], "(e5) may_goto pc+7"),
            (
                &[r(0x18, 1, 0, 0, 1), r(0, 0, 0, 0, 2)],
                "(18) r1 = 0x200000001",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(d(raw), *want);
        }
    }

    #[test]
    fn never_fails_on_garbage() {
        for code in 0..=255u8 {
            let raw = [RawInsn::new(code, 15, 15, -1, -1)];
            let s = d(&raw);
            assert!(s.starts_with(&format!("({code:02x}) ")));
        }
    }
}
