//! Recorded live-kernel outcomes as JSON lines:
//! `corpus/outcomes/linux-<release>/<corpus>.jsonl`, a [`Header`] line
//! then one [`Record`] per program.

use crate::kernel::{self, KernelObject, KernelOutcome, KernelVerdict, LoadSpec};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The first line of a recording.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Header {
    /// Always `"header"`.
    pub kind: String,
    /// The corpus (`programs`, `selftests`, `scale`, `raw`).
    pub corpus: String,
    /// `uname -r`.
    pub kernel_release: String,
    /// `clang-19 --version`, first line.
    pub clang: String,
    /// UTC date, `YYYY-MM-DD`.
    pub date: String,
    /// bpfproof version that recorded it.
    pub bpfproof: String,
    /// How programs were loaded.
    pub loader: String,
}

/// One program's recorded outcome.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// Object file name (no directory), or the raw test's file.
    pub object: String,
    /// Program (function) name, or the raw test's name.
    pub program: String,
    /// ELF section.
    pub section: String,
    /// Program type name (`socket_filter`, ...), when known.
    pub prog_type: Option<String>,
    /// `accept`, `reject`, `not-run`.
    pub verdict: KernelVerdict,
    /// Unprivileged run (always false here: unprivileged BPF is disabled on
    /// the recording machine, so only privileged runs are recorded).
    #[serde(default)]
    pub unpriv: bool,
    /// Flags passed (`BPF_F_ANY_ALIGNMENT|...`), empty when none.
    #[serde(default)]
    pub flags: String,
    /// errno of a failed load, negative as the kernel returns it (`-13`).
    pub errno: Option<i32>,
    /// The first error line of the verifier log (rejects), or why the
    /// verifier did not run (not-run).
    pub first_error: Option<String>,
    /// The last lines of the log of a reject (at most 200).
    pub log: Option<String>,
    /// Processed instructions.
    pub insns_processed: Option<u64>,
    /// `total_states`.
    pub total_states: Option<u64>,
    /// `peak_states`.
    pub peak_states: Option<u64>,
    /// `max_states_per_insn`.
    pub max_states_per_insn: Option<u64>,
    /// Verification time from the log (`verification time N usec`).
    pub verification_time_us: Option<u64>,
    /// Loader notes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Record {
    /// A record from an outcome.
    pub fn new(
        object: &str,
        program: &str,
        section: &str,
        prog_type: Option<String>,
        flags: &str,
        o: &KernelOutcome,
    ) -> Record {
        Record {
            object: object.to_string(),
            program: program.to_string(),
            section: section.to_string(),
            prog_type,
            verdict: o.verdict(),
            unpriv: false,
            flags: flags.to_string(),
            errno: o.errno.map(|e| -e),
            first_error: o.first_error.clone(),
            log: o
                .log
                .as_deref()
                .filter(|_| o.verdict() == KernelVerdict::Reject)
                .map(|l| kernel::log::tail(l, kernel::LOG_TAIL_LINES)),
            insns_processed: o.stats.insns_processed,
            total_states: o.stats.total_states,
            peak_states: o.stats.peak_states,
            max_states_per_insn: o.stats.max_states_per_insn,
            verification_time_us: o.stats.verification_time_us,
            notes: o.notes.clone(),
        }
    }
}

/// A recording read back.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Header line.
    pub header: Header,
    /// Program lines.
    pub records: Vec<Record>,
}

/// Reads a recording. Errors name the file and line.
pub fn read(path: &Path) -> Result<Recording, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines
        .next()
        .ok_or_else(|| format!("{}: empty recording", path.display()))?;
    let header: Header = serde_json::from_str(first)
        .map_err(|e| format!("{}:1: bad header: {e}", path.display()))?;
    let mut records = Vec::new();
    for (n, l) in lines {
        records.push(
            serde_json::from_str(l).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?,
        );
    }
    Ok(Recording { header, records })
}

