//! Kernel-exact abstract domains of the BPF verifier: tnum and scalar ranges.
//!
//! [`tnum::Tnum`] mirrors `kernel/bpf/tnum.c`; [`scalar::Scalar`] mirrors the
//! numeric part of `struct bpf_reg_state` with the verifier's bound
//! deduction, ALU transfer functions, branch prediction/refinement, state
//! subsumption and log rendering.
//!
//! # Kernel version
//!
//! By default everything mirrors **Linux 6.12**, as checked line by line
//! against the Debian `linux-source-6.12` 6.12.117 tree (`kernel/bpf/verifier.c`,
//! `kernel/bpf/tnum.c`, `kernel/bpf/log.c`, `include/linux/tnum.h`):
//!
//! * `reg_bounds_sync`: `__update_reg_bounds`, three `__reg_deduce_bounds`
//!   rounds, `__reg_bound_offset`, `__update_reg_bounds`. 6.12.117's
//!   `__reg32_deduce_bounds` and `__reg64_deduce_bounds` both contain the
//!   "signed range crosses the sign boundary" deductions, and
//!   `__reg_deduce_mixed_bounds` also tightens 64-bit bounds from s32 bounds
//!   that form a valid u32 range.
//! * `is_safe_to_compute_dst_reg_range`: only ADD, SUB, AND, XOR, OR, MUL and
//!   constant in-range shifts are tracked. `BPF_DIV`/`BPF_MOD` (also signed,
//!   any divisor) get `__mark_reg_unknown`; `BPF_NEG`/`BPF_END` get
//!   `mark_reg_unknown` from `check_reg_arg(DST_OP)`. In all these cases the
//!   full 64-bit register becomes unknown, also for the 32-bit forms (no zero
//!   extension).
//! * `scalar{,32}_min_max_{add,sub,mul}` are the 6.12 versions: any unsigned
//!   add overflow, or `umin < src.umax` for sub, gives an unbounded range;
//!   mul only tracks non-negative operands with maxima <= `U16_MAX`
//!   (32-bit) / `U32_MAX` (64-bit).
//! * `maybe_fork_scalars` (present in 6.12.117): see [`scalar::Scalar::alu_forked`].
//! * `is_scalar_branch_taken` uses `tnum_overlap` (present in 6.12.117 tnum.c)
//!   for `JEQ`/`JNE`; there is no same-register special case: `if rX op rX`
//!   is predicted by the ordinary rules and refined with both operands
//!   aliasing the same register ([`scalar::Scalar::reg_set_min_max_same_reg`]).
//! * `reg_bounds_sanity_check` after branch refinement: on a violation 6.12
//!   logs "REG INVARIANTS VIOLATION", resets the register's ranges
//!   (`__mark_reg_unbounded`, tnum kept) and keeps exploring the branch; this
//!   is reported in [`scalar::Branches::invariant_violation`] (a program loaded
//!   with `BPF_F_TEST_REG_INVARIANTS` is rejected instead).
//! * `tnum_mul` is the CGO'22 algorithm, as in 6.12 tnum.c.
//! * Log output follows 6.12 log.c: numbers in decimal only within
//!   `[S16_MIN, S16_MAX]` (signed) / `<= U16_MAX` (unsigned), else `%#llx`;
//!   s32 bounds sign-extended only when printed in decimal.
//!
//! Newer (post-6.12) behaviour from the bpf-next snapshot the crate was first
//! written from is kept behind [`scalar::KernelFeatures`] (default
//! [`scalar::KernelFeatures::LINUX_6_12`], all off): DIV/MOD, NEG and END
//! range tracking, wrap-preserving add/sub, overflow-checked mul and the
//! same-register branch shortcut. That snapshot was not verified against any
//! released kernel (in particular not 6.18); enable a flag only after checking
//! the target kernel's source.
//!
//! Parity tests: `tests/parity_reg_bounds.rs` (6.12
//! `prog_tests/reg_bounds.c`, `test_reg_bounds_crafted`, 588 cases) and
//! `tests/parity_log.rs` (6.12 `progs/verifier_bounds.c`, `verifier_movsx.c`,
//! `verifier_ldsx.c`).
//!
//! # Deliberate differences from 6.12
//!
//! * [`scalar::Scalar::alu`] returns the join of both paths where 6.12's
//!   `maybe_fork_scalars` forks the verifier state (a domain operation has
//!   one result); [`scalar::Scalar::alu_forked`] gives the exact pair.
//! * `AluOp::Movsx32` with a 32-bit instruction (rejected by the kernel as
//!   "BPF_MOV uses reserved fields") is treated as a plain 32-bit mov.
//! * Crate-only helpers with no 6.12 counterpart, never used by the 6.12
//!   transfer functions: `Tnum::{union, neg, bswap16/32/64, mul_union}` and
//!   [`scalar::Scalar::join`] (a hull used for reporting).
//! * Register ids, precision marks (`__mark_reg_unknown` sets `precise` when
//!   not `bpf_capable`), linked-register syncing and pointer types are outside
//!   this crate.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod scalar;
pub mod tnum;

pub use scalar::{
    AluOp, Branches, Endian, JmpOp, KernelFeatures, Scalar, range_within, scalar_subsumes,
};
pub use tnum::Tnum;
