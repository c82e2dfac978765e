//! Stack slots as the kernel's `struct bpf_stack_state`: 8 bytes per slot,
//! a type per byte (`STACK_INVALID`, `STACK_SPILL`, `STACK_MISC`,
//! `STACK_ZERO`), and the spilled register. Byte `k` of a slot is
//! `slot_type[k]` with the kernel's indexing: for a byte at frame offset
//! `o` (negative), `slot = -o - 1`, `spi = slot / 8`, index `slot % 8`.

use super::reg::RegState;
use std::ops::{Index, IndexMut};
use std::rc::Rc;

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

/// Number of slots of a frame's stack (`MAX_BPF_STACK / BPF_REG_SIZE`).
pub const STACK_SLOTS: usize = MAX_BPF_STACK as usize / BPF_REG_SIZE;

/// A frame's stack slots, `stack[spi]` covering frame offsets
/// `-8*(spi+1) .. -8*spi`, shared copy-on-write between the states cloned
/// from one another, at two levels: the table of slots, and each slot.
/// A clone (a stored state, a pushed path) shares everything; a write
/// (`IndexMut`, `get_mut`, `iter_mut`) copies the table if it is shared
/// (64 pointers), then the slot written if it is shared. Stored states
/// are most of the analysis's memory, and a stored state's stack is
/// mostly the one of its parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack(Rc<[Rc<StackSlot>; STACK_SLOTS]>);

impl Default for Stack {
    /// Every slot invalid.
    fn default() -> Self {
        let invalid = Rc::new(StackSlot::default());
        Stack(Rc::new(std::array::from_fn(|_| invalid.clone())))
    }
}

impl Stack {
    /// Number of slots.
    pub fn len(&self) -> usize {
        STACK_SLOTS
    }

    /// Never: a frame has all its slots.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Slot `spi`, if in the stack.
    pub fn get(&self, spi: usize) -> Option<&StackSlot> {
        self.0.get(spi).map(|s| &**s)
    }

    /// Slot `spi` for writing, if in the stack (copied first if shared).
    pub fn get_mut(&mut self, spi: usize) -> Option<&mut StackSlot> {
        (spi < STACK_SLOTS).then(|| &mut self[spi])
    }

    /// The slots, from `spi` 0.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &StackSlot> + ExactSizeIterator {
        self.0.iter().map(|s| &**s)
    }

    /// The slots for writing (each copied first if shared).
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut StackSlot> + ExactSizeIterator {
        Rc::make_mut(&mut self.0).iter_mut().map(Rc::make_mut)
    }
}

impl Index<usize> for Stack {
    type Output = StackSlot;
    fn index(&self, spi: usize) -> &StackSlot {
        &self.0[spi]
    }
}

impl IndexMut<usize> for Stack {
    /// Copies the table, then the slot, when another state shares them.
    fn index_mut(&mut self, spi: usize) -> &mut StackSlot {
        Rc::make_mut(&mut Rc::make_mut(&mut self.0)[spi])
    }
}

impl<'a> IntoIterator for &'a Stack {
    type Item = &'a StackSlot;
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, Rc<StackSlot>>, fn(&Rc<StackSlot>) -> &StackSlot>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|s| &**s)
    }
}
