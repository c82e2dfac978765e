//! bpfproof-corpus: the corpus of real kernel-verifier outcomes — building
//! it, recording the live kernel's verdicts, and scoring bpfproof against them.
#![deny(unsafe_code)]

pub mod kernel;
pub mod record;

pub mod build;
pub mod expect;
pub mod score;
