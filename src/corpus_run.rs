//! `bpfproof corpus run`.

use bpfproof_corpus::record::CORPORA;
use bpfproof_corpus::score::{RunReport, render_table, run_corpus, unsupported_reasons};
use bpfproof_reports::corpus_report::{render_html, render_markdown};
use std::io::Write;
use std::path::Path;

/// The corpora `--corpus` names (all of them when none), or `None` after
/// saying which name is unknown.
pub fn selected_corpora(corpora: &[String]) -> Option<Vec<String>> {
    if let Some(bad) = corpora.iter().find(|n| !CORPORA.contains(&n.as_str())) {
        eprintln!(
            "error: unknown corpus '{bad}' (one of {})",
            CORPORA.join(", ")
        );
        return None;
    }
    Some(if corpora.is_empty() {
        CORPORA.iter().map(|s| s.to_string()).collect()
    } else {
        corpora.to_vec()
    })
}

/// Runs the scoring and prints it; exit code 2 on bad usage, 1 when a
/// false accept was found, else 0.
pub fn cmd_corpus_run(
    corpora: &[String],
    dir: &Path,
    format: &str,
    show: Option<&str>,
    output: Option<&Path>,
    quiet: bool,
) -> i32 {
    if !matches!(format, "text" | "json" | "markdown" | "html") {
        eprintln!("error: --format must be text, json, markdown or html");
        return 2;
    }
    if let Some(s) = show
        && !matches!(
            s,
            "false-accepts" | "false-rejects" | "unsupported" | "msg-mismatch"
        )
    {
        eprintln!("error: --show takes false-accepts, false-rejects, unsupported or msg-mismatch");
        return 2;
    }
    let Some(names) = selected_corpora(corpora) else {
        return 2;
    };
    let mut report = RunReport::default();
    for name in &names {
        let mut last = 0;
        let mut progress = |done: usize, total: usize| {
            if !quiet && total > 0 && (done * 10 / total > last || done == total) {
                last = done * 10 / total;
                eprintln!("{name}: {done}/{total}");
            }
        };
        match run_corpus(dir, name, &mut progress) {
            Ok(Some((summary, results))) => {
                report.corpora.push(summary);
                report.results.extend(results);
            }
            Ok(None) => {
                if !quiet {
                    eprintln!(
                        "{name}: SKIPPED (no recording, or not built: `bpfproof corpus build`)"
                    );
                }
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return 2;
            }
        }
    }
    let mut text = match format {
        "json" => serde_json::to_string_pretty(&report).expect("json") + "\n",
        "markdown" if show.is_none() => render_markdown(&report),
        "markdown" => render_table(&report, true),
        "html" => render_html(&report),
        _ => render_table(&report, false),
    };
    if format == "text" || (format == "markdown" && show.is_some()) {
        if let Some(s) = show {
            for r in &report.results {
                let hit = match s {
                    "false-accepts" => r.bpfproof == "accept" && r.kernel == "reject",
                    "false-rejects" => r.bpfproof == "reject" && r.kernel == "accept",
                    "unsupported" => r.bpfproof == "unsupported",
                    _ => r.msg_match == Some(false),
                };
                if hit {
                    text += &format!(
                        "\n{} {} {}\n  kernel:   {} {}\n  bpfproof: {} {}\n",
                        r.corpus,
                        r.object,
                        r.program,
                        r.kernel,
                        r.kernel_message.as_deref().unwrap_or(""),
                        r.bpfproof,
                        r.bpfproof_message.as_deref().unwrap_or("")
                    );
                    if !r.expected_messages.is_empty() {
                        text += &format!("  expected: {:?}\n", r.expected_messages);
                    }
                }
            }
        } else {
            let reasons = unsupported_reasons(&report.results);
            if !reasons.is_empty() {
                text += "\nmost common reasons for unsupported:\n";
                for (why, n) in reasons.iter().take(10) {
                    text += &format!("  {n:>5}  {why}\n");
                }
            }
        }
    }
    match output {
        Some(p) => {
            // html: DIR/index.html; markdown into an existing directory:
            // DIR/report.md; else the file itself. Written atomically.
            let file = match format {
                "html" => {
                    if let Err(e) = std::fs::create_dir_all(p) {
                        eprintln!("error: cannot create {}: {e}", p.display());
                        return 2;
                    }
                    p.join("index.html")
                }
                "markdown" if p.is_dir() => p.join("report.md"),
                _ => p.to_path_buf(),
            };
            if let Err(e) = crate::cli::write_atomic(&file, &text) {
                eprintln!("error: cannot write {}: {e}", file.display());
                return 2;
            }
            if !quiet {
                eprintln!("wrote {}", file.display());
            }
        }
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    if report.corpora.iter().any(|c| c.false_accepts > 0) {
        1
    } else {
        0
    }
}
