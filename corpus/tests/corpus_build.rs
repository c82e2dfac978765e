//! The built corpus (`bpfproof corpus build`): selftest expectations read
//! from BTF decl tags, cross-checked with the independent reference CSV,
//! and the raw tests. Tests that need `corpus/build/` skip visibly when it
//! is missing.

use bpfproof_analyzer::object::{LoadOptions, load_file};
use bpfproof_corpus::build::raw::{MapInit, RawResult, read_raw_dir};
use bpfproof_corpus::build::{load_raw_test, read_raw_file};
use bpfproof_corpus::expect::{
    BPF_F_ANY_ALIGNMENT, ObjectSpecs, Verdict, load_object_specs, msgs_match,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn built(sub: &str) -> Option<PathBuf> {
    let d = corpus_dir().join("build").join(sub);
    if d.is_dir() {
        Some(d)
    } else {
        println!("SKIPPED: corpus not built, run `bpfproof corpus build`");
        None
    }
}

fn objects(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Minimal RFC 4180 reader (quoted fields with commas, doubled quotes, newlines).
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn reference_csv() -> Option<Vec<BTreeMap<String, String>>> {
    let path = corpus_dir().join("../../shared/reference/kernel-6.18-selftests.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!(
            "SKIPPED: reference CSV ../shared/reference/kernel-6.18-selftests.csv not present"
        );
        return None;
    };
    let rows = read_csv(&text);
    let header = rows.first()?.clone();
    Some(
        rows[1..]
            .iter()
            .map(|r| header.iter().cloned().zip(r.iter().cloned()).collect())
            .collect(),
    )
}

fn all_specs(dir: &Path) -> Vec<ObjectSpecs> {
    objects(dir)
        .iter()
        .filter_map(|p| match load_object_specs(p) {
            Ok(s) => Some(s),
            Err(e) => {
                println!("loader error: {e}");
                None
            }
        })
        .collect()
}

#[test]
fn known_selftest_expectations() {
    let Some(dir) = built("selftests") else {
        return;
    };
    let specs = load_object_specs(&dir.join("verifier_and.bpf.o")).expect("loads");
    let s = specs
        .get("invalid_and_of_negative_number")
        .expect("program exists");
    assert_eq!(s.section, "socket");
    assert_eq!(s.description, "invalid and of negative number");
    let p = s.privileged.as_ref().expect("privileged run");
    assert_eq!(p.result, Verdict::Reject);
    assert_eq!(
        p.msgs,
        vec!["R0 max value is outside of the allowed memory range".to_string()]
    );
    assert_eq!(s.annotated_flags(), BPF_F_ANY_ALIGNMENT);
    // __failure_unpriv with its own __msg_unpriv
    let u = s.unprivileged.as_ref().expect("unprivileged run");
    assert_eq!(u.result, Verdict::Reject);
    assert!(!s.auxiliary);
    assert_eq!(s.effective_log_level(1), 1);

    // A __success program with __retval.
    let s = specs.get("known_subreg_with_unknown_reg").expect("exists");
    let p = s.privileged.as_ref().expect("priv");
    assert_eq!(p.result, Verdict::Accept);
    assert_eq!(p.retval, Some(0));

    // Auxiliary programs: tail-call targets of verifier_map_ptr_mixing.
    let specs = load_object_specs(&dir.join("verifier_map_ptr_mixing.bpf.o")).expect("loads");
    let aux = specs.auxiliary_programs(false);
    assert!(aux.contains(&"dummy_prog_42_socket"), "{aux:?}");
    assert!(
        specs
            .get("dummy_prog_42_socket")
            .is_some_and(|s| !s.is_test())
    );

    // __log_level(2) and __flag(BPF_F_TEST_STATE_FREQ) exist somewhere.
    let all = all_specs(&dir);
    assert!(all.iter().flat_map(|o| o.tests()).any(|s| s.log_level == 2));
    assert!(
        all.iter()
            .flat_map(|o| o.tests())
            .any(|s| s.flags.iter().any(|f| f.name == "BPF_F_TEST_STATE_FREQ"))
    );
    // The message matcher accepts the kernel's wording.
    assert_eq!(
        msgs_match(
            "13: R0 max value is outside of the allowed memory range\n",
            &["R0 max value is outside of the allowed memory range".to_string()]
        ),
        Ok(())
    );
}

#[test]
fn selftests_are_complete_and_agree_with_reference() {
    let Some(dir) = built("selftests") else {
        return;
    };
    let objs = objects(&dir);
    assert_eq!(objs.len(), 95, "95 verifier_*.c objects");
    let specs = all_specs(&dir);
    let tests: usize = specs.iter().map(|o| o.tests().count()).sum();
    println!("selftests: {} objects, {tests} test programs", objs.len());
    assert!(tests >= 1300, "only {tests} selftest programs");
    let Some(csv) = reference_csv() else {
        return;
    };
    let ours: BTreeMap<(String, String), _> = specs
        .iter()
        .flat_map(|o| {
            // The reference was measured on x86-64: `__arch_arm64`-only tests did not run.
            o.tests()
                .filter(|s| s.runs_on_x86_64())
                .map(move |s| ((o.object.clone(), s.program.clone()), s))
        })
        .collect();
    let mut missing = Vec::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for row in &csv {
        let key = (row["object"].clone(), row["function"].clone());
        seen.insert(key.clone());
        let Some(s) = ours.get(&key) else {
            missing.push(format!("{} {}", key.0, key.1));
            continue;
        };
        let exp = s.privileged.as_ref().map_or("none", |e| e.result.as_str());
        if exp != row["expect_priv"] {
            problems.push(format!("{key:?}: expect {exp} vs {}", row["expect_priv"]));
        }
        if s.section != row["section"].trim_start_matches('?') {
            problems.push(format!(
                "{key:?}: section {} vs {}",
                s.section, row["section"]
            ));
        }
        if s.description != row["description"] {
            problems.push(format!(
                "{key:?}: description {:?} vs {:?}",
                s.description, row["description"]
            ));
        }
        let flags: Vec<&str> = s
            .flags
            .iter()
            .filter(|f| !f.clear)
            .map(|f| f.name.as_str())
            .collect();
        if flags.join("|") != row["flags"].replace(',', "|") {
            problems.push(format!("{key:?}: flags {flags:?} vs {:?}", row["flags"]));
        }
        let ll = s.effective_log_level(1) & 3;
        if ll.to_string() != row["log_level"] {
            problems.push(format!("{key:?}: log level {ll} vs {}", row["log_level"]));
        }
        let obj = specs
            .iter()
            .find(|o| o.object == key.0)
            .expect("object present");
        if obj.auxiliary_programs(false).join(",") != row["aux"] {
            problems.push(format!(
                "{key:?}: aux {:?} vs {:?}",
                obj.auxiliary_programs(false),
                row["aux"]
            ));
        }
    }
    let extra: Vec<_> = ours.keys().filter(|k| !seen.contains(*k)).collect();
    println!(
        "reference: {} rows; missing here: {}; not in reference: {}",
        csv.len(),
        missing.len(),
        extra.len()
    );
    for m in &missing {
        println!("  missing: {m}");
    }
    for e in &extra {
        println!("  extra: {} {}", e.0, e.1);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(extra.is_empty(), "{extra:?}");
    // Only verifier_arena_large.bpf.o (arena globals, loader BPF905) may be missing.
    assert!(
        missing
            .iter()
            .all(|m| m.starts_with("verifier_arena_large.bpf.o")),
        "{missing:?}"
    );
}

#[test]
fn scale_objects_built() {
    let Some(dir) = built("scale") else {
        return;
    };
    let objs = objects(&dir);
    let names: Vec<String> = objs
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .collect();
    for want in [
        "bpf_flow.bpf.o",
        "loop1.bpf.o",
        "pyperf600.bpf.o",
        "strobemeta.bpf.o",
        "test_verif_scale1.bpf.o",
        "xdp_synproxy_kern.bpf.o",
        "test_l4lb.bpf.o",
        "profiler1.bpf.o",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not built");
    }
    for p in &objs {
        if let Err(e) = load_file(p, &LoadOptions::default()) {
            println!("loader error: {}: {} {}", p.display(), e.code, e.message);
        }
    }
}

#[test]
fn raw_tests_load() {
    let Some(dir) = built("raw") else {
        return;
    };
    let files = read_raw_dir(&dir).expect("raw files parse");
    let n: usize = files.iter().map(|f| f.tests.len()).sum();
    println!("raw: {} files, {n} tests", files.len());
    assert!(n >= 400, "only {n} raw tests");
    let mut with_maps = 0;
    for f in &files {
        for t in &f.tests {
            let p = load_raw_test(t, f.stem(), None);
            let prog = &p.object.programs[0];
            assert_eq!(prog.insns.len(), t.insns.len(), "{}", p.id);
            assert!(
                prog.prog_type.is_some(),
                "{}: prog type {}",
                p.id,
                t.prog_type
            );
            assert_eq!(p.object.maps.len(), p.raw_maps.len());
            for (i, m) in p.raw_maps.iter().enumerate() {
                for &at in &m.insns {
                    assert_eq!(prog.insns[at].imm, i as i32, "{} fixup {}", p.id, m.fixup);
                }
            }
            with_maps += usize::from(!p.raw_maps.is_empty());
        }
    }
    assert!(with_maps > 50, "{with_maps} raw tests with maps");

    // A known test: "jump test 1" accepts, rejected unprivileged.
    let jump = read_raw_file(&dir.join("jump.json")).expect("jump.json");
    let t = jump
        .tests
        .iter()
        .find(|t| t.descr == "jump test 1")
        .expect("jump test 1");
    assert_eq!(t.result, RawResult::Accept);
    let p = load_raw_test(t, "jump", None);
    let u = p.expect_unpriv.expect("unpriv run");
    assert_eq!(u.result, RawResult::Reject);
    assert_eq!(u.msgs, vec!["R1 pointer comparison".to_string()]);

    // A prog-array fixup makes a prog array with test_verifier's dummies.
    let found = files.iter().flat_map(|f| {
        f.tests
            .iter()
            .filter(|t| !t.fixup_prog1.is_empty())
            .map(move |t| (f, t))
    });
    if let Some((f, t)) = found.into_iter().next() {
        let p = load_raw_test(t, f.stem(), None);
        let m = p
            .raw_maps
            .iter()
            .position(|m| m.fixup == "fixup_prog1")
            .expect("prog1 map");
        assert_eq!(p.object.maps[m].map_type, 3);
        assert_eq!(p.object.maps[m].max_entries, 4);
        assert!(matches!(p.raw_maps[m].init, MapInit::ProgArray(ref v) if v.len() == 3));
    }

    // test_verifier's map BTF is there.
    let blob = bpfproof_corpus::build::raw::maps_btf_blob(&dir.join("../raw_btf.json"))
        .expect("raw_btf.json");
    let btf = bpfproof_analyzer::object::btf::Btf::parse(&blob).expect("valid BTF");
    assert!(btf.types_len() >= 14);
}
