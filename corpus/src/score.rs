//! `bpfproof corpus run`: bpfproof against the recorded live-kernel
//! verdicts. Per corpus: programs, agreement, false rejects (kernel
//! accepts, bpfproof rejects), false accepts (kernel rejects, bpfproof
//! accepts — the serious kind), unsupported, errors, not run, message
//! match, and time beside the kernel's recorded verification time.

use crate::build::raw::{RawResult, load_raw_test, read_raw_dir};
use crate::expect::{Verdict as ExpectVerdict, load_object_specs, msgs_match};
use crate::kernel::KernelVerdict;
use crate::record::{Record, read};
use bpfproof_analyzer::engine::{CheckOptions, Outcome, Verdict, check_program};
use bpfproof_analyzer::object::{LoadOptions, Object, load_file};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub use bpfproof_reports::corpus_report::{
    CorpusSummary, ProgramResult, RunReport, render_table, unsupported_reasons,
};

/// The directory holding a corpus's objects.
fn objects_dir(corpus_dir: &Path, name: &str) -> PathBuf {
    match name {
        "programs" => corpus_dir.join("programs"),
        other => corpus_dir.join("build").join(other),
    }
}

/// The newest recording of `name` under `corpus_dir/outcomes`.
pub fn recording_path(corpus_dir: &Path, name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus_dir.join("outcomes"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(format!("{name}.jsonl")).is_file())
        .collect();
    dirs.sort();
    dirs.pop().map(|d| d.join(format!("{name}.jsonl")))
}

/// bpfproof's log for message matching: the first error and the lines the
/// kernel prints with it.
fn our_log(out: &Outcome) -> String {
    match &out.finding {
        Some(f) => {
            let mut s = f.message.clone();
            for m in &f.more {
                s.push('\n');
                s.push_str(m);
            }
            s
        }
        None => String::new(),
    }
}

/// Replaces every run of digits (and hex digits after `0x`) with `N`, so
/// that messages differing only in numbers compare equal.
pub fn normalize_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            if b[i] == b'0' && i + 1 < b.len() && b[i + 1] == b'x' {
                i += 2;
                while i < b.len() && b[i].is_ascii_hexdigit() {
                    i += 1;
                }
            } else {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            out.push('N');
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn verdict_str(v: Verdict) -> &'static str {
    v.as_str()
}

fn kernel_str(v: KernelVerdict) -> &'static str {
    match v {
        KernelVerdict::Accept => "accept",
        KernelVerdict::Reject => "reject",
        KernelVerdict::NotRun => "not-run",
    }
}

/// What a program is compared against besides the kernel verdict.
struct Expectation {
    expected: Option<String>,
    msgs: Vec<String>,
    /// Messages are matched in order as substrings (selftests, raw) rather
    /// than as the whole first line (recorded programs).
    ordered_substrings: bool,
}

