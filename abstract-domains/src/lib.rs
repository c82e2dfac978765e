//! Kernel-exact abstract domains of the BPF verifier: tnum and scalar ranges.
//!
//! [`tnum::Tnum`] mirrors `kernel/bpf/tnum.c`; [`scalar::Scalar`] mirrors the
//! numeric part of `struct bpf_reg_state` with the verifier's bound
//! deduction, ALU transfer functions, branch refinement, state subsumption and
//! log rendering.
//!
//! # Kernel version
//!
//! The bound logic follows the current mainline/bpf-next `kernel/bpf/verifier.c`
//! (a superset of 6.18): three `__reg_deduce_bounds` rounds, sign-boundary
//! crossing deductions for both s64/u64 and s32/u32, `tnum_overlap` in
//! `JEQ`/`JNE` prediction, same-register branch prediction, `BPF_NEG`,
//! `BPF_END` (tnum byte swaps, little-endian host) and constant-divisor
//! `BPF_DIV`/`BPF_MOD` range tracking. Kernel 6.12 instead marks the
//! destination of `BPF_DIV`, `BPF_MOD`, `BPF_NEG` and `BPF_END` unknown.
//!
//! # Deliberate differences
//!
//! * `tnum_mul` is the CGO'22 algorithm (kernel 5.19 .. 6.x);
//!   [`tnum::Tnum::mul_union`] provides the newer union-based variant.
//! * `maybe_fork_scalars` (bpf-next: `AND`/`OR` of a `[-1, 0]` register with a
//!   constant forks the verifier state) is a state-level fork, not a domain
//!   operation; [`scalar::Scalar::alu`] returns the single (sound) joined result.
//! * When branch refinement breaks the register invariants the kernel reports
//!   `REG INVARIANTS VIOLATION`; [`scalar::Scalar::refine`] returns `None`
//!   (the branch is infeasible).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod scalar;
pub mod tnum;

pub use scalar::{AluOp, Branches, Endian, JmpOp, Scalar, range_within, scalar_subsumes};
pub use tnum::Tnum;
