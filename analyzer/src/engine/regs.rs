//! `check_reg_arg`: reads of uninitialised registers and writes to R10.

use super::env::{Stop, bail_reject};
use crate::state::{BPF_REG_FP, BaseType, VerifierState};

/// `check_reg_arg(SRC_OP)`: the register must have been written.
pub fn check_reg_read(st: &VerifierState, idx: usize, r: usize) -> Result<(), Stop> {
    if r >= 11 {
        bail_reject!("BPF101", idx, "R{} is invalid", r);
    }
    if st.cur().regs[r].base == BaseType::NotInit {
        bail_reject!("BPF201", idx, "R{} !read_ok", r);
    }
    Ok(())
}

/// `check_reg_arg(DST_OP)`: R10 is read-only.
pub fn check_reg_write(idx: usize, r: usize) -> Result<(), Stop> {
    if r >= 11 {
        bail_reject!("BPF101", idx, "R{} is invalid", r);
    }
    if r == BPF_REG_FP {
        bail_reject!("BPF202", idx, "frame pointer is read only");
    }
    Ok(())
}