/// Runs bpfproof over one corpus. `None` when the corpus has no recording
/// or is not built.
pub fn run_corpus(
    corpus_dir: &Path,
    name: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Option<(CorpusSummary, Vec<ProgramResult>)>, String> {
    let Some(rec_path) = recording_path(corpus_dir, name) else {
        return Ok(None);
    };
    let dir = objects_dir(corpus_dir, name);
    if !dir.is_dir() {
        return Ok(None);
    }
    let recording = read(&rec_path)?;
    let records: Vec<Record> = recording
        .records
        .into_iter()
        .filter(|r| !r.unpriv)
        .collect();
    // Analyse: one object (or raw test) at a time, each record in it.
    let mut by_object: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for r in &records {
        by_object.entry(r.object.clone()).or_default().push(r);
    }
    let raw = if name == "raw" {
        Some(raw_programs(corpus_dir)?)
    } else {
        None
    };
    let total = records.len();
    let mut done = 0;
    let mut results = Vec::with_capacity(total);
    let objects: Vec<(String, Vec<&Record>)> = by_object.into_iter().collect();
    let chunks: Vec<Vec<ProgramResult>> = std::thread::scope(|s| {
        let n = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let per = objects.len().div_ceil(n).max(1);
        let handles: Vec<_> = objects
            .chunks(per)
            .map(|chunk| {
                let dir = &dir;
                let raw = raw.as_ref();
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (object, recs) in chunk {
                        out.extend(score_object(name, dir, object, recs, raw));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for c in chunks {
        done += c.len();
        progress(done, total);
        results.extend(c);
    }
    let summary = summarize(name, &results);
    Ok(Some((summary, results)))
}

type RawMap = HashMap<String, (Object, Expectation)>;

/// The raw tests as objects, keyed by `X/INDEX`.
fn raw_programs(corpus_dir: &Path) -> Result<RawMap, String> {
    let files = read_raw_dir(&corpus_dir.join("build").join("raw")).map_err(|e| e.0)?;
    // test_verifier's BTF for its spin-lock/timer/kptr maps: the analyzer
    // reads the maps' special fields from it.
    let maps_btf = crate::build::raw::maps_btf_blob(&corpus_dir.join("build").join("raw_btf.json"))
        .ok()
        .and_then(|b| bpfproof_analyzer::object::btf::Btf::parse(&b).ok());
    let mut out = HashMap::new();
    for f in &files {
        let stem = f
            .source
            .trim_start_matches("verifier/")
            .trim_end_matches(".c")
            .to_string();
        for t in &f.tests {
            let mut rp = load_raw_test(t, &stem, None);
            if rp.prog_btf.is_none()
                && rp.object.btf.is_none()
                && rp.raw_maps.iter().any(|m| m.uses_maps_btf)
            {
                rp.object.btf = maps_btf.clone().map(std::sync::Arc::new);
            }
            let exp = t.expect(false);
            let (expected, msgs) = match exp {
                Some(e) => (
                    Some(match e.result {
                        RawResult::Reject => "reject".to_string(),
                        _ => "accept".to_string(),
                    }),
                    if e.result == RawResult::Reject {
                        e.msgs.clone()
                    } else {
                        Vec::new()
                    },
                ),
                None => (None, Vec::new()),
            };
            out.insert(
                rp.id.clone(),
                (
                    rp.object,
                    Expectation {
                        expected,
                        msgs,
                        ordered_substrings: true,
                    },
                ),
            );
        }
    }
    Ok(out)
}

fn score_object(
    corpus: &str,
    dir: &Path,
    object: &str,
    recs: &[&Record],
    raw: Option<&RawMap>,
) -> Vec<ProgramResult> {
    let mut out = Vec::new();
    let loaded = if raw.is_some() {
        None
    } else {
        Some(load_file(&dir.join(object), &LoadOptions::default()))
    };
    let specs = if corpus == "selftests" {
        load_object_specs(&dir.join(object)).ok()
    } else {
        None
    };
    for r in recs {
        let prog_flags = r
            .flags
            .split('|')
            .filter_map(|f| crate::kernel::flag_by_name(f.trim()))
            .fold(0u32, |a, f| a | f);
        let opts = CheckOptions {
            prog_flags,
            ..CheckOptions::default()
        };
        let (outcome, expectation) = match (&loaded, raw) {
            (_, Some(raw)) => match raw.get(&r.program) {
                Some((obj, exp)) => {
                    let o = obj.programs.first().map(|p| check_program(obj, p, &opts));
                    (
                        o.ok_or_else(|| "raw test without a program".to_string()),
                        Some(exp_clone(exp)),
                    )
                }
                None => (
                    Err(format!("raw test {} not in the built corpus", r.program)),
                    None,
                ),
            },
            (Some(Ok(obj)), None) => match obj.programs.iter().find(|p| p.name == r.program) {
                Some(p) => {
                    let exp = match specs.as_ref().and_then(|s| s.get(&r.program)) {
                        Some(spec) => spec.privileged.as_ref().map(|e| Expectation {
                            expected: Some(
                                if e.result == ExpectVerdict::Reject {
                                    "reject"
                                } else {
                                    "accept"
                                }
                                .to_string(),
                            ),
                            msgs: if e.result == ExpectVerdict::Reject {
                                e.msgs.clone()
                            } else {
                                Vec::new()
                            },
                            ordered_substrings: true,
                        }),
                        None => Some(Expectation {
                            expected: None,
                            msgs: r
                                .first_error
                                .iter()
                                .filter(|_| r.verdict == KernelVerdict::Reject)
                                .cloned()
                                .collect(),
                            ordered_substrings: false,
                        }),
                    };
                    (Ok(check_program(obj, p, &opts)), exp)
                }
                None => (Err(format!("program {} not in {object}", r.program)), None),
            },
            (Some(Err(e)), None) => (Err(format!("{e}")), None),
            (None, None) => (Err("not loaded".to_string()), None),
        };
        let exp = expectation.unwrap_or(Expectation {
            expected: None,
            msgs: Vec::new(),
            ordered_substrings: false,
        });
        let (bpfproof, message, insns, time) = match &outcome {
            Ok(o) => (
                verdict_str(o.verdict).to_string(),
                o.finding.as_ref().map(|f| f.message.clone()),
                o.stats.insns_processed,
                o.stats.time_us,
            ),
            Err(e) => ("error".to_string(), Some(e.clone()), None, 0),
        };
        let bpfproof_code = outcome
            .as_ref()
            .ok()
            .and_then(|o| o.finding.as_ref())
            .map(|f| f.code.to_string());
        let msg_match = match (&outcome, r.verdict) {
            (Ok(o), KernelVerdict::Reject) if !exp.msgs.is_empty() => Some(
                o.verdict == Verdict::Reject
                    && if exp.ordered_substrings {
                        msgs_match(&our_log(o), &exp.msgs).is_ok()
                    } else {
                        let ours = o.finding.as_ref().map(|f| normalize_numbers(&f.message));
                        ours.as_deref() == Some(normalize_numbers(&exp.msgs[0]).as_str())
                    },
            ),
            _ => None,
        };
        out.push(ProgramResult {
            corpus: corpus.to_string(),
            object: object.to_string(),
            program: r.program.clone(),
            prog_type: r.prog_type.clone(),
            kernel: kernel_str(r.verdict).to_string(),
            expected: exp.expected,
            bpfproof,
            kernel_message: r.first_error.clone(),
            bpfproof_message: message,
            bpfproof_code,
            expected_messages: exp.msgs,
            msg_match,
            kernel_insns_processed: r.insns_processed,
            bpfproof_insns_processed: insns,
            kernel_time_us: r.verification_time_us,
            bpfproof_time_us: time,
        });
    }
    out
}

fn exp_clone(e: &Expectation) -> Expectation {
    Expectation {
        expected: e.expected.clone(),
        msgs: e.msgs.clone(),
        ordered_substrings: e.ordered_substrings,
    }
}

/// The table row of a corpus from its results.
pub fn summarize(name: &str, results: &[ProgramResult]) -> CorpusSummary {
    let mut s = CorpusSummary {
        name: name.to_string(),
        programs: results.len(),
        ..CorpusSummary::default()
    };
    for r in results {
        let measured = r.kernel == "accept" || r.kernel == "reject";
        match r.bpfproof.as_str() {
            "unsupported" => s.unsupported += 1,
            "error" => s.errors += 1,
            ours if measured && ours == r.kernel => s.agree += 1,
            "accept" if r.kernel == "reject" => s.false_accepts += 1,
            "reject" if r.kernel == "accept" => s.false_rejects += 1,
            _ => {}
        }
        if !measured {
            s.not_run += 1;
        }
        if let Some(m) = r.msg_match {
            s.msg_expected += 1;
            if m {
                s.msg_match += 1;
            }
        }
        if measured {
            s.bpfproof_time_us += r.bpfproof_time_us;
            s.kernel_time_us += r.kernel_time_us.unwrap_or(0);
        }
    }
    s
}
