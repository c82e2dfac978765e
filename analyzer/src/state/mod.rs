//! Verifier state: registers ([`reg`]) — stack slots, frames and
//! references come with the engine (`struct bpf_func_state`,
//! `struct bpf_verifier_state`).

pub mod reg;

pub use reg::{BaseType, RegState, TypeFlags};
