//! bpfproof-analyzer: everything about BPF programs — the instruction set,
//! object loading, and (later) CFG, engine, checks and proofs.
#![forbid(unsafe_code)]

pub mod cfg;
pub mod checks;
pub mod diag;
pub mod engine;
pub mod isa;
pub mod object;
pub mod platform;
pub mod proof;
pub mod state;
