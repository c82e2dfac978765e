//! The proof layer over the corpora: every program bpfproof rejects gets a
//! code and either a Z3 counterexample, a kernel-imprecision finding, or is
//! not about a memory access; `--prove` refutes no obligation of an
//! accepted program. Prints the split and the median time Z3 adds per
//! rejected program. The selftests part is skipped visibly when the corpus
//! is not built.

use bpfproof_analyzer::engine::{CheckOptions, Verdict, check_program};
use bpfproof_analyzer::object::{LoadOptions, load_file};
use bpfproof_analyzer::proof::{Proof, explain_failure, prove_accepted};
use bpfproof_corpus::score::recording_path;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Default, Debug)]
struct Split {
    rejected: usize,
    not_memory: usize,
    counterexample: usize,
    counterexample_reach: usize,
    imprecision: usize,
    unknown: Vec<String>,
    times_us: Vec<u64>,
    prove_programs: usize,
    proved: usize,
    prove_unknown: usize,
    refuted: Vec<String>,
    no_code: Vec<String>,
    startup_us: u64,
}

impl Split {
    fn median_us(&self) -> u64 {
        let mut t = self.times_us.clone();
        t.sort_unstable();
        t.get(t.len() / 2).copied().unwrap_or(0)
    }

    fn print(&self, name: &str) {
        eprintln!(
            "{name}: {} rejected: {} non-memory, {} counterexample ({} of them reachability of a value-independent rule), {} imprecision, {} unknown; median Z3 time per rejected memory error {} µs",
            self.rejected,
            self.not_memory,
            self.counterexample,
            self.counterexample_reach,
            self.imprecision,
            self.unknown.len(),
            self.median_us()
        );
        eprintln!("  Z3 start-up (once per thread): {} µs", self.startup_us);
        for u in &self.unknown {
            eprintln!("  unknown: {u}");
        }
        eprintln!(
            "{name} --prove: {} accepted programs, {} ctx/packet obligations proved by Z3, {} undecided, {} refuted",
            self.prove_programs,
            self.proved,
            self.prove_unknown,
            self.refuted.len()
        );
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Runs check (with obligations recorded), the proof layer on rejections
/// and `--prove` on accepted programs.
fn run(jobs: Vec<(PathBuf, Vec<(String, u32)>)>) -> Split {
    let chunks: Vec<Split> = std::thread::scope(|s| {
        let n = 2;
        let per = jobs.len().div_ceil(n).max(1);
        let handles: Vec<_> = jobs
            .chunks(per)
            .map(|chunk| {
                s.spawn(move || {
                    // Z3's context starts once per thread (tens of ms): not
                    // part of the time per rejected program.
                    let mut sp = Split {
                        startup_us: bpfproof_analyzer::proof::warm_up(),
                        ..Split::default()
                    };
                    for (path, progs) in chunk {
                        let Ok(obj) = load_file(path, &LoadOptions::default()) else {
                            continue;
                        };
                        let file = path.file_name().unwrap_or_default().to_string_lossy();
                        for p in &obj.programs {
                            let flags = if progs.is_empty() {
                                0
                            } else {
                                match progs.iter().find(|(n, _)| *n == p.name) {
                                    Some(&(_, f)) => f,
                                    None => continue,
                                }
                            };
                            let opts = CheckOptions {
                                prog_flags: flags,
                                collect_proved: true,
                                ..CheckOptions::default()
                            };
                            let out = check_program(&obj, p, &opts);
                            let who = format!("{file} {}", p.name);
                            match out.verdict {
                                Verdict::Reject => {
                                    sp.rejected += 1;
                                    let f = out.finding.as_ref();
                                    if f.is_none_or(|f| f.code.is_empty()) {
                                        sp.no_code.push(who.clone());
                                    }
                                    let r = explain_failure(&obj, p, &out);
                                    if std::env::var_os("BPFPROOF_SHOW_PROOFS").is_some() {
                                        eprintln!(
                                            "{who}: {} => {:?}",
                                            f.map_or("", |f| f.message.as_str()),
                                            r.proof
                                        );
                                    }
                                    match &r.proof {
                                        Proof::NotMemory => sp.not_memory += 1,
                                        Proof::Counterexample(c) => {
                                            sp.counterexample += 1;
                                            if c.reach_only {
                                                sp.counterexample_reach += 1;
                                            }
                                            sp.times_us.push(r.time_us);
                                        }
                                        Proof::Imprecision(_) => {
                                            sp.imprecision += 1;
                                            sp.times_us.push(r.time_us);
                                        }
                                        Proof::Unknown { reason } => {
                                            sp.times_us.push(r.time_us);
                                            sp.unknown.push(format!(
                                                "{who}: {} ({reason})",
                                                f.map_or("", |f| f.message.as_str())
                                            ))
                                        }
                                    }
                                }
                                Verdict::Accept if !out.proved.is_empty() => {
                                    sp.prove_programs += 1;
                                    let s = prove_accepted(&obj, p, &out);
                                    sp.proved += s.proved;
                                    sp.prove_unknown += s.unknown;
                                    sp.refuted
                                        .extend(s.refuted.iter().map(|r| format!("{who}: {r}")));
                                }
                                _ => {}
                            }
                        }
                    }
                    sp
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    let mut all = Split::default();
    for c in chunks {
        all.rejected += c.rejected;
        all.not_memory += c.not_memory;
        all.counterexample += c.counterexample;
        all.counterexample_reach += c.counterexample_reach;
        all.imprecision += c.imprecision;
        all.unknown.extend(c.unknown);
        all.times_us.extend(c.times_us);
        all.prove_programs += c.prove_programs;
        all.proved += c.proved;
        all.prove_unknown += c.prove_unknown;
        all.refuted.extend(c.refuted);
        all.no_code.extend(c.no_code);
        all.startup_us = all.startup_us.max(c.startup_us);
    }
    all
}

fn check_split(name: &str, s: &Split, max_unknown_pct: usize) {
    s.print(name);
    assert!(
        s.no_code.is_empty(),
        "{name}: rejections without a code: {:?}",
        s.no_code
    );
    assert!(
        s.refuted.is_empty(),
        "SOUNDNESS BUG: Z3 refutes obligations bpfproof proved:\n{}",
        s.refuted.join("\n")
    );
    let memory = s.counterexample + s.imprecision + s.unknown.len();
    assert!(
        s.unknown.len() * 100 <= memory * max_unknown_pct,
        "{name}: {} of {memory} memory errors without a counterexample or an imprecision finding",
        s.unknown.len()
    );
    assert_eq!(
        s.not_memory + memory,
        s.rejected,
        "{name}: every rejection is classified"
    );
}

#[test]
fn own_programs_rejections_are_explained() {
    let dir = corpus_dir().join("programs");
    let mut jobs: Vec<(PathBuf, Vec<(String, u32)>)> = std::fs::read_dir(&dir)
        .expect("corpus/programs")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .map(|p| (p, Vec::new()))
        .collect();
    jobs.sort();
    let s = run(jobs);
    check_split("programs", &s, 0);
    assert!(s.rejected >= 5, "the own programs have rejected programs");
    assert!(
        s.counterexample >= 1,
        "the broken packet program gets a counterexample"
    );
}

#[test]
fn own_programs_counterexample_words() {
    // bad_pkt_bounds reads past data_end: the counterexample names the
    // packet length and the bytes read.
    let path = corpus_dir().join("programs/bad_pkt_bounds.bpf.o");
    let obj = load_file(&path, &LoadOptions::default()).expect("object");
    let p = &obj.programs[0];
    let out = check_program(&obj, p, &CheckOptions::default());
    assert_eq!(out.verdict, Verdict::Reject);
    let r = explain_failure(&obj, p, &out);
    let Proof::Counterexample(c) = &r.proof else {
        panic!("expected a counterexample, got {:?}", r.proof);
    };
    assert!(!c.reach_only);
    assert!(c.text.contains("-byte packet"), "{}", c.text);
    assert!(c.text.contains("past data_end"), "{}", c.text);
}

#[test]
fn selftests_rejections_are_explained() {
    let dir = corpus_dir();
    let Some(rec) = recording_path(&dir, "selftests") else {
        eprintln!("SKIPPED: no selftests recording");
        return;
    };
    let objects = dir.join("build").join("selftests");
    if !objects.is_dir() {
        eprintln!("SKIPPED: corpus selftests is not built (run `bpfproof corpus build`)");
        return;
    }
    let recording = bpfproof_corpus::record::read(&rec).expect("recording");
    let mut by_obj: BTreeMap<String, Vec<(String, u32)>> = BTreeMap::new();
    for r in recording.records.iter().filter(|r| !r.unpriv) {
        let flags = r
            .flags
            .split('|')
            .filter_map(|f| bpfproof_corpus::kernel::flag_by_name(f.trim()))
            .fold(0u32, |a, f| a | f);
        by_obj
            .entry(r.object.clone())
            .or_default()
            .push((r.program.clone(), flags));
    }
    let jobs: Vec<(PathBuf, Vec<(String, u32)>)> = by_obj
        .into_iter()
        .map(|(o, p)| (objects.join(o), p))
        .collect();
    let s = run(jobs);
    check_split("selftests", &s, 3);
    assert!(
        s.rejected > 100,
        "the selftests have many rejected programs"
    );
}

#[test]
fn selftests_spill_fill_imprecision_points_at_the_fill() {
    // verifier_spill_fill.c addr_offset_to_skb_data: a 32-bit spill of 20,
    // filled back, bounds `data + 20 <= data_end`; the kernel loses it.
    let path = corpus_dir().join("build/selftests/verifier_spill_fill.bpf.o");
    if !path.is_file() {
        eprintln!("SKIPPED: corpus selftests is not built");
        return;
    }
    let obj = load_file(&path, &LoadOptions::default()).expect("object");
    let p = obj
        .programs
        .iter()
        .find(|p| p.name == "addr_offset_to_skb_data")
        .expect("program");
    let out = check_program(&obj, p, &CheckOptions::default());
    assert_eq!(out.verdict, Verdict::Reject);
    let r = explain_failure(&obj, p, &out);
    let Proof::Imprecision(i) = &r.proof else {
        panic!("expected an imprecision finding, got {:?}", r.proof);
    };
    assert!(!i.infeasible);
    assert_eq!(i.lost_at, Some(5), "{i:?}");
    assert!(i.reason.contains("spilled"), "{}", i.reason);
}
