//! Stack slots as the kernel's `struct bpf_stack_state`: 8 bytes per slot,
//! a type per byte (`STACK_INVALID`, `STACK_SPILL`, `STACK_MISC`,
//! `STACK_ZERO`), and the spilled register. Byte `k` of a slot is
//! `slot_type[k]` with the kernel's indexing: for a byte at frame offset
//! `o` (negative), `slot = -o - 1`, `spi = slot / 8`, index `slot % 8`.

use super::reg::RegState;

/// `MAX_BPF_STACK`.
pub const MAX_BPF_STACK: i32 = 512;
/// `BPF_REG_SIZE`.
pub const BPF_REG_SIZE: usize = 8;

/// Type of one stack byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotType {
    /// `STACK_INVALID`: never written.
    Invalid,
    /// `STACK_SPILL`: part of a spilled register.
    Spill,
    /// `STACK_MISC`: some unknown data.
    Misc,
    /// `STACK_ZERO`: known zero.
    Zero,
    /// `STACK_ITER`: part of an open-coded iterator.
    Iter,
    /// `STACK_DYNPTR`: part of a `struct bpf_dynptr` (two whole slots).
    Dynptr,
}

/// One 8-byte stack slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackSlot {
    /// The register spilled into it (meaningful when bytes are `Spill`).
    pub spilled: RegState,
    /// Per-byte types.
    pub slot_type: [SlotType; BPF_REG_SIZE],
}

impl Default for StackSlot {
    fn default() -> Self {
        StackSlot {
            spilled: RegState::not_init(),
            slot_type: [SlotType::Invalid; BPF_REG_SIZE],
        }
    }
}

impl StackSlot {
    /// `is_spilled_reg`: the last byte is `STACK_SPILL`.
    pub fn is_spilled_reg(&self) -> bool {
        self.slot_type[BPF_REG_SIZE - 1] == SlotType::Spill
    }

    /// `is_spilled_scalar_reg`.
    pub fn is_spilled_scalar_reg(&self) -> bool {
        self.is_spilled_reg() && self.spilled.is_scalar()
    }

    /// `mark_stack_slot_misc` on byte `k` (privileged: invalid stays invalid).
    pub fn mark_misc(&mut self, k: usize, allow_ptr_leaks: bool) {
        let t = &mut self.slot_type[k];
        if *t == SlotType::Zero || (allow_ptr_leaks && *t == SlotType::Invalid) {
            return;
        }
        *t = SlotType::Misc;
    }

    /// `scrub_special_slot` for the slot types we model: a spill that is
    /// overwritten loses its register.
    pub fn scrub(&mut self) {
        if self.is_spilled_reg() {
            for t in &mut self.slot_type {
                if *t == SlotType::Spill {
                    *t = SlotType::Misc;
                }
            }
        }
    }
}
