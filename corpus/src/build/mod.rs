//! `bpfproof corpus build`: compiles the corpus from the Linux 6.12 source.
//!
//! Inputs: Debian's `linux-source-6.12` (cached outside the repository,
//! see [`source`]), clang-19, bpftool, gcc, python3, and the target kernel
//! BTF (the bundled `analyzer/data/vmlinux-6.18.btf.gz`, else
//! `../shared/kernel/vmlinux-6.18.btf`), from which `vmlinux.h` is written.
//!
//! Outputs, under `corpus/build/` (git-ignored):
//!
//! | path | what |
//! |---|---|
//! | `selftests/verifier_X.bpf.o` | every `progs/verifier_*.c` |
//! | `scale/X.bpf.o` | the `progs/*.c` that `veristat.cfg` selects |
//! | `raw/X.json` | the tests of `verifier/X.c` (see [`raw`]) |
//! | `raw_btf.json` | test_verifier's BTF for its spin-lock/timer/kptr maps |
//! | `include/` | `bpf/*.h` (libbpf headers + generated `bpf_helper_defs.h`), `vmlinux.h` |
//! | `logs/` | compiler output of objects that failed |
//! | `manifest.json` | versions, counts, adjustments, failures, build time ([`BuildSummary`]) |

pub mod compile;
pub mod raw;
pub mod source;
pub mod tools;

pub use compile::{CompileOutcome, Part};
pub use raw::{
    RawExpect, RawFile, RawMap, RawProgram, RawResult, RawTest, load_raw_test, parse_raw_test,
    read_raw_dir, read_raw_file,
};

use compile::{CompileJob, Toolchain};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;
use tools::{BPFTOOL, CLANG, PYTHON3};

/// Why the build stopped.
#[derive(Debug)]
pub enum BuildError {
    /// A program the build runs is not installed.
    MissingTool {
        /// The command.
        command: &'static str,
        /// The Debian package providing it.
        package: &'static str,
        /// What it is needed for.
        purpose: &'static str,
    },
    /// The kernel source could not be fetched or unpacked.
    Source(String),
    /// A file could not be read or written.
    Io(String),
    /// A build step failed.
    Step(String),
}

impl BuildError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, e: std::io::Error) -> Self {
        BuildError::Io(format!("{}: {e}", path.display()))
    }
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::MissingTool {
                command,
                package,
                purpose,
            } => write!(
                f,
                "`{command}` is not installed (it {purpose}); install the Debian package `{package}`: apt-get install {package}"
            ),
            BuildError::Source(m) | BuildError::Io(m) | BuildError::Step(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for BuildError {}

/// Options of [`build`].
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// Parallel compiler jobs (default 2).
    pub jobs: usize,
    /// Delete `corpus/build/` first.
    pub clean: bool,
    /// The `corpus/` directory of the repository.
    pub corpus_dir: PathBuf,
    /// Cache directory for the kernel source ([`source::default_cache_dir`]).
    pub cache_dir: PathBuf,
    /// Target kernel BTF for `vmlinux.h` (`None`: bundled, else `../shared`).
    pub btf: Option<PathBuf>,
    /// Print progress on standard error.
    pub progress: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            jobs: 2,
            clean: false,
            corpus_dir: default_corpus_dir(),
            cache_dir: source::default_cache_dir(),
            btf: None,
            progress: true,
        }
    }
}

