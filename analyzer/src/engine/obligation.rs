//! Proof obligations: each memory access and each helper memory argument
//! is an [`Obligation`] — the pointer's kind, its fixed and variable offset,
//! the access size and the bound it must stay within — decided by the
//! kernel's interval rule in the `check_*_access` functions of `mem`/`call`.
//! The engine keeps the one that failed, with the branch decisions of the
//! path that reached it ([`Decision`]), for the explanation and the Z3
//! replay.

use crate::state::{BaseType, RegState};
use bpfproof_domains::scalar::Scalar;
use serde::Serialize;
use std::rc::Rc;

/// What the access does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    /// A load (`LDX`).
    Read,
    /// A store (`ST`/`STX`/atomic).
    Write,
    /// Memory a helper or kfunc reads or writes through an argument.
    HelperMem,
}

/// The bound an access must stay within.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Bound {
    /// `[0, range)` past the packet pointer, as proven by comparisons with
    /// `data_end` (`check_packet_access`).
    Packet {
        /// The proven range.
        range: i32,
    },
    /// `[0, size)` of a map value, key, or helper-returned memory
    /// (`check_mem_region_access`).
    Region {
        /// The region size.
        size: u32,
    },
    /// `[-512, 0)` of the frame (`check_stack_access_within_bounds`).
    Stack,
    /// A context field the program type allows (`check_ctx_access`).
    Ctx,
    /// Another kind of pointer.
    Other,
}

/// One memory access to prove safe.
#[derive(Clone, Debug, Serialize)]
pub struct Obligation {
    /// Read, write or helper memory.
    pub kind: ObligationKind,
    /// Instruction.
    pub insn: usize,
    /// The pointer register.
    pub regno: usize,
    /// The pointer's type, as the kernel names it.
    pub base: String,
    /// Fixed offset: the register's `off` plus the instruction's.
    pub fixed_off: i64,
    /// Variable offset of the pointer (bounds and tnum).
    #[serde(serialize_with = "ser_scalar")]
    pub var_off: Scalar,
    /// Bytes accessed.
    pub size: u64,
    /// What the access must stay within.
    pub bound: Bound,
}

fn ser_scalar<S: serde::Serializer>(v: &Scalar, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

impl Obligation {
    /// The obligation of an access of `size` bytes at `insn_off` through
    /// `reg` (register `regno`), with the bound its pointer type implies.
    pub fn new(
        kind: ObligationKind,
        insn: usize,
        regno: usize,
        reg: &RegState,
        insn_off: i64,
        size: u64,
        region_size: Option<u32>,
    ) -> Self {
        let bound = match reg.base {
            BaseType::Packet | BaseType::PacketMeta => Bound::Packet { range: reg.range },
            BaseType::Stack => Bound::Stack,
            BaseType::Ctx => Bound::Ctx,
            BaseType::MapValue | BaseType::MapKey | BaseType::Mem => match region_size {
                Some(size) => Bound::Region { size },
                None => Bound::Other,
            },
            _ => Bound::Other,
        };
        Obligation {
            kind,
            insn,
            regno,
            base: reg.type_str(),
            fixed_off: reg.off as i64 + insn_off,
            var_off: reg.var,
            size,
            bound,
        }
    }
}

/// One conditional jump on the path: the branch taken or not.
#[derive(Debug)]
pub struct Decision {
    /// The jump instruction.
    pub insn: usize,
    /// True when the jump was taken.
    pub taken: bool,
    /// True for a conditional jump; false for another fork of the path
    /// (a callback entered or not, `may_goto`, an iterator's `next`, a
    /// hidden exit of `LD_ABS`): `taken` then means the pushed
    /// continuation was followed.
    pub branch: bool,
    /// The decisions before it.
    pub prev: Option<Rc<Decision>>,
}

impl Drop for Decision {
    /// Drops a long chain iteratively (a recursive drop of a million
    /// decisions would overflow the stack).
    fn drop(&mut self) {
        let mut p = self.prev.take();
        while let Some(rc) = p {
            match Rc::try_unwrap(rc) {
                Ok(mut d) => p = d.prev.take(),
                Err(_) => break,
            }
        }
    }
}

/// A shared list of decisions, newest first.
pub type DecisionList = Option<Rc<Decision>>;

/// Appends a decision.
pub fn push_decision(list: &DecisionList, insn: usize, taken: bool) -> DecisionList {
    Some(Rc::new(Decision {
        insn,
        taken,
        branch: true,
        prev: list.clone(),
    }))
}

/// Appends a fork that is not a conditional jump (see [`Decision::branch`]).
pub fn push_fork(list: &DecisionList, insn: usize, taken: bool) -> DecisionList {
    Some(Rc::new(Decision {
        insn,
        taken,
        branch: false,
        prev: list.clone(),
    }))
}

/// The conditional jumps in program order.
pub fn decisions(list: &DecisionList) -> Vec<(usize, bool)> {
    all_decisions(list)
        .into_iter()
        .filter(|d| d.2)
        .map(|(i, t, _)| (i, t))
        .collect()
}

/// Every decision in program order, forks included: (instruction,
/// taken, is a conditional jump). Enough to replay the path.
pub fn all_decisions(list: &DecisionList) -> Vec<(usize, bool, bool)> {
    let mut out = Vec::new();
    let mut c = list.as_ref();
    while let Some(d) = c {
        out.push((d.insn, d.taken, d.branch));
        c = d.prev.as_ref();
    }
    out.reverse();
    out
}
