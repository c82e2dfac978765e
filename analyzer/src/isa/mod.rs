//! The BPF instruction set as the Linux 6.18 verifier accepts it (RFC 9669
//! plus the kernel's extensions): the raw 8-byte form, a decoded form that
//! round-trips byte-identically, the kernel's opcode and reserved-field
//! checks, and disassembly in the syntax of `kernel/bpf/disasm.c`.

pub mod decode;
pub mod disasm;
pub mod names;
pub mod raw;

pub use decode::{
    AluOp, AtomicOp, CallKind, EndKind, Insn, IsaError, JmpOp, Size, Src, bpf_opcode_in_insntable,
    decode, decode_all, encode,
};
pub use disasm::{DisasmCtx, print_bpf_insn};
pub use names::ObjectNames;
pub use raw::RawInsn;
