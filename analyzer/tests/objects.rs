//! Loader tests over every committed object: decode/encode round trip,
//! robustness against truncation and bit flips, CO-RE against 6.18.

use bpfproof_analyzer::isa::{Insn, RawInsn, decode, encode};
use bpfproof_analyzer::object::{LoadOptions, load_bytes, load_file};
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        // `bad_input/` holds deliberately invalid objects (BPF9xx fixtures).
        if p.file_name().is_some_and(|n| n == "bad_input") {
            continue;
        }
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "o") {
            out.push(p);
        }
    }
}

/// Every `.o` committed under `corpus/programs/` and `analyzer/tests/data/`.
fn objects() -> Vec<PathBuf> {
    let mut v = Vec::new();
    collect(&repo_root().join("corpus/programs"), &mut v);
    collect(&repo_root().join("analyzer/tests/data"), &mut v);
    v.sort();
    assert!(
        v.len() >= 20,
        "expected the committed corpus objects, found {}",
        v.len()
    );
    v
}

fn round_trip(what: &str, insns: &[RawInsn]) -> usize {
    let mut i = 0;
    let mut n = 0;
    while i < insns.len() {
        match decode(insns, i) {
            Ok(d) => {
                let enc = encode(&d);
                assert_eq!(enc[..], insns[i..i + d.slots()], "{what} insn {i}: {d:?}");
                i += d.slots();
                n += 1;
            }
            Err(e) => panic!("{what} insn {i} ({:?}) does not decode: {e}", insns[i]),
        }
    }
    n
}

#[test]
fn every_instruction_round_trips() {
    let mut total = 0;
    for path in objects() {
        let obj = load_file(&path, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for p in &obj.programs {
            assert!(
                p.load_error.is_none(),
                "{} {}: {:?}",
                path.display(),
                p.name,
                p.load_error
            );
            total += round_trip(&format!("{} {}", path.display(), p.name), &p.insns);
        }
    }
    assert!(total > 1000, "only {total} instructions seen");
}

/// The built corpus (kernel selftests, veristat set), when present: every
/// instruction of every object we can read round-trips too.
#[test]
fn built_corpus_round_trips() {
    let mut v = Vec::new();
    collect(&repo_root().join("corpus/build"), &mut v);
    if v.is_empty() {
        eprintln!("SKIPPED: corpus not built, run `bpfproof corpus build`");
        return;
    }
    let (mut insns, mut failed) = (0, Vec::new());
    for path in &v {
        match load_file(path, &LoadOptions::default()) {
            Ok(obj) => {
                for p in obj.programs.iter().filter(|p| p.load_error.is_none()) {
                    insns += round_trip(&format!("{} {}", path.display(), p.name), &p.insns);
                }
            }
            Err(e) => failed.push(format!("{}: {e}", path.display())),
        }
    }
    eprintln!(
        "built corpus: {} objects, {insns} instructions round-tripped, {} not loadable: {failed:?}",
        v.len(),
        failed.len()
    );
    assert!(failed.len() <= 1, "objects that do not load: {failed:#?}");
}

#[test]
fn programs_are_found_as_libbpf_names_them() {
    let obj = load_file(
        &repo_root().join("corpus/programs/tail_call.bpf.o"),
        &LoadOptions::default(),
    )
    .expect("loads");
    let mut names: Vec<_> = obj.programs.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["xdp_dispatch", "xdp_handle_ipv4", "xdp_handle_ipv6"]
    );
    let prog_array = obj
        .maps
        .iter()
        .find(|m| m.name == "jmp_table")
        .expect("prog array");
    assert_eq!(prog_array.map_type, 3);
    assert_eq!(
        prog_array.init_slots.len(),
        2,
        "{:?}",
        prog_array.init_slots
    );

    let obj = load_file(
        &repo_root().join("corpus/programs/subprogs.bpf.o"),
        &LoadOptions::default(),
    )
    .expect("loads");
    let p = &obj.programs[0];
    assert_eq!(p.name, "tc_subprogs");
    let subs: Vec<_> = p.subprogs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(subs, ["tc_subprogs", "ttl_bucket", "account_bucket"]);
    // Every bpf-to-bpf call now lands on the start of a subprogram.
    for (i, insn) in p.insns.iter().enumerate() {
        if let Ok(Insn::Call(bpfproof_analyzer::isa::CallKind::Local(imm))) = decode(&p.insns, i) {
            let target = (i as i64 + imm as i64 + 1) as usize;
            assert!(
                p.subprogs.iter().any(|s| s.start == target),
                "call at {i} -> {target} ({insn:?})"
            );
        }
    }
    assert!(!p.line_info.is_empty() && !p.func_info.is_empty());
    assert_eq!(p.func_info.len(), 3, "one func_info per function");
}

#[test]
fn legacy_maps_section_is_read() {
    let obj = load_file(
        &repo_root().join("corpus/programs/legacy_maps.bpf.o"),
        &LoadOptions::default(),
    )
    .expect("loads");
    assert_eq!(obj.maps[0].name, "pkt_counter");
    assert_eq!(
        (
            obj.maps[0].key_size,
            obj.maps[0].value_size,
            obj.maps[0].max_entries
        ),
        (4, 8, 1)
    );
    assert_eq!(
        obj.programs[0].prog_type.map(|t| t.name()),
        Some("socket_filter")
    );
}

