//! The kernel-style verifier log (`--log-level 1|2`): every processed
//! instruction in the kernel's syntax with the source line before it and the
//! registers it changed after it (`print_insn_state`), `from X to Y:` with
//! the whole state when a pushed path is resumed (level 2), `N: safe` on
//! pruning, and at level 1 only the path that reached the end (the kernel
//! truncates its log back to the branch point when a path completes).
//!
//! bpfproof has no "scratched" marks: after an instruction it prints the
//! registers and stack slots whose value changed.

use super::env::Env;
use crate::isa::{ObjectNames, print_bpf_insn};
use crate::state::print::{MapInfo, print_insn_state, print_verifier_state};
use crate::state::{FuncState, RegState, StackSlot, VerifierState};

/// `struct bpf_verifier_log`.
#[derive(Default)]
pub struct VLog {
    /// 1 or 2.
    pub level: u8,
    /// The text so far.
    pub buf: String,
    /// The last source line printed (`verbose_linfo`).
    last_line: Option<(String, u32)>,
    /// The instruction line waiting for its state, and where it starts.
    pending: Option<(usize, usize, String, FuncState, usize)>,
}

impl VLog {
    /// An empty log at `level`.
    pub fn new(level: u8) -> Self {
        VLog {
            level,
            ..Default::default()
        }
    }
}

fn maps<'a>(env: &Env<'a>) -> Vec<MapInfo<'a>> {
    env.obj
        .maps
        .iter()
        .map(|m| MapInfo {
            name: &m.name,
            key_size: m.key_size,
            value_size: m.value_size,
        })
        .collect()
}

/// Resuming a pushed path that branched at `from` (`pop_stack`).
pub fn path_start(env: &mut Env<'_>, from: usize, idx: usize, log_pos: usize, st: &VerifierState) {
    let Some(level) = env.log.as_ref().map(|l| l.level) else {
        return;
    };
    let text = if level >= 2 {
        let m = maps(env);
        Some(format!(
            "\nfrom {from} to {idx}:{}\n",
            print_verifier_state(st.cur(), true, &m)
        ))
    } else {
        None
    };
    let log = env.log.as_mut().expect("log");
    if level < 2 {
        log.buf.truncate(log_pos);
    }
    log.last_line = None;
    log.pending = None;
    if let Some(t) = text {
        log.buf.push_str(&t);
    }
}

/// The state a function starts with: `0: R1=ctx() R10=fp0`.
pub fn entry_state(env: &mut Env<'_>, idx: usize, st: &VerifierState) {
    if env.log.is_none() {
        return;
    }
    let m = maps(env);
    let text = format!("{idx}:{}\n", print_verifier_state(st.cur(), false, &m));
    env.log.as_mut().expect("log").buf.push_str(&text);
}

/// The log position to come back to when a path pushed now completes.
pub fn pos(env: &Env<'_>) -> usize {
    env.log.as_ref().map_or(0, |l| l.buf.len())
}

/// Before instruction `idx` runs: its source line and its text.
pub fn before_insn(env: &mut Env<'_>, idx: usize, st: &VerifierState) {
    if env.log.is_none() {
        return;
    }
    let names = ObjectNames {
        obj: env.obj,
        prog: env.prog,
    };
    let text = format!("{idx}: {}", print_bpf_insn(&names, &env.prog.insns, idx));
    let line = env.prog.line_for(idx).map(|l| {
        (
            (l.file.clone(), l.line),
            format!("; {} @ {}:{}\n", l.text.trim(), file_base(&l.file), l.line),
        )
    });
    let log = env.log.as_mut().expect("log");
    if let Some((key, s)) = line
        && log.last_line.as_ref() != Some(&key)
    {
        log.buf.push_str(&s);
        log.last_line = Some(key);
    }
    let start = log.buf.len();
    log.buf.push_str(&text);
    log.buf.push('\n');
    log.pending = Some((idx, start, text, st.cur().clone(), st.frames.len()));
}

fn file_base(f: &str) -> &str {
    f.rsplit('/').next().unwrap_or(f)
}

/// After the instruction: the registers and slots it changed.
pub fn after_insn(env: &mut Env<'_>, st: &VerifierState, dst: Option<usize>) {
    let Some((idx, start, text, before, nframes)) = env.log.as_mut().and_then(|l| l.pending.take())
    else {
        return;
    };
    let cur = st.cur();
    let shown = if st.frames.len() != nframes {
        cur.clone()
    } else {
        let mut f = cur.clone();
        for (i, r) in f.regs.iter_mut().enumerate() {
            if Some(i) != dst && before.regs[i] == *r {
                *r = RegState::not_init();
            }
        }
        for (i, s) in f.stack.iter_mut().enumerate() {
            if before.stack.get(i) == Some(s) {
                *s = StackSlot::default();
            }
        }
        f
    };
    let m = maps(env);
    let state = print_verifier_state(&shown, false, &m);
    if state.is_empty() {
        return;
    }
    let line = print_insn_state(idx, Some(&text), &shown, &m);
    let log = env.log.as_mut().expect("log");
    if log.buf.len() == start + text.len() + 1 {
        log.buf.truncate(start);
        log.buf.push_str(&line);
        log.buf.push('\n');
    }
}

/// A pruned path: `N: safe`.
pub fn safe(env: &mut Env<'_>, idx: usize) {
    if let Some(log) = env.log.as_mut() {
        log.pending = None;
        log.buf.push_str(&format!("{idx}: safe\n"));
    }
}

/// A line of its own (error messages, the summary).
pub fn line(env: &mut Env<'_>, s: &str) {
    if let Some(log) = env.log.as_mut() {
        log.pending = None;
        log.buf.push_str(s);
        log.buf.push('\n');
    }
}