/// Writes a recording (header first).
pub fn write(path: &Path, header: &Header, records: &[Record]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut out = Vec::new();
    let line = |out: &mut Vec<u8>, v: String| {
        out.extend_from_slice(v.as_bytes());
        out.push(b'\n');
    };
    line(
        &mut out,
        serde_json::to_string(header).map_err(|e| e.to_string())?,
    );
    for r in records {
        line(
            &mut out,
            serde_json::to_string(r).map_err(|e| e.to_string())?,
        );
    }
    let mut f =
        std::fs::File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(&out)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `corpus/outcomes/linux-<release>/<corpus>.jsonl` under `corpus_dir`.
pub fn outcome_path(corpus_dir: &Path, release: &str, corpus: &str) -> PathBuf {
    corpus_dir
        .join("outcomes")
        .join(format!("linux-{release}"))
        .join(format!("{corpus}.jsonl"))
}

/// Every recording directory under `corpus_dir/outcomes`, newest name last.
pub fn recorded_releases(corpus_dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus_dir.join("outcomes"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The first line of `clang-19 --version` (or `clang --version`).
pub fn clang_version() -> String {
    for c in ["clang-19", "clang"] {
        if let Ok(o) = std::process::Command::new(c).arg("--version").output()
            && o.status.success()
        {
            let s = String::from_utf8_lossy(&o.stdout);
            if let Some(l) = s.lines().next() {
                return l.trim().to_string();
            }
        }
    }
    "unknown".to_string()
}

/// Today's UTC date as `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

/// A header for a recording made now on this machine.
pub fn header_now(corpus: &str, loader: &str) -> Header {
    Header {
        kind: "header".to_string(),
        corpus: corpus.to_string(),
        kernel_release: kernel::kernel_release(),
        clang: clang_version(),
        date: today(),
        bpfproof: env!("CARGO_PKG_VERSION").to_string(),
        loader: loader.to_string(),
    }
}

/// The loader description written in headers.
pub const LOADER: &str = "bpfproof bpf(2) loader: each program alone with fresh maps, \
log_level 1|BPF_LOG_STATS (2|4 where the test asks for level 2), privileged runs only";

/// Flags as `A|B` names.
pub fn flags_string(flags: u32) -> String {
    const NAMES: &[(u32, &str)] = &[
        (kernel::BPF_F_STRICT_ALIGNMENT, "BPF_F_STRICT_ALIGNMENT"),
        (kernel::BPF_F_ANY_ALIGNMENT, "BPF_F_ANY_ALIGNMENT"),
        (kernel::BPF_F_TEST_RND_HI32, "BPF_F_TEST_RND_HI32"),
        (kernel::BPF_F_TEST_STATE_FREQ, "BPF_F_TEST_STATE_FREQ"),
        (kernel::BPF_F_SLEEPABLE, "BPF_F_SLEEPABLE"),
        (kernel::BPF_F_XDP_HAS_FRAGS, "BPF_F_XDP_HAS_FRAGS"),
        (
            kernel::BPF_F_TEST_REG_INVARIANTS,
            "BPF_F_TEST_REG_INVARIANTS",
        ),
    ];
    let mut v: Vec<String> = NAMES
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| (*n).to_string())
        .collect();
    let rest = NAMES.iter().fold(flags, |f, (b, _)| f & !b);
    if rest != 0 {
        v.push(format!("{rest:#x}"));
    }
    v.join("|")
}

/// Loads every program of an object file with `spec_for(program name)` and
/// returns one record each. An object that cannot be prepared gives one
/// `not-run` record per program the analyzer could list (or one for the
/// object when it could not even be read).
pub fn record_object(path: &Path, spec_for: &dyn Fn(&str) -> Option<LoadSpec>) -> Vec<Record> {
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let analyzed = match bpfproof_analyzer::object::load_file(path, &Default::default()) {
        Ok(o) => o,
        Err(e) => {
            let o = KernelOutcome {
                verdict: Some(KernelVerdict::NotRun),
                first_error: Some(format!("error[{}]: {}", e.code, e.message)),
                ..Default::default()
            };
            return vec![Record::new(&file, "", "", None, "", &o)];
        }
    };
    // One kernel object per CO-RE target (`__btf_path`), opened lazily.
    let mut opened: Vec<(Option<PathBuf>, Result<KernelObject, String>)> = Vec::new();
    let mut out = Vec::new();
    for (i, p) in analyzed.programs.iter().enumerate() {
        let Some(spec) = spec_for(&p.name) else {
            continue;
        };
        let target = spec.btf_path.as_ref().map(|b| match path.parent() {
            Some(dir) if b.is_relative() => dir.join(b),
            _ => b.clone(),
        });
        let k = match opened.iter().position(|(t, _)| *t == target) {
            Some(k) => k,
            None => {
                // Like libbpf, resolve kfuncs and CO-RE against the running
                // kernel's BTF: its type ids differ between kernel builds.
                let live = Path::new("/sys/kernel/btf/vmlinux");
                let opts = match &target {
                    None if live.is_file() => kernel::read_target_btf(live).map(|b| {
                        bpfproof_analyzer::object::LoadOptions {
                            target_btf: Some(std::sync::Arc::new(b)),
                            ..Default::default()
                        }
                    }),
                    None => Ok(bpfproof_analyzer::object::LoadOptions::default()),
                    Some(t) => {
                        kernel::read_target_btf(t).map(|b| bpfproof_analyzer::object::LoadOptions {
                            target_btf: Some(std::sync::Arc::new(b)),
                            ..Default::default()
                        })
                    }
                };
                let ko = opts.and_then(|o| KernelObject::open_with(path, &o).map_err(|e| e.0));
                opened.push((target, ko));
                opened.len() - 1
            }
        };
        let o = match &opened[k].1 {
            Ok(ko) => ko.load_program(i, &spec),
            Err(e) => KernelOutcome {
                verdict: Some(KernelVerdict::NotRun),
                first_error: Some(e.clone()),
                ..Default::default()
            },
        };
        out.push(Record::new(
            &file,
            &p.name,
            &p.section,
            p.prog_type.map(|t| t.name().to_string()),
            &flags_string(spec.prog_flags),
            &o,
        ));
    }
    out
}

/// Counts of a recording: (accept, reject, not-run).
pub fn counts(records: &[Record]) -> (usize, usize, usize) {
    let n = |v| records.iter().filter(|r| r.verdict == v).count();
    (
        n(KernelVerdict::Accept),
        n(KernelVerdict::Reject),
        n(KernelVerdict::NotRun),
    )
}

/// The load spec of (object file name, program); `None` = do not load.
pub type SpecFor = Box<dyn Fn(&str, &str) -> Option<LoadSpec>>;

/// Where a corpus's objects are and how each program is loaded.
pub struct CorpusPlan {
    /// Corpus name.
    pub name: String,
    /// Object files, sorted.
    pub objects: Vec<PathBuf>,
    /// The load spec of (object file name, program); `None` = do not load.
    pub spec_for: SpecFor,
}

/// The `.bpf.o` files of a directory, sorted by name.
pub fn objects_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .collect();
    v.sort();
    Ok(v)
}

/// Records every program of a plan, calling `progress(done, total, object)`
/// before each object.
pub fn record_plan(
    plan: &CorpusPlan,
    progress: &mut dyn FnMut(usize, usize, &Path),
) -> Vec<Record> {
    let mut out = Vec::new();
    let total = plan.objects.len();
    for (i, path) in plan.objects.iter().enumerate() {
        progress(i, total, path);
        let file = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        out.extend(record_object(path, &|prog| (plan.spec_for)(&file, prog)));
    }
    progress(total, total, Path::new(""));
    out
}

/// The corpora, in recording order.
pub const CORPORA: &[&str] = &["programs", "selftests", "scale", "raw"];

/// Records corpus `name` under `corpus_dir`: `None` when it is not built.
/// `progress(done, total, label)` is called as it goes.
pub fn record_corpus(
    corpus_dir: &Path,
    name: &str,
    progress: &mut dyn FnMut(usize, usize, &Path),
) -> Result<Option<Vec<Record>>, String> {
    if name == "raw" {
        return record_raw(corpus_dir, progress);
    }
    Ok(plan(corpus_dir, name)?.map(|p| record_plan(&p, progress)))
}

/// The raw instruction tests (`corpus/build/raw/*.json`), privileged runs,
/// one record per test: object `X.json`, program `X/INDEX`.
fn record_raw(
    corpus_dir: &Path,
    progress: &mut dyn FnMut(usize, usize, &Path),
) -> Result<Option<Vec<Record>>, String> {
    let dir = corpus_dir.join("build").join("raw");
    if !dir.is_dir() {
        return Ok(None);
    }
    let files = crate::build::raw::read_raw_dir(&dir).map_err(|e| e.0)?;
    let maps_btf_path = corpus_dir.join("build").join("raw_btf.json");
    let maps_btf = if maps_btf_path.is_file() {
        Some(crate::build::raw::maps_btf_blob(&maps_btf_path).map_err(|e| e.0)?)
    } else {
        None
    };
    let mut out = Vec::new();
    let total = files.len();
    for (i, f) in files.iter().enumerate() {
        let stem = f.stem().to_string();
        progress(i, total, Path::new(&stem));
        for t in &f.tests {
            let rp = crate::build::raw::load_raw_test(t, &stem, None);
            let o = kernel::load_raw(&rp, maps_btf.as_deref());
            let prog = rp.object.programs.first();
            out.push(Record::new(
                &format!("{stem}.json"),
                &rp.id,
                "raw",
                prog.and_then(|p| p.prog_type).map(|t| t.name().to_string()),
                &flags_string(
                    rp.prog_flags | kernel::BPF_F_TEST_RND_HI32 | kernel::BPF_F_TEST_REG_INVARIANTS,
                ),
                &o,
            ));
        }
    }
    progress(total, total, Path::new(""));
    Ok(Some(out))
}

/// The plan of corpus `name` under `corpus_dir` (`corpus/`): `None` when
/// it is not built.
pub fn plan(corpus_dir: &Path, name: &str) -> Result<Option<CorpusPlan>, String> {
    let dir = match name {
        "programs" => corpus_dir.join("programs"),
        "selftests" => corpus_dir.join("build").join("selftests"),
        "scale" => corpus_dir.join("build").join("scale"),
        other => {
            return Err(format!(
                "unknown corpus '{other}' (known: {})",
                CORPORA.join(", ")
            ));
        }
    };
    if !dir.is_dir() {
        return Ok(None);
    }
    let mut objects = objects_in(&dir)?;
    if name == "selftests" {
        // Only the test objects; `__btf_path` targets live beside them.
        objects.retain(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("verifier_"))
        });
    }
    let spec_for: SpecFor = match name {
        "selftests" => {
            let specs = selftest_specs(&objects);
            Box::new(move |obj: &str, prog: &str| {
                specs.get(&(obj.to_string(), prog.to_string())).cloned()
            })
        }
        _ => Box::new(|_: &str, _: &str| Some(LoadSpec::default())),
    };
    Ok(Some(CorpusPlan {
        name: name.to_string(),
        objects,
        spec_for,
    }))
}

