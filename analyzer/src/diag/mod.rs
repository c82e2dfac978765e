//! Diagnostics: the stable code registry. Codes are never reused or
//! renumbered; a retired code stays listed with a note.

pub mod codes;
pub mod help;
pub mod kernel_log;
pub mod pages;

pub use codes::{Code, code_info};
