//! The loader's error: a stable `BPF9xx` code and a message naming what is
//! wrong. Kept small (two words) and constructed out of line.

use crate::diag::Code;
use std::fmt;

/// Why an object (or one program of it) could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// Stable code from [`crate::diag::codes::CODES`].
    pub code: Code,
    /// What is wrong, in words.
    pub message: String,
}

impl LoadError {
    /// Builds an error.
    #[cold]
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        LoadError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for LoadError {}

/// `return Err(LoadError::new(code, format!(...)))` in one line.
#[macro_export]
macro_rules! bail {
    ($code:expr, $($arg:tt)*) => {
        return Err($crate::object::LoadError::new($code, format!($($arg)*)))
    };
}
