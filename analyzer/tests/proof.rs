//! The proof layer on the project's own programs: `--prove` discharges
//! the packet and ctx obligations of an accepted XDP program, and refutes
//! an obligation that does not hold (so a soundness bug would be seen).

use bpfproof_analyzer::engine::obligation::Bound;
use bpfproof_analyzer::engine::{CheckOptions, Verdict, check_program};
use bpfproof_analyzer::object::{LoadOptions, load_file};
use bpfproof_analyzer::proof::prove_accepted;
use std::path::Path;

fn program(name: &str) -> bpfproof_analyzer::object::Object {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root");
    load_file(
        &root.join("corpus/programs").join(name),
        &LoadOptions::default(),
    )
    .expect("loads")
}

#[test]
fn prove_discharges_and_refutes() {
    let obj = program("xdp_lb.bpf.o");
    let p = &obj.programs[0];
    let opts = CheckOptions {
        collect_proved: true,
        ..CheckOptions::default()
    };
    let mut out = check_program(&obj, p, &opts);
    assert_eq!(out.verdict, Verdict::Accept);
    let packets = out
        .proved
        .iter()
        .filter(|f| {
            matches!(
                f.obligation.as_ref().map(|o| &o.bound),
                Some(Bound::Packet { .. })
            )
        })
        .count();
    assert!(packets > 0, "xdp_lb reads the packet");
    let s = prove_accepted(&obj, p, &out);
    assert!(s.refuted.is_empty(), "{:?}", s.refuted);
    assert_eq!(s.proved, out.proved.len(), "every obligation is discharged");

    // A packet read far larger than any check: Z3 must refute it.
    let f = out
        .proved
        .iter_mut()
        .find(|f| {
            matches!(
                f.obligation.as_ref().map(|o| &o.bound),
                Some(Bound::Packet { .. })
            )
        })
        .expect("a packet obligation");
    f.obligation.as_mut().expect("obligation").size = 4096;
    let s = prove_accepted(&obj, p, &out);
    assert_eq!(s.refuted.len(), 1, "{s:?}");
}

#[test]
fn no_obligations_recorded_unless_asked() {
    let obj = program("xdp_lb.bpf.o");
    let out = check_program(&obj, &obj.programs[0], &CheckOptions::default());
    assert!(out.proved.is_empty());
}