/// The repository's `corpus/` directory: `./corpus` when the current
/// directory is the repository root, else this crate's source directory.
pub fn default_corpus_dir() -> PathBuf {
    let here = PathBuf::from("corpus");
    if here.join("tools/dump_raw_tests.c").is_file() {
        return std::env::current_dir()
            .map(|d| d.join("corpus"))
            .unwrap_or(here);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `corpus/build/`.
pub fn build_dir() -> PathBuf {
    default_corpus_dir().join("build")
}

/// Counts of one compiled part.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PartSummary {
    /// Sources selected.
    pub sources: usize,
    /// Objects written.
    pub objects: usize,
    /// Stems of the objects that failed to compile.
    pub failed: Vec<String>,
}

/// What a build produced; also written to `corpus/build/manifest.json`.
#[derive(Clone, Debug, Serialize)]
pub struct BuildSummary {
    /// bpfproof version.
    pub bpfproof: String,
    /// Kernel source version, e.g. `6.12.117`.
    pub linux_source: String,
    /// `clang-19 --version` first line.
    pub clang: String,
    /// The BTF `vmlinux.h` was generated from.
    pub btf: String,
    /// `progs/verifier_*.c`.
    pub selftests: PartSummary,
    /// `veristat.cfg` objects.
    pub scale: PartSummary,
    /// Raw test files (`verifier/*.c`).
    pub raw_files: usize,
    /// Raw tests.
    pub raw_tests: usize,
    /// Every compile outcome (with adjustments and errors).
    pub objects: Vec<CompileOutcome>,
    /// Wall-clock build time in seconds.
    pub seconds: f64,
}

/// Progress on standard error: a bar on a terminal, a line per 10 %
/// otherwise.
pub struct Progress {
    enabled: bool,
    tty: bool,
    last_pct: Mutex<usize>,
}

impl Progress {
    /// A progress reporter; `enabled = false` prints nothing.
    pub fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            tty: std::io::stderr().is_terminal(),
            last_pct: Mutex::new(usize::MAX),
        }
    }

    /// Announces a step.
    pub fn phase(&self, msg: &str) {
        if self.enabled {
            eprintln!("corpus build: {msg}");
        }
    }

    /// Reports `done` of `total` items, the last being `label`.
    pub fn tick(&self, done: usize, total: usize, label: &str, failed: bool) {
        if !self.enabled || total == 0 {
            return;
        }
        let pct = done * 100 / total;
        let mut err = std::io::stderr().lock();
        if self.tty {
            let width = 30;
            let fill = done * width / total;
            let _ = write!(
                err,
                "\r  [{}{}] {done:>4}/{total} {:<40}",
                "#".repeat(fill),
                "-".repeat(width - fill),
                truncate(label, 40)
            );
            let _ = err.flush();
        } else if let Ok(mut last) = self.last_pct.lock()
            && (*last == usize::MAX || pct / 10 != *last / 10 || done == total)
        {
            *last = pct;
            let _ = writeln!(err, "  {done:>4}/{total} ({pct:>3} %) {label}");
        }
        if failed {
            let _ = writeln!(
                err,
                "{}  FAILED {label} (see corpus/build/logs/)",
                if self.tty { "\n" } else { "" }
            );
        }
    }

    /// Ends a progress bar line.
    pub fn end_bar(&self) {
        if self.enabled && self.tty {
            eprintln!();
        }
        if let Ok(mut last) = self.last_pct.lock() {
            *last = usize::MAX;
        }
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn mkdir(p: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(p).map_err(|e| BuildError::io(p, e))
}

/// Writes `include/bpf/*.h` (libbpf headers of the tree, plus
/// `bpf_helper_defs.h` from `scripts/bpf_doc.py`) and `include/vmlinux.h`.
fn prepare_headers(
    root: &Path,
    include: &Path,
    btf_raw: &Path,
    progress: &Progress,
) -> Result<(), BuildError> {
    let bpf_inc = include.join("bpf");
    mkdir(&bpf_inc)?;
    let libbpf = root.join("tools/lib/bpf");
    for e in std::fs::read_dir(&libbpf).map_err(|e| BuildError::io(&libbpf, e))? {
        let e = e.map_err(|e| BuildError::io(&libbpf, e))?;
        let p = e.path();
        if p.extension().is_some_and(|x| x == "h") {
            let dst = bpf_inc.join(e.file_name());
            std::fs::copy(&p, &dst).map_err(|e| BuildError::io(&dst, e))?;
        }
    }
    progress.phase("generating bpf_helper_defs.h (scripts/bpf_doc.py) and vmlinux.h (bpftool)");
    let python = tools::require(&PYTHON3)?;
    let out = tools::run_ok(
        Command::new(python)
            .arg(root.join("scripts/bpf_doc.py"))
            .arg("--header")
            .arg("--file")
            .arg(root.join("tools/include/uapi/linux/bpf.h")),
        "scripts/bpf_doc.py --header",
    )?;
    let defs = bpf_inc.join("bpf_helper_defs.h");
    std::fs::write(&defs, &out.stdout).map_err(|e| BuildError::io(&defs, e))?;

    let bpftool = tools::require(&BPFTOOL)?;
    let out = tools::run_ok(
        Command::new(bpftool)
            .args(["btf", "dump", "file"])
            .arg(btf_raw)
            .args(["format", "c"]),
        "bpftool btf dump file ... format c",
    )?;
    let vmlinux_h = include.join("vmlinux.h");
    std::fs::write(&vmlinux_h, &out.stdout).map_err(|e| BuildError::io(&vmlinux_h, e))?;
    Ok(())
}

/// Finds the target BTF and writes it uncompressed to `dest`; returns a
/// description of where it came from.
fn prepare_btf(opts: &BuildOptions, dest: &Path) -> Result<String, BuildError> {
    if let Some(p) = &opts.btf {
        let data = std::fs::read(p).map_err(|e| BuildError::io(p, e))?;
        std::fs::write(dest, data).map_err(|e| BuildError::io(dest, e))?;
        return Ok(p.display().to_string());
    }
    let gz = opts.corpus_dir.join("../analyzer/data/vmlinux-6.18.btf.gz");
    if let Ok(f) = std::fs::File::open(&gz) {
        use std::io::Read;
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(f)
            .read_to_end(&mut raw)
            .map_err(|e| BuildError::io(&gz, e))?;
        std::fs::write(dest, raw).map_err(|e| BuildError::io(dest, e))?;
        return Ok("analyzer/data/vmlinux-6.18.btf.gz".to_string());
    }
    let shared = opts.corpus_dir.join("../../shared/kernel/vmlinux-6.18.btf");
    let data = std::fs::read(&shared).map_err(|e| {
        BuildError::Io(format!(
            "no target BTF: neither {} nor {} is readable ({e})",
            gz.display(),
            shared.display()
        ))
    })?;
    std::fs::write(dest, data).map_err(|e| BuildError::io(dest, e))?;
    Ok("../shared/kernel/vmlinux-6.18.btf".to_string())
}

/// Stems of `dir/*.c`, sorted.
fn c_stems(dir: &Path) -> Result<Vec<String>, BuildError> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| BuildError::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".c"))
                .map(str::to_string)
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Builds the corpus. Errors only for missing tools or inputs; objects
/// that fail to compile are listed in the summary (and `logs/`).
pub fn build(opts: &BuildOptions) -> Result<BuildSummary, BuildError> {
    let start = Instant::now();
    let progress = Progress::new(opts.progress);
    let clang = tools::require(&CLANG)?;
    tools::require(&BPFTOOL)?;
    tools::require(&PYTHON3)?;
    tools::require(&tools::GCC)?;

    let out = opts.corpus_dir.join("build");
    if opts.clean && out.exists() {
        progress.phase(&format!("removing {}", out.display()));
        std::fs::remove_dir_all(&out).map_err(|e| BuildError::io(&out, e))?;
    }
    for d in ["selftests", "scale", "include", "logs", "gen"] {
        mkdir(&out.join(d))?;
    }
    // Objects of an earlier run must not survive a failed compile.
    for d in ["selftests", "scale"] {
        let dir = out.join(d);
        for e in std::fs::read_dir(&dir)
            .map_err(|e| BuildError::io(&dir, e))?
            .flatten()
        {
            if e.path().extension().is_some_and(|x| x == "o") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    for e in std::fs::read_dir(out.join("logs"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let _ = std::fs::remove_file(e.path());
    }

    let root = source::ensure_source(&opts.cache_dir, &progress)?;
    let linux_source = source::tree_version(&root).unwrap_or_else(|| "6.12".into());
    progress.phase(&format!("Linux {linux_source} source: {}", root.display()));

    let btf_raw = out.join("gen/vmlinux.btf");
    let btf_desc = prepare_btf(opts, &btf_raw)?;
    let include = out.join("include");
    prepare_headers(&root, &include, &btf_raw, &progress)?;

    let selftests = root.join("tools/testing/selftests/bpf");
    let tc = Toolchain {
        clang: clang.clone(),
        include,
        selftests: selftests.clone(),
        uapi: root.join("tools/include/uapi"),
        clang_include: tools::clang_include_dir(&clang)?,
        logs: out.join("logs"),
    };

    let makefile = std::fs::read_to_string(selftests.join("Makefile"))
        .map_err(|e| BuildError::io(&selftests.join("Makefile"), e))?;
    let extra = compile::makefile_extra_flags(&makefile);
    let progs = c_stems(&selftests.join("progs"))?;
    let cfg_path = selftests.join("veristat.cfg");
    let cfg = std::fs::read_to_string(&cfg_path).map_err(|e| BuildError::io(&cfg_path, e))?;
    let job = |stem: &str, part: Part| CompileJob {
        name: stem.to_string(),
        part,
        src: PathBuf::from(format!("progs/{stem}.c")),
        out: out.join(part.dir()).join(format!("{stem}.bpf.o")),
        extra: extra
            .iter()
            .filter(|(s, _)| s == stem)
            .flat_map(|(_, f)| f.iter().cloned())
            .collect(),
    };
    let mut jobs: Vec<CompileJob> = progs
        .iter()
        .filter(|s| s.starts_with("verifier_"))
        .map(|s| job(s, Part::Selftests))
        .collect();
    let n_self = jobs.len();
    jobs.extend(
        compile::veristat_stems(&cfg, &progs)
            .iter()
            .map(|s| job(s, Part::Scale)),
    );
    let n_scale = jobs.len() - n_self;
    progress.phase(&format!(
        "compiling {n_self} verifier_*.c and {n_scale} veristat.cfg objects with {} ({} jobs)",
        CLANG.command, opts.jobs
    ));
    let outcomes = compile::compile_all(&tc, &jobs, opts.jobs, &progress);

    progress.phase("extracting the raw verifier tests (verifier/*.c) with dump_raw_tests");
    let (raw_files, raw_tests) = raw::build_raw(
        &root.join("tools"),
        &opts.corpus_dir.join("tools/dump_raw_tests.c"),
        &out.join("gen"),
        &out.join("raw"),
        &out.join("raw_btf.json"),
    )?;

    let part = |p: Part| {
        let of: Vec<&CompileOutcome> = outcomes.iter().filter(|o| o.part == p).collect();
        PartSummary {
            sources: of.len(),
            objects: of.iter().filter(|o| o.ok).count(),
            failed: of
                .iter()
                .filter(|o| !o.ok)
                .map(|o| o.name.clone())
                .collect(),
        }
    };
    let summary = BuildSummary {
        bpfproof: env!("CARGO_PKG_VERSION").to_string(),
        linux_source,
        clang: tools::clang_version(&clang),
        btf: btf_desc,
        selftests: part(Part::Selftests),
        scale: part(Part::Scale),
        raw_files,
        raw_tests,
        objects: outcomes,
        seconds: (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    };
    let manifest = out.join("manifest.json");
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|e| BuildError::Step(format!("manifest: {e}")))?;
    std::fs::write(&manifest, text + "\n").map_err(|e| BuildError::io(&manifest, e))?;
    Ok(summary)
}

impl BuildSummary {
    /// A human-readable report of the build.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let part = |name: &str, p: &PartSummary| {
            let mut t = format!(
                "{name:<10} {:>4} of {:>4} objects compiled",
                p.objects, p.sources
            );
            if !p.failed.is_empty() {
                t += &format!("; failed: {}", p.failed.join(", "));
            }
            t + "\n"
        };
        s += &format!(
            "Linux {} source, {}, vmlinux.h from {}\n",
            self.linux_source, self.clang, self.btf
        );
        s += &part("selftests", &self.selftests);
        s += &part("scale", &self.scale);
        s += &format!(
            "raw        {:>4} tests from {} verifier/*.c files\n",
            self.raw_tests, self.raw_files
        );
        for o in self.objects.iter().filter(|o| !o.adjustments.is_empty()) {
            s += &format!(
                "note: {}.bpf.o built {}\n",
                o.name,
                o.adjustments.join(", ")
            );
        }
        for o in self.objects.iter().filter(|o| !o.ok) {
            s += &format!(
                "error: {}.bpf.o: {}\n",
                o.name,
                o.error.as_deref().unwrap_or("failed")
            );
        }
        s += &format!(
            "built in {:.1} s; outputs in corpus/build/ (manifest.json)\n",
            self.seconds
        );
        s
    }
}
