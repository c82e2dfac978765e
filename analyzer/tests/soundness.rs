//! Soundness on concrete runs: every accepted program of the corpus is run
//! by a concrete interpreter (`support/interp.rs`) on random inputs, and
//! - no memory access may fall outside its region, no uninitialised
//!   register may be read (for every accepted program);
//! - before every instruction, the concrete registers must lie in one of
//!   the abstract states the engine checked at that instruction (scalars in
//!   their ranges and tnum, pointers of the same kind, region and offset),
//!   for the programs whose unpruned exploration (`collect_states`) fits.
//!
//! Any escape fails the test, naming the program, instruction, register,
//! concrete value and abstract state. The run is bounded: program and input
//! counts and step budgets below, and a wall-clock guard.

#[path = "support/interp.rs"]
mod interp;

use bpfproof_analyzer::engine::collect::VisitedRegs;
use bpfproof_analyzer::engine::{CheckOptions, Verdict, check_program};
use bpfproof_analyzer::object::{LoadOptions, Object, Program, load_file};
use bpfproof_analyzer::state::{BaseType, RegState};
use interp::{End, Machine, Tag, Val};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Random inputs per program.
const INPUTS: u64 = 24;
/// Instructions per concrete run.
const STEP_BUDGET: u64 = 20_000;
/// Programs larger than this are run but not register-checked.
const MAX_COLLECT_INSNS: usize = 4_000;
/// Stop picking new programs after this long (debug machines are slow).
const WALL_BUDGET: Duration = Duration::from_secs(40);

fn objects() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root");
    let mut out = Vec::new();
    for dir in [
        "corpus/programs",
        "corpus/build/scale",
        "corpus/build/selftests",
    ] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            eprintln!("SKIPPED: {dir} is not built");
            continue;
        };
        let mut v: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
            .collect();
        v.sort();
        out.extend(v);
    }
    out
}

/// Does the concrete value fit the abstract register?
fn fits(c: Val, a: &RegState, base_frame: usize) -> bool {
    let modelled = matches!(
        a.base,
        BaseType::Ctx
            | BaseType::Stack
            | BaseType::Packet
            | BaseType::PacketMeta
            | BaseType::PacketEnd
            | BaseType::MapValue
            | BaseType::MapPtr
    );
    match (c, a.base) {
        (_, BaseType::NotInit) | (Val::Uninit, _) => true,
        (Val::Scalar(x), BaseType::Scalar) => a.var.contains(x),
        (Val::Scalar(x), _) => !modelled || (x == 0 && a.may_be_null()),
        // A pointer seen as a scalar (a leak privileged programs may make).
        (Val::Ptr { .. }, BaseType::Scalar) => true,
        // Kinds the interpreter does not model (`mem`, BTF pointers, ...):
        // a global function sees its pointer arguments so.
        (Val::Ptr { .. }, _) if !modelled => true,
        (Val::Ptr { off, tag, .. }, base) => {
            let (kind_ok, rel) = match tag {
                Tag::Ctx => (base == BaseType::Ctx, Some(off)),
                // A caller's stack seen from a global function is typed by
                // the function's BTF arguments, not as a stack pointer.
                Tag::Stack(f) if f < base_frame => (base != BaseType::Stack, None),
                Tag::Stack(f) => (
                    base == BaseType::Stack && a.frameno as usize == f - base_frame,
                    Some(off - 512),
                ),
                Tag::Packet => (base == BaseType::Packet, Some(off)),
                Tag::PacketMeta => (base == BaseType::PacketMeta, Some(off)),
                Tag::PacketEnd => (base == BaseType::PacketEnd, None),
                Tag::MapValue(m) => (base == BaseType::MapValue && a.map == Some(m), Some(off)),
                Tag::MapPtr(m) => (base == BaseType::MapPtr && a.map == Some(m), None),
            };
            kind_ok && rel.is_none_or(|o| a.var.contains((o - a.off as i64) as u64))
        }
    }
}

fn show(v: Val) -> String {
    match v {
        Val::Scalar(x) => format!("{x:#x} ({})", x as i64),
        v => format!("{v:?}"),
    }
}

/// Some visited state at `pc` with the same frame depth holds every register.
fn check_regs(
    m: &Machine<'_>,
    pc: usize,
    depth: usize,
    visited: &[VisitedRegs],
) -> Result<(), String> {
    let same: Vec<&VisitedRegs> = visited.iter().filter(|v| v.depth == depth).collect();
    if same.is_empty() {
        return Err(format!(
            "insn {pc}: reached at call depth {depth}, never explored there"
        ));
    }
    if same
        .iter()
        .any(|v| (0..10).all(|r| fits(m.regs[r], &v.regs[r], m.frame_base)))
    {
        return Ok(());
    }
    // Name the register of the closest state (fewest misfits).
    let best = same
        .iter()
        .min_by_key(|v| {
            (0..10)
                .filter(|&r| !fits(m.regs[r], &v.regs[r], m.frame_base))
                .count()
        })
        .expect("non-empty");
    let r = (0..10)
        .find(|&r| !fits(m.regs[r], &best.regs[r], m.frame_base))
        .expect("misfit");
    Err(format!(
        "insn {pc}: R{r} = {} lies outside every abstract state explored there ({} states); closest: {:?}",
        show(m.regs[r]),
        same.len(),
        best.regs[r]
    ))
}

