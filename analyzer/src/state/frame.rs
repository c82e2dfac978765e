//! `struct bpf_func_state` (one call frame) and `struct bpf_verifier_state`.

use super::reg::{BaseType, RegState};
use super::stack::{STACK_SLOTS, Stack};

/// Number of registers (R0–R10).
pub const MAX_BPF_REG: usize = 11;
/// The frame pointer.
pub const BPF_REG_FP: usize = 10;

/// One call frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncState {
    /// R0–R10.
    pub regs: [RegState; MAX_BPF_REG],
    /// Stack slots, `stack[spi]` covers frame offsets `-8*(spi+1) .. -8*spi`.
    pub stack: Stack,
    /// Deepest stack byte touched (`allocated_stack`), in bytes.
    pub allocated_stack: i32,
    /// Frame number.
    pub frameno: u8,
    /// The call instruction that created this frame (`callsite`); `None`
    /// for the main program.
    pub callsite: Option<usize>,
    /// First instruction of the function this frame runs.
    pub subprog_start: usize,
    /// The frame runs a callback (`in_callback_fn`): its exit returns to
    /// the calling helper instruction.
    pub in_callback_fn: bool,
    /// Range R0 must be in at the callback's exit (`callback_ret_range`).
    pub callback_ret_range: (i64, i64),
    /// Callback visits pushed from this frame's current call
    /// (`callback_depth`).
    pub callback_depth: u64,
    /// Liveness of R0–R10 (`live`: `REG_LIVE_READ`, `REG_LIVE_WRITTEN`),
    /// kept apart from the register values so that copies of values never
    /// carry it.
    pub live: [u8; MAX_BPF_REG],
    /// Liveness of each stack slot (`stack[spi].spilled_ptr.live`).
    pub stack_live: [u8; STACK_SLOTS],
}

impl FuncState {
    /// `init_func_state`: every register NOT_INIT except R10 = fp.
    pub fn new(frameno: u8) -> Self {
        let mut regs: [RegState; MAX_BPF_REG] = std::array::from_fn(|_| RegState::not_init());
        let mut fp = RegState::pointer(BaseType::Stack);
        fp.frameno = frameno;
        regs[BPF_REG_FP] = fp;
        FuncState {
            regs,
            stack: Stack::default(),
            allocated_stack: 0,
            frameno,
            callsite: None,
            subprog_start: 0,
            in_callback_fn: false,
            callback_ret_range: (0, 0),
            callback_depth: 0,
            live: [0; MAX_BPF_REG],
            stack_live: [0; STACK_SLOTS],
        }
    }
}

/// The whole state of one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierState {
    /// Call frames, innermost last.
    pub frames: Vec<FuncState>,
    /// Acquired references (`struct bpf_reference_state`): id and the
    /// instruction that acquired it.
    pub refs: Vec<(u32, usize)>,
    /// The held `bpf_spin_lock` (`active_lock`): map index and register id.
    pub active_lock: Option<(u32, u32)>,
    /// Nesting of callback visits on this path (`callback_unroll_depth`).
    pub callback_unroll_depth: u32,
    /// `may_goto` iterations taken on this path (`may_goto_depth`).
    pub may_goto_depth: u32,
    /// Depth of the state in the exploration tree (`dfs_depth`).
    pub dfs_depth: u32,
    /// The stored state (index) heading the loop this state is part of
    /// (`loop_entry`).
    pub loop_entry: Option<usize>,
}

impl VerifierState {
    /// A state with one frame and nothing acquired.
    pub fn with_frame(f: FuncState) -> Self {
        VerifierState {
            frames: vec![f],
            refs: Vec::new(),
            active_lock: None,
            callback_unroll_depth: 0,
            may_goto_depth: 0,
            dfs_depth: 0,
            loop_entry: None,
        }
    }
}

impl VerifierState {
    /// The current frame.
    pub fn cur(&self) -> &FuncState {
        self.frames.last().expect("at least one frame")
    }

    /// The current frame, mutably.
    pub fn cur_mut(&mut self) -> &mut FuncState {
        self.frames.last_mut().expect("at least one frame")
    }

    /// Every register of every frame, and every spilled register
    /// (`bpf_for_each_reg_in_vstate`).
    pub fn for_each_reg(&mut self, mut f: impl FnMut(&mut RegState)) {
        for fr in &mut self.frames {
            for r in &mut fr.regs {
                f(r);
            }
            // On a copy of each spilled register, so that a stack shared
            // with other states is copied only when `f` changes one.
            for spi in 0..fr.stack.len() {
                if fr.stack[spi].is_spilled_reg() {
                    let mut r = fr.stack[spi].spilled.clone();
                    f(&mut r);
                    if r != fr.stack[spi].spilled {
                        fr.stack[spi].spilled = r;
                    }
                }
            }
        }
    }
}