#[test]
fn core_relocations_give_linux_6_18_offsets() {
    let obj = load_file(
        &repo_root().join("corpus/programs/kprobe_openat.bpf.o"),
        &LoadOptions::default(),
    )
    .expect("loads");
    let p = &obj.programs[0];
    assert!(!p.core_relos.is_empty());
    // Offsets read off the 6.18 BTF with
    // `bpftool btf dump file vmlinux-6.18.btf format raw` (struct task_struct):
    // pid at byte 1264 (0x4f0), tgid at 1268 (0x4f4).
    let find = |field: &str| {
        p.core_relos
            .iter()
            .find(|c| {
                c.kind == "byte_off" && c.spec.contains("task_struct") && c.spec.ends_with(field)
            })
            .map(|c| c.new)
    };
    let all: Vec<_> = p
        .core_relos
        .iter()
        .map(|c| format!("{} {} -> {:?}", c.spec, c.kind, c.new))
        .collect();
    assert!(
        p.core_relos.iter().all(|c| c.new.is_some()),
        "poisoned: {all:#?}"
    );
    let offsets: Vec<i64> = p.core_relos.iter().filter_map(|c| c.new).collect();
    assert!(offsets.contains(&1264), "pid offset missing: {all:#?}");
    assert!(offsets.contains(&1268), "tgid offset missing: {all:#?}");
    let _ = find;
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn truncated_and_corrupted_objects_give_errors_not_panics() {
    let opts = LoadOptions::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut errors = 0usize;
    let mut runs = 0usize;
    for path in objects() {
        let data = std::fs::read(&path).expect("read");
        let name = path.display().to_string();
        // Truncation: every length up to 512, then 64 more spread over the file.
        let mut cuts: Vec<usize> = (0..data.len().min(512)).collect();
        cuts.extend((0..64).map(|_| rng.next() as usize % data.len()));
        for cut in cuts {
            runs += 1;
            if let Err(e) = load_bytes(&name, &data[..cut], &opts) {
                assert!(e.code.starts_with("BPF9"), "{name} cut at {cut}: {e}");
                errors += 1;
            }
        }
        // Random bit flips, 1 to 8 at a time.
        for _ in 0..150 {
            let mut d = data.clone();
            for _ in 0..=(rng.next() % 8) {
                let at = rng.next() as usize % d.len();
                d[at] ^= 1 << (rng.next() % 8);
            }
            runs += 1;
            match load_bytes(&name, &d, &opts) {
                Err(e) => {
                    assert!(e.code.starts_with("BPF9"), "{name}: {e}");
                    errors += 1;
                }
                Ok(obj) => {
                    for p in &obj.programs {
                        // Whatever loads must still disassemble and decode without panicking.
                        for i in 0..p.insns.len() {
                            let _ = decode(&p.insns, i);
                        }
                    }
                }
            }
        }
    }
    assert!(
        errors > runs / 4,
        "{errors} errors in {runs} runs: the corruption is not being noticed"
    );
}

#[test]
fn wrong_inputs_are_named() {
    let opts = LoadOptions::default();
    let e = load_bytes("x", b"hello", &opts).unwrap_err();
    assert_eq!(e.code, "BPF902");
    let mut elf = std::fs::read(repo_root().join("corpus/programs/xdp_fw.bpf.o")).expect("read");
    elf[18] = 62; // e_machine = EM_X86_64
    let e = load_bytes("x", &elf, &opts).unwrap_err();
    assert_eq!(e.code, "BPF903");
    assert!(e.message.contains("not a BPF object"), "{e}");
    let mut be = std::fs::read(repo_root().join("corpus/programs/xdp_fw.bpf.o")).expect("read");
    be[5] = 2;
    assert_eq!(load_bytes("x", &be, &opts).unwrap_err().code, "BPF903");
    let e = load_file(Path::new("/nonexistent/x.o"), &opts).unwrap_err();
    assert_eq!(e.code, "BPF901");
}

#[test]
fn older_loader_objects_are_read() {
    let dir = repo_root().join("analyzer/tests/data/legacy");
    for name in ["iproute2_tc.o", "stripped_tc.o"] {
        let obj = load_file(&dir.join(name), &LoadOptions::default()).expect("loads");
        let progs: Vec<_> = obj
            .programs
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.section.as_str(),
                    p.prog_type.map(|t| t.name()),
                )
            })
            .collect();
        assert_eq!(
            progs,
            [
                ("cls_main", "classifier", Some("sched_cls")),
                ("act_main", "action", Some("sched_act"))
            ],
            "{name}"
        );
        // libbpf 1.5 still knows `classifier` and `action` (deprecated aliases).
        assert!(obj.programs.iter().all(|p| !p.legacy_section));
        let m = &obj.maps[0];
        assert_eq!(
            (
                m.name.as_str(),
                m.map_type,
                m.key_size,
                m.value_size,
                m.max_entries,
                m.pinning
            ),
            ("acc_map", 2, 4, 8, 2, 2)
        );
        // The map reference became a pseudo map ld_imm64 with the map's index.
        assert!(
            obj.programs[0]
                .insns
                .iter()
                .any(|i| i.is_ldimm64() && i.src == 1 && i.imm == 0)
        );
    }
    let obj = load_file(&dir.join("text_only.o"), &LoadOptions::default()).expect("loads");
    assert_eq!(obj.programs.len(), 1);
    assert_eq!(obj.programs[0].name, "filter");
    assert_eq!(
        obj.programs[0].prog_type, None,
        "a .text-only object names no type"
    );
    let opts = LoadOptions {
        prog_type_override: bpfproof_analyzer::platform::ProgType::from_name("socket_filter"),
        ..LoadOptions::default()
    };
    let obj = load_file(&dir.join("text_only.o"), &opts).expect("loads");
    assert_eq!(
        obj.programs[0].prog_type.map(|t| t.name()),
        Some("socket_filter")
    );
}