#[derive(Default)]
struct Tally {
    programs: usize,
    register_checked: usize,
    runs: u64,
    insns: u64,
    insns_reg_checked: u64,
    unmodelled: u64,
    budget: u64,
    escapes: Vec<String>,
    why: std::collections::BTreeMap<String, u64>,
}

fn run_program(obj: &Object, prog: &Program, name: &str, t: &mut Tally) {
    let pt = prog.prog_type.expect("typed");
    let collect = prog.insns.len() <= MAX_COLLECT_INSNS;
    let visited = if collect {
        let out = check_program(
            obj,
            prog,
            &CheckOptions {
                collect_states: true,
                timeout: Some(Duration::from_millis(100)),
                ..Default::default()
            },
        );
        // Unpruned, the walk may end on a limit; a rejection would be a
        // difference between the two walks, which must not happen.
        assert_ne!(
            out.verdict,
            Verdict::Reject,
            "{name}: accepted, but rejected when explored without pruning: {:?}",
            out.finding
        );
        if out.verdict == Verdict::Accept {
            out.visited
        } else {
            None
        }
    } else {
        None
    };
    t.programs += 1;
    if visited.is_some() {
        t.register_checked += 1;
    }
    let seed0 = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    for k in 0..INPUTS {
        let mut m = Machine::new(obj, prog, pt, seed0 ^ k.wrapping_mul(0x9e37_79b9));
        let end = m.run(STEP_BUDGET, |m, pc, depth| match &visited {
            Some(v) => check_regs(m, pc, depth, &v[pc]),
            None => Ok(()),
        });
        t.runs += 1;
        t.insns += m.steps;
        if visited.is_some() {
            t.insns_reg_checked += m.steps;
        }
        match end {
            End::Exit => {}
            End::Budget => t.budget += 1,
            End::Unmodelled(why) => {
                t.unmodelled += 1;
                *t.why
                    .entry(why.split(' ').take(3).collect::<Vec<_>>().join(" "))
                    .or_default() += 1;
            }
            End::Escape(e) => {
                t.escapes.push(format!("{name} (input {k}): {e}"));
                break;
            }
        }
    }
}

#[test]
fn accepted_programs_stay_inside_their_abstract_states() {
    let start = Instant::now();
    let mut t = Tally::default();
    let mut not_reached = 0usize;
    for path in objects() {
        let Ok(obj) = load_file(&path, &LoadOptions::default()) else {
            continue;
        };
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        for prog in &obj.programs {
            if !interp::runnable(prog) {
                continue;
            }
            if start.elapsed() > WALL_BUDGET {
                not_reached += 1;
                continue;
            }
            let out = check_program(&obj, prog, &CheckOptions::default());
            if out.verdict != Verdict::Accept {
                continue;
            }
            run_program(&obj, prog, &format!("{file}:{}", prog.name), &mut t);
        }
    }
    eprintln!(
        "soundness: {} accepted programs run ({} register-checked), {} runs, {} instructions \
         executed ({} register-checked), {} runs ended on unmodelled constructs, {} on the step \
         budget, {} programs not reached in {:?}; {} escapes",
        t.programs,
        t.register_checked,
        t.runs,
        t.insns,
        t.insns_reg_checked,
        t.unmodelled,
        t.budget,
        not_reached,
        WALL_BUDGET,
        t.escapes.len()
    );
    eprintln!("unmodelled: {:?}", t.why);
    assert!(t.programs > 0, "no accepted program was run");
    assert!(
        t.escapes.is_empty(),
        "{} soundness escapes:\n{}",
        t.escapes.len(),
        t.escapes.join("\n")
    );
}

/// One raw instruction: code, dst, src, off, imm.
type Raw = (u8, u8, u8, i16, i32);

/// A program of `insns` in the place of xdp_fw's, for interpreter checks.
fn with_insns(insns: &[Raw]) -> (Object, Program) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root");
    let obj = load_file(
        &root.join("corpus/programs/xdp_fw.bpf.o"),
        &LoadOptions::default(),
    )
    .expect("loads");
    let mut prog = obj.programs[0].clone();
    prog.insns = insns
        .iter()
        .map(
            |&(code, dst, src, off, imm)| bpfproof_analyzer::isa::RawInsn {
                code,
                dst,
                src,
                off,
                imm,
            },
        )
        .collect();
    prog.map_relocs.clear();
    (obj, prog)
}

