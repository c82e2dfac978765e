//! `CheckOptions::collect_states`: the abstract registers of every state
//! checked at each instruction, for the soundness test that runs programs
//! concretely and checks each concrete register against them.
//!
//! Collection explores without pruning (every path is walked on its own, as
//! with an unlimited `BPF_COMPLEXITY_LIMIT`), so that a concrete run follows
//! one explored path and its registers lie in a state collected there;
//! pruning would let a path continue in an older, larger-on-dead-registers
//! state whose imprecise scalars need not contain it. Programs whose
//! unpruned walk is too long end `unsupported` (`MAX_COLLECTED`).

use super::env::{Env, Stop, unsupported};
use crate::state::{MAX_BPF_REG, RegState, VerifierState};

/// Most states collected over one analysis.
pub const MAX_COLLECTED: usize = 200_000;

/// The registers of the innermost frame of one visited state.
#[derive(Clone, Debug)]
pub struct VisitedRegs {
    /// Number of frames (1 = the program's main function).
    pub depth: usize,
    /// R0-R10 of the innermost frame.
    pub regs: [RegState; MAX_BPF_REG],
}

/// Records `st` as visited at `idx` when collecting.
pub(super) fn record(env: &mut Env<'_>, idx: usize, st: &VerifierState) -> Result<(), Stop> {
    let Some(v) = env.visited.as_mut() else {
        return Ok(());
    };
    env.collected += 1;
    if env.collected > MAX_COLLECTED {
        return Err(unsupported(
            idx,
            format!("collect_states: more than {MAX_COLLECTED} states"),
        ));
    }
    if let Some(f) = st.frames.last() {
        v[idx].push(VisitedRegs {
            depth: st.frames.len(),
            regs: f.regs.clone(),
        });
    }
    Ok(())
}
