//! Compiling the selftests' BPF programs with clang-19, the way the
//! selftests Makefile does, a bounded number of jobs at a time.

use super::Progress;
use serde::Serialize;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which part of the corpus an object belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// `progs/verifier_*.c` → `corpus/build/selftests/`.
    Selftests,
    /// The `veristat.cfg` objects → `corpus/build/scale/`.
    Scale,
}

impl Part {
    /// Directory name under `corpus/build/`.
    pub fn dir(self) -> &'static str {
        match self {
            Part::Selftests => "selftests",
            Part::Scale => "scale",
        }
    }
}

/// One object to compile.
#[derive(Clone, Debug)]
pub struct CompileJob {
    /// Stem, e.g. `verifier_and` (the object is `STEM.bpf.o`).
    pub name: String,
    /// Part of the corpus.
    pub part: Part,
    /// Source path relative to the selftests directory (`progs/X.c`).
    pub src: PathBuf,
    /// Output object.
    pub out: PathBuf,
    /// Per-file flags of the selftests Makefile (`progs/X.c-CFLAGS`,
    /// `$(OUTPUT)/X.o: BPF_CFLAGS += ...`).
    pub extra: Vec<String>,
}

/// The outcome of one compile job.
#[derive(Clone, Debug, Serialize)]
pub struct CompileOutcome {
    /// Stem of the object.
    pub name: String,
    /// Part of the corpus.
    pub part: Part,
    /// The object was written.
    pub ok: bool,
    /// Adjustments the successful (or last) attempt needed, e.g.
    /// `without -Werror`; empty when the Makefile's command line worked as is.
    pub adjustments: Vec<String>,
    /// First error lines of the last failed attempt.
    pub error: Option<String>,
    /// The compiler output of failed attempts, in `corpus/build/logs/`.
    pub log: Option<PathBuf>,
}

/// Paths and programs the clang command line refers to.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// clang-19.
    pub clang: PathBuf,
    /// Directory with `bpf/*.h` (libbpf headers + generated
    /// `bpf_helper_defs.h`) and `vmlinux.h`.
    pub include: PathBuf,
    /// `tools/testing/selftests/bpf` of the kernel tree.
    pub selftests: PathBuf,
    /// `tools/include/uapi`.
    pub uapi: PathBuf,
    /// clang's own include directory.
    pub clang_include: PathBuf,
    /// Where failure logs go.
    pub logs: PathBuf,
}

impl Toolchain {
    /// The selftests Makefile's command line for `job` (BPF_CFLAGS,
    /// CLANG_CFLAGS, `-DENABLE_ATOMICS_TESTS`, CLANG_BPF_BUILD_RULE), with
    /// `-Werror` when `werror`.
    pub fn command_line(&self, job: &CompileJob, werror: bool, compat: &[&str]) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec!["-g".into(), "-Wall".into()];
        if werror {
            a.push("-Werror".into());
        }
        a.push("-D__TARGET_ARCH_x86".into());
        a.push("-mlittle-endian".into());
        a.push(cat("-I", &self.include));
        a.push(cat("-I", &self.selftests));
        a.push(cat("-I", &self.uapi));
        a.push(cat("-I", &self.selftests.join("tools/usr/include")));
        a.push("-Wno-compare-distinct-pointer-types".into());
        for dir in [
            self.clang_include.as_path(),
            Path::new("/usr/include/x86_64-linux-gnu"),
            Path::new("/usr/include"),
        ] {
            a.push("-idirafter".into());
            a.push(dir.into());
        }
        a.push("-DENABLE_ATOMICS_TESTS".into());
        a.extend(job.extra.iter().map(OsString::from));
        a.extend(compat.iter().map(OsString::from));
        a.extend(["-O2", "--target=bpf", "-c"].map(OsString::from));
        a.push(job.src.clone().into());
        a.push("-mcpu=v3".into());
        a.push("-o".into());
        a.push(job.out.clone().into());
        a
    }

    /// Compiles one object, retrying as the issue allows: without `-Werror`
    /// when warnings-as-errors are the only errors, and with a known
    /// source-compatibility define (see [`COMPAT`]) when the 6.18
    /// `vmlinux.h` renamed a field a 6.12 program reads.
    pub fn compile(&self, job: &CompileJob) -> CompileOutcome {
        let mut werror = true;
        let mut compat: Vec<&str> = Vec::new();
        let mut adjustments = Vec::new();
        let mut log = String::new();
        for _attempt in 0..4 {
            let args = self.command_line(job, werror, &compat);
            let res = Command::new(&self.clang)
                .args(&args)
                .current_dir(&self.selftests)
                .output();
            let out = match res {
                Ok(o) => o,
                Err(e) => {
                    return self.failed(job, adjustments, format!("cannot run clang: {e}"), &log);
                }
            };
            if out.status.success() && job.out.is_file() {
                return CompileOutcome {
                    name: job.name.clone(),
                    part: job.part,
                    ok: true,
                    adjustments,
                    error: None,
                    log: None,
                };
            }
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            log.push_str(&format!(
                "$ cd {} && {} {}\n{stderr}\n",
                self.selftests.display(),
                self.clang.display(),
                args.iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(" error: ")).collect();
            let mut changed = false;
            for (needle, define, why) in COMPAT {
                if stderr.contains(needle) && !compat.contains(define) {
                    compat.push(define);
                    adjustments.push(format!("{define} ({why})"));
                    changed = true;
                }
            }
            if !changed
                && werror
                && !errors.is_empty()
                && errors.iter().all(|l| l.contains("[-Werror"))
            {
                werror = false;
                adjustments.push("without -Werror".to_string());
                changed = true;
            }
            if !changed {
                let first = if errors.is_empty() {
                    super::tools::tail(&stderr, 3)
                } else {
                    errors
                        .iter()
                        .take(3)
                        .copied()
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                return self.failed(job, adjustments, first, &log);
            }
        }
        self.failed(job, adjustments, "too many retries".into(), &log)
    }

    fn failed(
        &self,
        job: &CompileJob,
        adjustments: Vec<String>,
        error: String,
        log: &str,
    ) -> CompileOutcome {
        let path = self
            .logs
            .join(format!("{}-{}.log", job.part.dir(), job.name));
        let log_path = std::fs::write(&path, log).ok().map(|_| path);
        let _ = std::fs::remove_file(&job.out);
        CompileOutcome {
            name: job.name.clone(),
            part: job.part,
            ok: false,
            adjustments,
            error: Some(error),
            log: log_path,
        }
    }
}

/// Source-compatibility defines: (compiler error text, define, reason).
/// The programs are 6.12's but `vmlinux.h` is generated from the 6.18 BTF.
pub const COMPAT: &[(&str, &str, &str)] = &[(
    "no member named 'parent' in 'struct kernfs_node'",
    "-Dparent=__parent",
    "Linux 6.15 renamed kernfs_node.parent to __parent; profiler.inc.h reads it with BPF_CORE_READ",
)];

fn cat(flag: &str, p: &Path) -> OsString {
    let mut s = OsString::from(flag);
    s.push(p.as_os_str());
    s
}

/// Runs `jobs` with at most `parallel` compilers at a time, reporting
/// progress, and returns the outcomes in job order.
pub fn compile_all(
    tc: &Toolchain,
    jobs: &[CompileJob],
    parallel: usize,
    progress: &Progress,
) -> Vec<CompileOutcome> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CompileOutcome>>> = Mutex::new(vec![None; jobs.len()]);
    let workers = parallel.clamp(1, jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let outcome = tc.compile(job);
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress.tick(n, jobs.len(), &format!("{}.bpf.o", job.name), !outcome.ok);
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(outcome);
                    }
                }
            });
        }
    });
    progress.end_bar();
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results
        .into_iter()
        .zip(jobs)
        .map(|(r, job)| {
            r.unwrap_or_else(|| CompileOutcome {
                name: job.name.clone(),
                part: job.part,
                ok: false,
                adjustments: Vec::new(),
                error: Some("compile job did not run".into()),
                log: None,
            })
        })
        .collect()
}

