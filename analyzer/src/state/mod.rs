//! Verifier state: registers ([`reg`]), stack slots ([`stack`]), frames and
//! the whole path state ([`frame`]), as `struct bpf_reg_state`,
//! `struct bpf_stack_state`, `struct bpf_func_state` and
//! `struct bpf_verifier_state`, and their verifier-log rendering
//! ([`print`](mod@print), `kernel/bpf/log.c`). References and locks are
//! not modelled yet.

pub mod frame;
pub mod print;
pub mod reg;
pub mod stack;

pub use frame::{BPF_REG_FP, FuncState, MAX_BPF_REG, VerifierState};
pub use reg::BPF_ADD_CONST;
pub use reg::{BaseType, DynptrType, RegState, TypeFlags};
pub use stack::{BPF_REG_SIZE, MAX_BPF_STACK, STACK_SLOTS, SlotType, Stack, StackSlot};
