//! Argument parsing and the subcommands.

use crate::glob::glob_match;
use bpfproof_analyzer::diag::codes::CODES;
use bpfproof_analyzer::engine;
use bpfproof_analyzer::object::{self, LoadError, LoadOptions, Object, btf::Btf};
use bpfproof_analyzer::platform::ProgType;
use bpfproof_reports::check::{
    CheckReport, CheckResult, Diagnostic, ErrorDetail, PathStep, Stats, Verdict,
};
use bpfproof_reports::disasm::SourceEntry;
use bpfproof_reports::{disasm, list};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// bpfproof: predicts and explains the Linux kernel verifier's verdict on
/// compiled BPF objects, offline.
#[derive(Parser)]
#[command(name = "bpfproof", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the programs and maps of each object.
    List {
        /// Objects (`.bpf.o`).
        #[arg(required = true)]
        objects: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Disassemble programs in the kernel verifier's syntax.
    Disasm {
        /// Object (`.bpf.o`).
        object: PathBuf,
        /// Interleave the C source lines from BTF line_info.
        #[arg(long)]
        source: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Print a program's control-flow graph: blocks, edges, loops, source lines.
    Cfg {
        /// Object (`.bpf.o`).
        object: PathBuf,
        /// Print Graphviz DOT instead of text.
        #[arg(long)]
        dot: bool,
        /// Apply the unprivileged rules (no loops, no calls).
        #[arg(long)]
        unprivileged: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Predict the kernel verifier's verdict on every program.
    Check {
        /// Objects (`.bpf.o`).
        #[arg(required = true)]
        objects: Vec<PathBuf>,
        /// Apply the unprivileged rules.
        #[arg(long)]
        unprivileged: bool,
        /// Kernel-style verifier log: 1 = the path to the end with register
        /// state, 2 = every instruction processed.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
        log_level: u8,
        /// Write the log here (default: standard error).
        #[arg(long)]
        log: Option<PathBuf>,
        /// Discharge the ctx and packet obligations of accepted programs
        /// with Z3 too (a refuted one is a bpfproof soundness bug).
        #[arg(long)]
        prove: bool,
        /// Parallel jobs.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Wall-clock limit per program in seconds: past it the program is
        /// `unsupported` ("unsupported: timeout after N s", exit code 3).
        #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
        timeout: Option<std::time::Duration>,
        /// SARIF: write C source paths relative to DIR (`%SRCROOT%`), as
        /// code-scanning services expect (default: the current directory).
        #[arg(long, value_name = "DIR")]
        source_root: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Load programs into the running kernel (root, Linux) and print the
    /// kernel's verdict and first error beside bpfproof's.
    Compare {
        /// Objects (`.bpf.o`).
        #[arg(required = true)]
        objects: Vec<PathBuf>,
        /// Compare with the live kernel (required: the only oracle so far).
        #[arg(long)]
        kernel: bool,
        /// Also write the kernel's outcomes as JSON lines to FILE.
        #[arg(long)]
        record: Option<PathBuf>,
        /// Load at verifier log level 2 and write each program's whole
        /// kernel log to DIR/<program>.log (for comparing with `check
        /// --log-level 2`).
        #[arg(long, value_name = "DIR")]
        kernel_log: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// bpfproof's analysis time over the corpora next to the kernel's
    /// recorded verification time of the same programs.
    Bench {
        /// Corpora: programs, selftests, scale, raw (default: all that are
        /// recorded and built).
        #[arg(long = "corpus")]
        corpora: Vec<String>,
        /// The corpus directory.
        #[arg(long, default_value = "corpus")]
        dir: PathBuf,
        /// Output format: text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// The corpus of real kernel-verifier outcomes.
    Corpus {
        #[command(subcommand)]
        command: CorpusCommand,
    },
    /// Explain a diagnostic code, list the codes, or explain a kernel
    /// verifier log.
    Explain {
        /// A code such as BPF301.
        code: Option<String>,
        /// List every code.
        #[arg(long)]
        list: bool,
        /// A kernel verifier log (libbpf, bpftool, veristat -v or the raw
        /// log buffer, any log level): find its error and explain it.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["code", "list"])]
        log: Option<PathBuf>,
        /// With --log: the object that was loaded; bpfproof re-runs its
        /// analysis to show the C line, the state and the path.
        #[arg(long, requires = "log")]
        object: Option<PathBuf>,
        /// With --object: the program the log is about (glob).
        #[arg(short = 'p', long = "program")]
        programs: Vec<String>,
        /// Colour.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
}

#[derive(Subcommand)]
enum CorpusCommand {
    /// Score bpfproof against the recorded kernel verdicts: agreement,
    /// false accepts/rejects, unsupported, message match, time.
    Run {
        /// Corpora to run: programs, selftests, scale, raw (default: all
        /// that are recorded and built).
        #[arg(long = "corpus")]
        corpora: Vec<String>,
        /// The corpus directory.
        #[arg(long, default_value = "corpus")]
        dir: PathBuf,
        /// Output format: text, json, markdown or html (a self-contained
        /// page with plots).
        #[arg(long, default_value = "text")]
        format: String,
        /// List programs: false-accepts, false-rejects, unsupported, msg-mismatch.
        #[arg(long)]
        show: Option<String>,
        /// Write the output to FILE; with `--format html` (or markdown and
        /// an existing directory) a directory receiving `index.html`
        /// (`report.md`).
        #[arg(long)]
        output: Option<PathBuf>,
        /// No progress on standard error.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Build the corpus from Debian's linux-source-6.12 (cached in
    /// $BPFPROOF_CACHE, default /var/cache/bpfproof) into corpus/build/.
    Build {
        /// Parallel clang jobs.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Delete corpus/build/ first.
        #[arg(long)]
        clean: bool,
    },
    /// Load every program of a corpus into the running kernel (root) and
    /// write `corpus/outcomes/linux-<release>/<corpus>.jsonl`.
    Record {
        /// Corpora to record: programs, selftests, scale, raw (default: all
        /// that are built).
        #[arg(long = "corpus")]
        corpora: Vec<String>,
        /// The corpus directory (default: `corpus` of the current directory).
        #[arg(long, default_value = "corpus")]
        dir: PathBuf,
        /// Print only errors.
        #[arg(short, long)]
        quiet: bool,
    },
}

#[derive(Args, Clone)]
pub(crate) struct Common {
    /// Only these programs (repeatable, glob).
    #[arg(short = 'p', long = "program")]
    pub(crate) programs: Vec<String>,
    /// Program type to use instead of the one the section name gives.
    #[arg(long = "type")]
    prog_type: Option<String>,
    /// Target kernel BTF for CO-RE (default: the bundled Linux 6.18 BTF).
    #[arg(long)]
    btf: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the output to FILE instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Colour.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Print only errors.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Json,
    Sarif,
    Csv,
    /// veristat's own CSV columns only (for `veristat -C`).
    Veristat,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

/// Runs the CLI and returns the process exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::List { objects, common } => cmd_list(&objects, &common),
        Command::Disasm {
            object,
            source,
            common,
        } => cmd_disasm(&object, source, &common),
        Command::Cfg {
            object,
            dot,
            unprivileged,
            common,
        } => cmd_cfg(&object, dot, unprivileged, &common),
        Command::Check {
            objects,
            unprivileged,
            log_level,
            log,
            prove,
            jobs: _,
            timeout,
            source_root,
            common,
        } => cmd_check(
            &objects,
            unprivileged,
            log_level,
            timeout,
            log.as_deref(),
            source_root.as_deref(),
            prove,
            &common,
        ),
        Command::Compare {
            objects,
            kernel,
            record,
            kernel_log,
            common,
        } => {
            let opts = match load_options(&common) {
                Ok(o) => o,
                Err(e) => return usage_error(&e),
            };
            let keep = keep_fn(&common);
            let json = match common.format {
                Format::Text => false,
                Format::Json => true,
                _ => return usage_error("compare supports --format text or json"),
            };
            crate::kernel_cmd::cmd_compare(&crate::kernel_cmd::CompareArgs {
                objects: &objects,
                kernel,
                record: record.as_deref(),
                kernel_log: kernel_log.as_deref(),
                opts: &opts,
                keep: &keep,
                json,
                output: common.output.as_deref(),
            })
        }
        Command::Bench {
            corpora,
            dir,
            format,
        } => match format.as_str() {
            "text" | "json" => crate::bench::cmd_bench(&corpora, &dir, format == "json"),
            _ => usage_error("bench supports --format text or json"),
        },
        Command::Corpus { command } => match command {
            CorpusCommand::Build { jobs, clean } => cmd_corpus_build(jobs, clean),
            CorpusCommand::Run {
                corpora,
                dir,
                format,
                show,
                output,
                quiet,
            } => crate::corpus_run::cmd_corpus_run(
                &corpora,
                &dir,
                &format,
                show.as_deref(),
                output.as_deref(),
                quiet,
            ),
            CorpusCommand::Record {
                corpora,
                dir,
                quiet,
            } => crate::kernel_cmd::cmd_corpus_record(&corpora, &dir, quiet),
        },
        Command::Explain {
            code,
            list,
            log: Some(log),
            object,
            programs,
            color,
        } => {
            let _ = (code, list);
            let common = Common {
                programs,
                prog_type: None,
                btf: None,
                format: Format::Text,
                output: None,
                color,
                quiet: false,
            };
            crate::explain_log::cmd_explain_log(&log, object.as_deref(), &common)
        }
        Command::Explain {
            code, list, color, ..
        } => cmd_explain(code.as_deref(), list, color),
    }
}

pub(crate) fn usage_error(msg: &str) -> i32 {
    // `BPF9xx: text` carries an input-error code: `error[BPF9xx]: text`.
    match msg.split_once(": ") {
        Some((code, rest)) if code.len() == 6 && code.starts_with("BPF9") => {
            eprintln!("error[{code}]: {rest}")
        }
        _ => eprintln!("error: {msg}"),
    }
    2
}

pub(crate) fn load_options(common: &Common) -> Result<LoadOptions, String> {
    let mut opts = LoadOptions::default();
    if let Some(t) = &common.prog_type {
        let pt = ProgType::from_name(t).ok_or_else(|| format!("unknown program type '{t}'"))?;
        opts.prog_type_override = Some(pt);
    }
    if let Some(path) = &common.btf {
        let data = std::fs::read(path)
            .map_err(|e| format!("BPF913: cannot read {}: {e}", path.display()))?;
        let btf = Btf::parse(&data).map_err(|e| format!("BPF913: {}: {e}", path.display()))?;
        opts.target_btf = Some(Arc::new(btf));
    }
    Ok(opts)
}

pub(crate) fn keep_fn(common: &Common) -> impl Fn(&str) -> bool + '_ {
    move |name: &str| {
        common.programs.is_empty() || common.programs.iter().any(|p| glob_match(p, name))
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so an
/// interrupted run never leaves a half-written file.
pub(crate) fn write_atomic(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = match dir {
        Some(d) => d.join(format!(".{name}.tmp{}", std::process::id())),
        None => std::path::PathBuf::from(format!(".{name}.tmp{}", std::process::id())),
    };
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn emit(common: &Common, text: &str) -> i32 {
    match &common.output {
        Some(path) => match write_atomic(path, text) {
            Ok(()) => 0,
            Err(e) => usage_error(&format!("cannot write {}: {e}", path.display())),
        },
        None => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .is_err()
            {
                return 2;
            }
            0
        }
    }
}

/// `--color`: `auto` colours a terminal on standard output unless
/// `NO_COLOR` is set.
pub(crate) fn use_color(common: &Common) -> bool {
    use std::io::IsTerminal;
    match common.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            common.output.is_none()
                && std::env::var_os("NO_COLOR").is_none()
                && std::io::stdout().is_terminal()
        }
    }
}

fn unsupported_format(common: &Common, what: &str) -> Option<i32> {
    match common.format {
        Format::Text | Format::Json => None,
        _ => Some(usage_error(&format!(
            "{what} supports --format text or json"
        ))),
    }
}

pub(crate) fn load(path: &std::path::Path, opts: &LoadOptions) -> Result<Object, LoadError> {
    object::load_file(path, opts)
}

fn cmd_list(objects: &[PathBuf], common: &Common) -> i32 {
    if let Some(c) = unsupported_format(common, "list") {
        return c;
    }
    let opts = match load_options(common) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let keep = keep_fn(common);
    let mut report = list::ListReport {
        objects: Vec::new(),
    };
    let mut failed = false;
    for path in objects {
        let name = path.display().to_string();
        match load(path, &opts) {
            Ok(obj) => report.objects.push(list::object_entry(&name, &obj, &keep)),
            Err(e) => {
                failed = true;
                report.objects.push(list::error_entry(&name, &e));
            }
        }
    }
    let text = match common.format {
        Format::Json => serde_json::to_string_pretty(&report).expect("serialisable") + "\n",
        _ => list::render_text(&report),
    };
    let rc = emit(common, &text);
    if failed { 2 } else { rc }
}

fn cmd_disasm(path: &std::path::Path, source: bool, common: &Common) -> i32 {
    if let Some(c) = unsupported_format(common, "disasm") {
        return c;
    }
    let opts = match load_options(common) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let name = path.display().to_string();
    let obj = match load(path, &opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{name}: error[{}]: {}", e.code, e.message);
            return 2;
        }
    };
    let keep = keep_fn(common);
    let progs: Vec<_> = obj.programs.iter().filter(|p| keep(&p.name)).collect();
    if progs.is_empty() {
        eprintln!(
            "{name}: error[BPF911]: no program matches {:?}",
            common.programs
        );
        return 2;
    }
    let mut text = String::new();
    let mut docs = Vec::new();
    for p in progs {
        let d = disasm::disasm_program(&name, &obj, p);
        if common.format == Format::Text {
            if !text.is_empty() {
                text.push('\n');
            }
            text += &disasm::render_text(&d, p, source);
            if let Some(e) = &p.load_error {
                text += &format!("  error[{}]: {}\n", e.code, e.message);
            }
        }
        docs.push(d);
    }
    if common.format == Format::Json {
        text = serde_json::to_string_pretty(&serde_json::json!({ "programs": docs }))
            .expect("json")
            + "\n";
    }
    emit(common, &text)
}

/// A positive number of seconds (`--timeout`).
fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v < 1e9 => Ok(std::time::Duration::from_secs_f64(v)),
        _ => Err(format!("'{s}' is not a positive number of seconds")),
    }
}

/// An error result for a whole object (unreadable, or no program selected).
fn object_error(object: String, code: String, message: String) -> CheckResult {
    CheckResult {
        object,
        section: None,
        program: None,
        prog_type: None,
        verdict: Verdict::Error,
        error: Some(ErrorDetail {
            code,
            message,
            insn: None,
            source: None,
            disasm: None,
            more: Vec::new(),
        }),
        diagnostics: Vec::new(),
        stats: Stats::default(),
        prove: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_check(
    objects: &[PathBuf],
    unprivileged: bool,
    log_level: u8,
    timeout: Option<std::time::Duration>,
    log_path: Option<&std::path::Path>,
    source_root: Option<&std::path::Path>,
    prove: bool,
    common: &Common,
) -> i32 {
    let opts = match load_options(common) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let check_opts = engine::CheckOptions {
        unprivileged,
        log_level,
        collect_proved: prove,
        timeout,
        ..Default::default()
    };
    let mut log_text = String::new();
    let keep = keep_fn(common);
    let mut report = CheckReport::new();
    for path in objects {
        let name = path.display().to_string();
        let obj = match load(path, &opts) {
            Ok(o) => o,
            Err(e) => {
                report
                    .results
                    .push(object_error(name, e.code.into(), e.message));
                continue;
            }
        };
        if !obj.programs.iter().any(|p| keep(&p.name)) {
            // Nothing is silently skipped: a -p that matches nothing is an error.
            report.results.push(object_error(
                name,
                "BPF911".into(),
                format!("no program matches {:?}", common.programs),
            ));
            continue;
        }
        for p in obj.programs.iter().filter(|p| keep(&p.name)) {
            let out = engine::check_program(&obj, p, &check_opts);
            let further = engine::further_errors(&obj, p, &check_opts, &out);
            if let Some(l) = &out.log {
                log_text.push_str(&format!("# {}: {}\n{l}\n", name, p.name));
            }
            let prove_summary = (prove && out.verdict == engine::Verdict::Accept).then(|| {
                let s = bpfproof_analyzer::proof::prove_accepted(&obj, p, &out);
                for r in &s.refuted {
                    eprintln!("bpfproof: INTERNAL SOUNDNESS BUG: {name}: {}: {r}", p.name);
                }
                serde_json::to_value(&s).unwrap_or_default()
            });
            let mut res = check_result(&name, &obj, p, out, further);
            res.prove = prove_summary;
            report.results.push(res);
        }
    }
    if log_level > 0 {
        match log_path {
            Some(path) => {
                if let Err(e) = write_atomic(path, &log_text) {
                    return usage_error(&format!("cannot write {}: {e}", path.display()));
                }
            }
            None => eprint!("{log_text}"),
        }
    }
    let text = match common.format {
        Format::Json => serde_json::to_string_pretty(&report).expect("json") + "\n",
        Format::Sarif => bpfproof_reports::sarif::render_sarif(
            &report,
            &bpfproof_reports::sarif::SarifOptions {
                source_root: source_root.map(|p| p.to_path_buf()),
                ..Default::default()
            },
        ),
        Format::Csv => bpfproof_reports::csv::render_csv(&report),
        Format::Veristat => bpfproof_reports::csv::render_veristat(&report),
        Format::Text => bpfproof_reports::check_text::render(&report, use_color(common)),
    };
    let rc = emit(common, &text);
    if rc != 0 { rc } else { report.exit_code() }
}

/// One program's `check` result from the engine's outcome.
pub(crate) fn check_result(
    name: &str,
    obj: &Object,
    p: &bpfproof_analyzer::object::Program,
    out: engine::Outcome,
    further: Vec<(engine::Finding, engine::Failure)>,
) -> CheckResult {
    let verdict = match out.verdict {
        engine::Verdict::Accept => Verdict::Accept,
        engine::Verdict::Reject => Verdict::Reject,
        engine::Verdict::Unsupported => Verdict::Unsupported,
        engine::Verdict::Error => Verdict::Error,
    };
    let names = bpfproof_reports::disasm::ObjectNames { obj, prog: p };
    let detail_of = |f: engine::Finding| ErrorDetail {
        code: f.code.to_string(),
        message: f.message,
        disasm: f
            .insn
            .filter(|&i| i < p.insns.len())
            .map(|i| bpfproof_analyzer::isa::print_bpf_insn(&names, &p.insns, i)),
        more: f.more,
        insn: f.insn,
        source: f.insn.and_then(|i| p.line_for(i)).map(|l| SourceEntry {
            file: l.file.clone(),
            line: l.line,
            column: l.col,
            text: l.text.clone(),
        }),
    };
    // The proof layer on the kernel's first error: a counterexample, or a
    // kernel imprecision; its notes and help come first.
    let first_proof = out
        .failure
        .as_ref()
        .map(|_| bpfproof_analyzer::proof::explain_failure(obj, p, &out));
    let diagnostic = |detail: &ErrorDetail,
                      fail: &engine::Failure,
                      mut notes: Vec<String>,
                      proof: Option<&bpfproof_analyzer::proof::ProofResult>| {
        let mut help = None;
        let mut counterexample = None;
        let mut proof_json = None;
        if let Some(pr) = proof {
            let (pn, ph) = bpfproof_analyzer::proof::notes(&pr.proof);
            help = ph;
            if let bpfproof_analyzer::proof::Proof::Counterexample(c) = &pr.proof {
                // Rendered from `counterexample` itself, not as a note too.
                counterexample = Some(c.text.clone());
            } else {
                notes.splice(0..0, pn);
            }
            if !matches!(pr.proof, bpfproof_analyzer::proof::Proof::NotMemory) {
                proof_json = serde_json::to_value(pr).ok();
            }
        }
        Diagnostic {
            severity: "error",
            detail: detail.clone(),
            notes,
            help: help.or_else(|| {
                bpfproof_analyzer::diag::help::help(&detail.code, &detail.message)
                    .map(str::to_string)
            }),
            access: fail
                .obligation
                .as_ref()
                .map(bpfproof_reports::check_text::describe_access),
            state: Some(fail.state.clone()),
            path: fail
                .path
                .iter()
                .map(|&(insn, taken)| PathStep {
                    insn,
                    taken,
                    line: p.line_for(insn).map(|l| l.line),
                    file: p.line_for(insn).map(|l| l.file.clone()),
                    text: p.line_for(insn).map(|l| l.text.clone()),
                })
                .collect(),
            obligation: fail
                .obligation
                .as_ref()
                .and_then(|o| serde_json::to_value(o).ok()),
            counterexample,
            proof: proof_json,
        }
    };
    let error = out.finding.clone().map(detail_of);
    let mut diagnostics = Vec::new();
    if let (Some(detail), Some(fail)) = (&error, &out.failure) {
        diagnostics.push(diagnostic(detail, fail, Vec::new(), first_proof.as_ref()));
    }
    let n = further.len();
    for (k, (f, fail)) in further.into_iter().enumerate() {
        let note = format!(
            "further error {} of {n}: the kernel stops at its first error; bpfproof went on \
             exploring the other paths and met this one too",
            k + 1
        );
        diagnostics.push(diagnostic(&detail_of(f), &fail, vec![note], None));
    }
    CheckResult {
        object: name.to_string(),
        section: Some(p.section.clone()),
        program: Some(p.name.clone()),
        prog_type: p.prog_type.map(|t| t.name().to_string()),
        verdict,
        error,
        diagnostics,
        stats: Stats {
            insns: p.insns.len(),
            insns_processed: out.stats.insns_processed,
            states: out.stats.total_states,
            peak_states: out.stats.peak_states,
            time_us: out.stats.time_us,
        },
        prove: None,
    }
}

fn cmd_explain(code: Option<&str>, list: bool, color: Color) -> i32 {
    if list || code.is_none() {
        for c in CODES {
            println!("{}  {:<22} {}", c.code, c.name, c.summary);
        }
        return 0;
    }
    let code = code.unwrap_or_default().to_ascii_uppercase();
    match CODES.iter().find(|c| c.code == code) {
        Some(c) => {
            let page = bpfproof_analyzer::diag::pages::page(c.code).unwrap_or(c.summary);
            let common = Common {
                programs: Vec::new(),
                prog_type: None,
                btf: None,
                format: Format::Text,
                output: None,
                color,
                quiet: false,
            };
            print!(
                "{}",
                crate::explain_log::markdown_for_terminal(page, use_color(&common))
            );
            0
        }
        None => usage_error(&format!(
            "unknown code '{code}'; `bpfproof explain --list` lists them"
        )),
    }
}

fn cmd_cfg(path: &std::path::Path, dot: bool, unprivileged: bool, common: &Common) -> i32 {
    use bpfproof_analyzer::cfg::{CfgOptions, analyze, bpf_find_exception_callback_insn_off};
    if common.format != Format::Text {
        return usage_error("cfg supports --format text (and --dot)");
    }
    let opts = match load_options(common) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let name = path.display().to_string();
    let obj = match load(path, &opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{name}: error[{}]: {}", e.code, e.message);
            return 2;
        }
    };
    let keep = keep_fn(common);
    let progs: Vec<_> = obj.programs.iter().filter(|p| keep(&p.name)).collect();
    if progs.is_empty() {
        eprintln!(
            "{name}: error[BPF911]: no program matches {:?}",
            common.programs
        );
        return 2;
    }
    let mut text = String::new();
    let mut rejected = false;
    for p in progs {
        let mut copts = CfgOptions {
            bpf_capable: !unprivileged,
            ..CfgOptions::default()
        };
        if let Some(btf) = &obj.btf {
            match bpf_find_exception_callback_insn_off(btf, &p.func_info) {
                Ok(off) => copts.exception_callback = Some(off),
                Err(e) => {
                    rejected = true;
                    eprintln!("{name}: {}: error: {}", p.name, e.message);
                }
            }
        }
        let info = analyze(p, &copts);
        rejected |= info.error.is_some();
        if !text.is_empty() {
            text.push('\n');
        }
        text += &if dot {
            bpfproof_reports::cfg::render_dot(&obj, p, &info)
        } else {
            bpfproof_reports::cfg::render_text(&name, &obj, p, &info)
        };
    }
    let rc = emit(common, &text);
    if rc != 0 {
        rc
    } else if rejected {
        1
    } else {
        0
    }
}

fn cmd_corpus_build(jobs: usize, clean: bool) -> i32 {
    use bpfproof_corpus::build::{BuildOptions, build};
    let opts = BuildOptions {
        jobs: jobs.max(1),
        clean,
        ..BuildOptions::default()
    };
    match build(&opts) {
        Ok(summary) => {
            print!("{}", summary.render_text());
            let failed = summary.selftests.objects < summary.selftests.sources
                || summary.scale.objects < summary.scale.sources;
            if failed { 1 } else { 0 }
        }
        Err(e) => {
            eprintln!("error: corpus build: {e}");
            2
        }
    }
}
