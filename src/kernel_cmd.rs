//! `bpfproof compare --kernel` and `bpfproof corpus record`: the live
//! kernel as the oracle (root, Linux).

use bpfproof_analyzer::engine;
use bpfproof_analyzer::object::{self, LoadOptions};
use bpfproof_corpus::kernel::{self, KernelObject, LoadSpec, sys::Errno};
use bpfproof_corpus::record::{self, Record};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Arguments of `compare`.
pub struct CompareArgs<'a> {
    pub objects: &'a [PathBuf],
    pub kernel: bool,
    pub record: Option<&'a Path>,
    pub kernel_log: Option<&'a Path>,
    pub opts: &'a LoadOptions,
    pub keep: &'a dyn Fn(&str) -> bool,
    pub json: bool,
    pub output: Option<&'a Path>,
}

#[derive(Serialize)]
struct Row {
    object: String,
    program: String,
    section: String,
    prog_type: Option<String>,
    bpfproof: String,
    bpfproof_message: Option<String>,
    kernel: String,
    kernel_errno: Option<String>,
    kernel_message: Option<String>,
    kernel_insns_processed: Option<u64>,
    kernel_time_us: Option<u64>,
}

fn bpfproof_verdict(v: engine::Verdict) -> &'static str {
    match v {
        engine::Verdict::Accept => "accept",
        engine::Verdict::Reject => "reject",
        engine::Verdict::Unsupported => "unsupported",
        engine::Verdict::Error => "error",
    }
}

pub fn cmd_compare(a: &CompareArgs<'_>) -> i32 {
    if !a.kernel {
        eprintln!(
            "error: compare needs --kernel (the running kernel is the only oracle bpfproof compares with)"
        );
        return 2;
    }
    if let Err(e) = kernel::available() {
        eprintln!("error: {e}");
        return 2;
    }
    let mut rows = Vec::new();
    let mut records = Vec::new();
    let mut failed = false;
    for path in a.objects {
        let name = path.display().to_string();
        let file = path
            .file_name()
            .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
        let obj = match object::load_file(path, a.opts) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{name}: error[{}]: {}", e.code, e.message);
                failed = true;
                continue;
            }
        };
        let ko = match KernelObject::open_with(path, a.opts) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
                continue;
            }
        };
        for (i, p) in obj.programs.iter().enumerate() {
            if !(a.keep)(&p.name) {
                continue;
            }
            let ours = engine::check_program(&obj, p, &engine::CheckOptions::default());
            let spec = LoadSpec {
                log_level: if a.kernel_log.is_some() { 2 } else { 1 },
                ..LoadSpec::default()
            };
            let k = ko.load_program(i, &spec);
            if let (Some(dir), Some(log)) = (a.kernel_log, &k.log) {
                let path = dir.join(format!("{}.log", p.name));
                if let Err(e) =
                    std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, log))
                {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    failed = true;
                }
            }
            let prog_type = p.prog_type.map(|t| t.name().to_string());
            records.push(Record::new(
                &file,
                &p.name,
                &p.section,
                prog_type.clone(),
                "",
                &k,
            ));
            rows.push(Row {
                object: name.clone(),
                program: p.name.clone(),
                section: p.section.clone(),
                prog_type,
                bpfproof: bpfproof_verdict(ours.verdict).to_string(),
                bpfproof_message: ours.finding.map(|f| f.message),
                kernel: k.verdict().as_str().to_string(),
                kernel_errno: k.errno.map(|e| Errno(e).name()),
                kernel_message: k.first_error.clone(),
                kernel_insns_processed: k.stats.insns_processed,
                kernel_time_us: k.stats.verification_time_us,
            });
        }
    }
    if let Some(path) = a.record {
        let h = record::header_now("compare", record::LOADER);
        if let Err(e) = record::write(path, &h, &records) {
            eprintln!("error: {e}");
            return 2;
        }
    }
    let text = if a.json {
        serde_json::to_string_pretty(&serde_json::json!({ "results": rows })).unwrap_or_default()
            + "\n"
    } else {
        render_text(&rows)
    };
    let rc = match a.output {
        Some(p) => match crate::cli::write_atomic(p, &text) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", p.display());
                2
            }
        },
        None => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .is_err()
            {
                2
            } else {
                0
            }
        }
    };
    if failed { 2 } else { rc }
}

fn render_text(rows: &[Row]) -> String {
    let mut s = String::new();
    let (mut agree, mut differ, mut unsupported, mut not_run) = (0, 0, 0, 0);
    for r in rows {
        s += &format!("{} {} ({})\n", r.object, r.program, r.section);
        s += &format!(
            "  bpfproof: {:<11} {}\n",
            r.bpfproof,
            r.bpfproof_message.as_deref().unwrap_or("")
        );
        let mut extra = Vec::new();
        if let Some(e) = &r.kernel_errno {
            extra.push(e.clone());
        }
        if let Some(n) = r.kernel_insns_processed {
            extra.push(format!("{n} insns processed"));
        }
        if let Some(t) = r.kernel_time_us {
            extra.push(format!("{t} us"));
        }
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!("  [{}]", extra.join(", "))
        };
        s += &format!(
            "  kernel:   {:<11} {}{}\n",
            r.kernel,
            r.kernel_message.as_deref().unwrap_or(""),
            extra
        );
        match (r.bpfproof.as_str(), r.kernel.as_str()) {
            (_, "not-run") => not_run += 1,
            ("unsupported" | "error", _) => unsupported += 1,
            (b, k) if b == k => agree += 1,
            _ => differ += 1,
        }
    }
    s += &format!(
        "\n{} programs: {agree} agree, {differ} differ, {unsupported} unsupported by bpfproof, {not_run} not run by the kernel\n",
        rows.len()
    );
    s
}

pub fn cmd_corpus_record(corpora: &[String], dir: &Path, quiet: bool) -> i32 {
    if let Err(e) = kernel::available() {
        eprintln!("error: {e}");
        return 2;
    }
    let names: Vec<String> = if corpora.is_empty() {
        record::CORPORA.iter().map(|s| s.to_string()).collect()
    } else {
        corpora.to_vec()
    };
    let release = kernel::kernel_release();
    let mut rc = 0;
    for name in &names {
        let start = std::time::Instant::now();
        let tty = std::io::stderr().is_terminal();
        let mut progress = |done: usize, total: usize, obj: &Path| {
            if !quiet && tty {
                eprint!(
                    "\r\x1b[K{name}: [{done}/{total}] {}",
                    obj.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                );
            }
        };
        let records = match record::record_corpus(dir, name, &mut progress) {
            Ok(Some(r)) => r,
            Ok(None) => {
                if !quiet {
                    eprintln!("{name}: not built, skipped (run `bpfproof corpus build`)");
                }
                continue;
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                rc = 2;
                continue;
            }
        };
        if !quiet && tty {
            eprintln!();
        }
        let path = record::outcome_path(dir, &release, name);
        let h = record::header_now(name, record::LOADER);
        if let Err(e) = record::write(&path, &h, &records) {
            eprintln!("error: {e}");
            rc = 2;
            continue;
        }
        let (acc, rej, nr) = record::counts(&records);
        println!(
            "{name}: {} programs: {acc} accepted, {rej} rejected, {nr} not run ({:.1} s) -> {}",
            records.len(),
            start.elapsed().as_secs_f64(),
            path.display()
        );
    }
    rc
}