/// Runs `insns` and returns how it ended and R0.
fn run_insns(insns: &[Raw]) -> (End, Val) {
    let (obj, prog) = with_insns(insns);
    let mut m = Machine::new(&obj, &prog, prog.prog_type.expect("xdp"), 1);
    let end = m.run(1000, |_, _, _| Ok(()));
    (end, m.regs[0])
}

const EXIT: Raw = (0x95, 0, 0, 0, 0);

#[test]
fn the_interpreter_follows_the_kernel_alu_semantics() {
    let cases: &[(&[Raw], u64)] = &[
        // r0 = 7; r1 = 0; r0 /= r1 -> 0
        (
            &[
                (0xb7, 0, 0, 0, 7),
                (0xb7, 1, 0, 0, 0),
                (0x3f, 0, 1, 0, 0),
                EXIT,
            ],
            0,
        ),
        // r0 = 7; r1 = 0; r0 %= r1 -> 7
        (
            &[
                (0xb7, 0, 0, 0, 7),
                (0xb7, 1, 0, 0, 0),
                (0x9f, 0, 1, 0, 0),
                EXIT,
            ],
            7,
        ),
        // r0 = -1; w0 %= w1 (w1 = 0) -> 0xffffffff (truncated to 32 bits)
        (
            &[
                (0xb7, 0, 0, 0, -1),
                (0xb7, 1, 0, 0, 0),
                (0x9c, 0, 1, 0, 0),
                EXIT,
            ],
            0xffff_ffff,
        ),
        // r0 = 1; r0 <<= 65 (masked to 1) -> 2
        (&[(0xb7, 0, 0, 0, 1), (0x67, 0, 0, 0, 65), EXIT], 2),
        // r0 = -8; r0 s/= -1 -> 8
        (&[(0xb7, 0, 0, 0, -8), (0x37, 0, 0, 1, -1), EXIT], 8),
        // r0 = 0x80; r0 = (s8)r0 -> -128
        (
            &[(0xb7, 0, 0, 0, 0x80), (0xbf, 0, 0, 8, 0), EXIT],
            (-128i64) as u64,
        ),
        // w0 = -1 zero-extends
        (&[(0xb4, 0, 0, 0, -1), EXIT], 0xffff_ffff),
        // r0 = 0x1234; r0 = be16 r0 -> 0x3412
        (
            &[(0xb7, 0, 0, 0, 0x1234), (0xdc, 0, 0, 0, 16), EXIT],
            0x3412,
        ),
        // r0 = -1; r0 s>>= 4 -> -1
        (&[(0xb7, 0, 0, 0, -1), (0xc7, 0, 0, 0, 4), EXIT], u64::MAX),
    ];
    for (k, (insns, want)) in cases.iter().enumerate() {
        let (end, r0) = run_insns(insns);
        assert!(matches!(end, End::Exit), "case {k}: {end:?}");
        assert_eq!(r0, Val::Scalar(*want), "case {k}");
    }
}

#[test]
fn the_interpreter_catches_out_of_bounds_and_uninitialised_reads() {
    // r0 = *(u64 *)(r10 + 0): past the top of the stack.
    let (end, _) = run_insns(&[(0x79, 0, 10, 0, 0), EXIT]);
    assert!(
        matches!(&end, End::Escape(e) if e.contains("offset 512")),
        "{end:?}"
    );
    // r0 = r2: never written.
    let (end, _) = run_insns(&[(0xbf, 0, 2, 0, 0), EXIT]);
    assert!(
        matches!(&end, End::Escape(e) if e.contains("R2")),
        "{end:?}"
    );
    // A spilled pointer comes back as a pointer.
    let (end, r0) = run_insns(&[(0x7b, 10, 1, -8, 0), (0x79, 0, 10, -8, 0), EXIT]);
    assert!(matches!(end, End::Exit), "{end:?}");
    assert!(
        matches!(
            r0,
            Val::Ptr {
                tag: Tag::Ctx,
                off: 0,
                ..
            }
        ),
        "{r0:?}"
    );
}

#[test]
fn the_checker_rejects_values_outside_the_abstract_state() {
    let three = RegState::known(3);
    assert!(fits(Val::Scalar(3), &three, 0));
    assert!(!fits(Val::Scalar(5), &three, 0));
    let (obj, prog) = with_insns(&[EXIT]);
    let m = Machine::new(&obj, &prog, prog.prog_type.expect("xdp"), 1);
    // R10 is the frame pointer of frame 0 at offset 0.
    let fp = RegState::pointer(BaseType::Stack);
    assert!(fits(m.regs[10], &fp, 0));
    let mut moved = fp.clone();
    moved.off = -8;
    assert!(!fits(m.regs[10], &moved, 0));
    // A ctx pointer is not a stack pointer.
    assert!(!fits(m.regs[1], &fp, 0));
    assert!(fits(m.regs[1], &RegState::pointer(BaseType::Ctx), 0));
}
