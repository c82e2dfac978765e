//! Checks that mirror individual parts of the kernel verifier.

pub mod ctx;
