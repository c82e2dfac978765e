//! bpfproof-corpus: the corpus of real kernel-verifier outcomes — building
//! it, recording the live kernel's verdicts, and scoring bpfproof against them.
#![forbid(unsafe_code)]