/// The load spec of every selftest program (object file, function):
/// privileged runs of the programs `test_loader.c` runs as tests of their
/// own (not `__auxiliary`, tags parsed, a privileged expectation, x86-64),
/// with test_loader's flags (`testing_prog_flags()` plus the `__flag`s),
/// `__log_level` and `__btf_path`. Unprivileged runs are not recorded:
/// unprivileged BPF is disabled on the recording machine.
fn selftest_specs(objects: &[PathBuf]) -> std::collections::HashMap<(String, String), LoadSpec> {
    let mut out = std::collections::HashMap::new();
    for path in objects {
        let Ok(specs) = crate::expect::load_object_specs(path) else {
            continue;
        };
        for t in specs.tests() {
            if t.privileged.is_none() || !t.runs_on_x86_64() {
                continue;
            }
            out.insert(
                (specs.object.clone(), t.program.clone()),
                LoadSpec {
                    prog_flags: t.prog_flags(crate::expect::TESTING_PROG_FLAGS),
                    log_level: t.effective_log_level(1) & 3,
                    btf_path: t.btf_path.as_ref().map(PathBuf::from),
                },
            );
        }
    }
    out
}

/// The independent reference recording of the selftests
/// (`../shared/reference/kernel-6.18-selftests.csv` beside the repository,
/// or `$BPFPROOF_REFERENCE_CSV`), when present.
pub fn reference_csv_path(corpus_dir: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BPFPROOF_REFERENCE_CSV") {
        return Some(PathBuf::from(p));
    }
    let p = corpus_dir.join("../../shared/reference/kernel-6.18-selftests.csv");
    p.is_file().then_some(p)
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Reads a CSV file with a header line into one map per row.
pub fn read_csv(path: &Path) -> Result<Vec<std::collections::HashMap<String, String>>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines();
    let head = csv_fields(lines.next().unwrap_or_default());
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| head.iter().cloned().zip(csv_fields(l)).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_format() {
        let d = today();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }

    #[test]
    fn flags_names() {
        assert_eq!(flags_string(0), "");
        assert_eq!(
            flags_string(kernel::BPF_F_ANY_ALIGNMENT | kernel::BPF_F_TEST_STATE_FREQ),
            "BPF_F_ANY_ALIGNMENT|BPF_F_TEST_STATE_FREQ"
        );
    }

    #[test]
    fn round_trip() {
        let dir = std::env::temp_dir().join(format!("bpfproof-rec-{}", std::process::id()));
        let path = dir.join("x.jsonl");
        let h = Header {
            kind: "header".into(),
            corpus: "programs".into(),
            kernel_release: "6.18".into(),
            clang: "clang".into(),
            date: "2025-01-01".into(),
            bpfproof: "0.1.0".into(),
            loader: LOADER.into(),
        };
        let o = KernelOutcome {
            verdict: Some(KernelVerdict::Reject),
            errno: Some(13),
            first_error: Some("R2 !read_ok".into()),
            log: Some("0: (bf) r0 = r2\nR2 !read_ok\n".into()),
            ..Default::default()
        };
        let r = Record::new("a.bpf.o", "f", "socket", None, "", &o);
        assert_eq!(r.errno, Some(-13));
        write(&path, &h, std::slice::from_ref(&r)).expect("write");
        let back = read(&path).expect("read");
        assert_eq!(back.header, h);
        assert_eq!(back.records, vec![r]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