/// Per-file flags from the selftests Makefile: `progs/X.c-CFLAGS := ...`
/// (clang flavour, not `-bpf_gcc-CFLAGS`) and
/// `$(OUTPUT)/X.o: BPF_CFLAGS += ...`. Keyed by stem.
pub fn makefile_extra_flags(makefile: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for line in makefile.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("progs/")
            && let Some((lhs, rhs)) = rest.split_once(":=")
            && let Some(stem) = lhs.trim().strip_suffix(".c-CFLAGS")
        {
            out.push((
                stem.to_string(),
                rhs.split_whitespace().map(str::to_string).collect(),
            ));
        } else if let Some(rest) = line.strip_prefix("$(OUTPUT)/")
            && let Some((lhs, rhs)) = rest.split_once(": BPF_CFLAGS +=")
            && let Some(stem) = lhs.trim().strip_suffix(".o")
        {
            out.push((
                stem.to_string(),
                rhs.split_whitespace().map(str::to_string).collect(),
            ));
        }
    }
    out
}

/// veristat's glob matching (`glob_matches` in veristat.c): `*` matches any run.
pub fn glob_matches(s: &str, pat: &str) -> bool {
    let (s, p) = (s.as_bytes(), pat.as_bytes());
    let (mut si, mut pi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            si += 1;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// The object stems of `progs/*.c` that `veristat.cfg` selects. Its
/// patterns name objects (`bpf_flow*` for `bpf_flow.bpf.o`); a pattern
/// without `*` names one object by its stem (`test_l4lb`).
pub fn veristat_stems(cfg: &str, progs: &[String]) -> Vec<String> {
    let pats: Vec<&str> = cfg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    progs
        .iter()
        .filter(|stem| {
            let obj = format!("{stem}.bpf.o");
            pats.iter()
                .any(|p| glob_matches(&obj, p) || glob_matches(stem, p))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("loop1.bpf.o", "loop*"));
        assert!(glob_matches("test_l4lb", "test_l4lb"));
        assert!(!glob_matches("test_l4lb_noinline", "test_l4lb"));
        assert!(glob_matches("pyperf600.bpf.o", "py*600*"));
        assert!(!glob_matches("xdp", "xdp_synproxy*"));
    }

    #[test]
    fn veristat_cfg_selection() {
        let cfg = "# comment\nbpf_flow*\ntest_l4lb\nloop*\n\n";
        let progs: Vec<String> = [
            "bpf_flow",
            "test_l4lb",
            "test_l4lb_noinline",
            "loop3",
            "xdp",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            veristat_stems(cfg, &progs),
            vec!["bpf_flow", "test_l4lb", "loop3"]
        );
    }

    #[test]
    fn makefile_flags() {
        let mk = "progs/verifier_nocsr.c-CFLAGS := -fno-strict-aliasing\n\
                  progs/verifier_ld_ind.c-bpf_gcc-CFLAGS := -fno-strict-aliasing\n\
                  $(OUTPUT)/test_xdp_noinline.o: BPF_CFLAGS += -fno-inline\n";
        let f = makefile_extra_flags(mk);
        assert_eq!(
            f,
            vec![
                (
                    "verifier_nocsr".to_string(),
                    vec!["-fno-strict-aliasing".to_string()]
                ),
                (
                    "test_xdp_noinline".to_string(),
                    vec!["-fno-inline".to_string()]
                ),
            ]
        );
    }
}
