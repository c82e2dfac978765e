//! `bpfproof explain --log FILE [--object OBJ -p NAME]`: finds the error in
//! a real kernel verifier log, maps it to a code and prints the
//! explanation; with the object, re-runs the analysis and shows the C line,
//! the state and the path where bpfproof finds the error.

use crate::cli::{Common, keep_fn, load, load_options, usage_error, use_color};
use bpfproof_analyzer::diag::{code_info, help::help, kernel_log::find_error, pages};
use bpfproof_analyzer::engine;
use bpfproof_reports::check::{CheckReport, Verdict};
use std::fmt::Write;
use std::path::Path;

/// Runs the command; exit code 1 when the log shows a rejection, 0 when it
/// shows none, 2 on bad input.
pub fn cmd_explain_log(log_path: &Path, object: Option<&Path>, common: &Common) -> i32 {
    let log = match std::fs::read(log_path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => return usage_error(&format!("cannot read {}: {e}", log_path.display())),
    };
    let color = use_color(common);
    let mut out = String::new();
    let found = find_error(&log);
    let Some(err) = &found else {
        println!(
            "{}: no verifier error in this log (the program was accepted, or the log is empty)",
            log_path.display()
        );
        return 0;
    };
    let code = err.code.unwrap_or("BPF???");
    let _ = writeln!(
        out,
        "{}:{}: error[{code}]: {}",
        log_path.display(),
        err.log_line,
        err.message
    );
    if let Some(i) = err.insn {
        let _ = writeln!(out, "  = the last instruction the log shows is insn {i}");
    }
    match err.code.and_then(code_info) {
        Some(info) => {
            let page = pages::page(info.code).unwrap_or("");
            let _ = writeln!(out, "  = {}: {}", info.name, pages::title(page));
            if let Some(s) = pages::section(page, "What the verifier could not prove") {
                let _ = writeln!(out, "\nWhat the verifier could not prove:\n{}", indent(s));
            }
            if let Some(s) = pages::section(page, "Why it rejects it") {
                let _ = writeln!(out, "\nWhy it rejects it:\n{}", indent(s));
            }
            if let Some(h) = help(info.code, &err.message) {
                let _ = writeln!(out, "\nhelp: {h}");
            }
            let _ = writeln!(
                out,
                "note: `bpfproof explain {}` shows a failing example and its fix",
                info.code
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  = bpfproof does not know this message yet; `bpfproof explain --list` lists the codes"
            );
        }
    }
    if let Some(obj_path) = object {
        match reanalyse(obj_path, common, err.message.as_str(), color) {
            Ok(text) => out.push_str(&text),
            Err(rc) => {
                print!("{out}");
                return rc;
            }
        }
    }
    print!("{out}");
    1
}

/// Re-runs `check` on the program(s) of the object and renders them, with
/// a line saying whether bpfproof finds the same error.
fn reanalyse(
    obj_path: &Path,
    common: &Common,
    kernel_msg: &str,
    color: bool,
) -> Result<String, i32> {
    let opts = load_options(common).map_err(|e| usage_error(&e))?;
    let name = obj_path.display().to_string();
    let obj = load(obj_path, &opts).map_err(|e| {
        eprintln!("{name}: error[{}]: {}", e.code, e.message);
        2
    })?;
    let keep = keep_fn(common);
    let progs: Vec<_> = obj.programs.iter().filter(|p| keep(&p.name)).collect();
    if progs.is_empty() {
        eprintln!(
            "{name}: error[BPF911]: no program matches {:?}",
            common.programs
        );
        return Err(2);
    }
    if progs.len() > 1 && common.programs.is_empty() {
        eprintln!(
            "{name}: {} programs; name the one the log is about with -p ({})",
            progs.len(),
            progs
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Err(2);
    }
    let mut report = CheckReport::new();
    for p in progs {
        let opts = engine::CheckOptions::default();
        let outcome = engine::check_program(&obj, p, &opts);
        let further = engine::further_errors(&obj, p, &opts, &outcome);
        report
            .results
            .push(crate::cli::check_result(&name, &obj, p, outcome, further));
    }
    let mut out = String::from("\nbpfproof's analysis of the object:\n");
    for r in &report.results {
        let same = r.error.as_ref().is_some_and(|e| {
            bpfproof_corpus::score::normalize_numbers(&e.message)
                == bpfproof_corpus::score::normalize_numbers(kernel_msg)
        });
        let _ = writeln!(
            out,
            "  {}: {}",
            r.program.as_deref().unwrap_or("?"),
            match (r.verdict, same) {
                (Verdict::Reject, true) => "bpfproof finds the same error".to_string(),
                (Verdict::Reject, false) => format!(
                    "bpfproof rejects with a different first error: {}",
                    r.error.as_ref().map(|e| e.message.as_str()).unwrap_or("")
                ),
                (v, _) => format!("bpfproof's verdict is {}", v.as_str()),
            }
        );
    }
    out.push('\n');
    out.push_str(&bpfproof_reports::check_text::render(&report, color));
    Ok(out)
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}\n"))
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// A Markdown page for the terminal: as is, with headings in bold when
/// `color`.
pub fn markdown_for_terminal(page: &str, color: bool) -> String {
    if !color {
        return page.to_string();
    }
    let mut out = String::new();
    for l in page.lines() {
        if l.starts_with('#') {
            let _ = writeln!(out, "\x1b[1m{l}\x1b[0m");
        } else {
            let _ = writeln!(out, "{l}");
        }
    }
    out
}
