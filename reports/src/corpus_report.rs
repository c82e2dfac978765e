//! The report of `bpfproof corpus run`: its model (the `--format json`
//! shape of CLI.md) and its renderings: the text and Markdown tables, and a
//! self-contained HTML page with SVG plots drawn here (no scripts, no
//! network fetches).
//!
//! The model lives here rather than in `bpfproof-corpus` (which computes it
//! and re-exports it from `score`) so that the renderers of every format
//! sit in one crate.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// One program's comparison (`corpus run --format json`, `results`).
#[derive(Clone, Debug, Serialize)]
pub struct ProgramResult {
    /// Corpus name.
    pub corpus: String,
    /// Object file name.
    pub object: String,
    /// Program name.
    pub program: String,
    /// Program type (`xdp`, `kprobe`, ...), when the recording knows it.
    pub prog_type: Option<String>,
    /// Recorded live verdict: `accept`, `reject`, `not-run`.
    pub kernel: String,
    /// The annotation's verdict, when there is one.
    pub expected: Option<String>,
    /// bpfproof's verdict.
    pub bpfproof: String,
    /// The kernel's first error line.
    pub kernel_message: Option<String>,
    /// bpfproof's first error line (or unsupported reason).
    pub bpfproof_message: Option<String>,
    /// bpfproof's diagnostic code of that first error (`BPFxxx`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpfproof_code: Option<String>,
    /// Messages the test expects in the log (`__msg`, `errstr`, or the
    /// kernel's first error for recorded programs).
    pub expected_messages: Vec<String>,
    /// Whether they were found in bpfproof's log (`None` when not applicable).
    pub msg_match: Option<bool>,
    /// Kernel `insns_processed`.
    pub kernel_insns_processed: Option<u64>,
    /// bpfproof `insns_processed`.
    pub bpfproof_insns_processed: Option<u64>,
    /// Kernel verification time (µs).
    pub kernel_time_us: Option<u64>,
    /// bpfproof analysis time (µs).
    pub bpfproof_time_us: u64,
}

/// One corpus's table row (`corpus run --format json`, `corpora`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct CorpusSummary {
    /// Corpus name.
    pub name: String,
    /// Programs recorded.
    pub programs: usize,
    /// Kernel verdict accept/reject and ours equal.
    pub agree: usize,
    /// Kernel rejects, bpfproof accepts.
    pub false_accepts: usize,
    /// Kernel accepts, bpfproof rejects.
    pub false_rejects: usize,
    /// bpfproof said unsupported.
    pub unsupported: usize,
    /// bpfproof could not load the program.
    pub errors: usize,
    /// The kernel did not verify it (EPERM, missing input).
    pub not_run: usize,
    /// Rejected programs with expected messages.
    pub msg_expected: usize,
    /// Of those, the ones whose messages bpfproof's log contains.
    pub msg_match: usize,
    /// Total bpfproof time (µs).
    pub bpfproof_time_us: u64,
    /// Total recorded kernel verification time (µs) of the same programs.
    pub kernel_time_us: u64,
}

/// The whole run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunReport {
    /// One row per corpus.
    pub corpora: Vec<CorpusSummary>,
    /// Every program.
    pub results: Vec<ProgramResult>,
}

/// Renders the table as text (`markdown: false`) or a Markdown table.
pub fn render_table(report: &RunReport, markdown: bool) -> String {
    let head = [
        "corpus",
        "programs",
        "agree",
        "false accepts",
        "false rejects",
        "unsupported",
        "errors",
        "not run",
        "msg match",
        "bpfproof ms",
        "kernel ms",
    ];
    let rows: Vec<Vec<String>> = report
        .corpora
        .iter()
        .map(|c| {
            let measured = c.programs - c.not_run;
            vec![
                c.name.clone(),
                c.programs.to_string(),
                format!("{} ({:.1}%)", c.agree, pct(c.agree, measured)),
                c.false_accepts.to_string(),
                c.false_rejects.to_string(),
                c.unsupported.to_string(),
                c.errors.to_string(),
                c.not_run.to_string(),
                format!("{}/{}", c.msg_match, c.msg_expected),
                format!("{:.1}", c.bpfproof_time_us as f64 / 1000.0),
                format!("{:.1}", c.kernel_time_us as f64 / 1000.0),
            ]
        })
        .collect();
    let mut out = String::new();
    if markdown {
        out += &format!("| {} |\n", head.join(" | "));
        out += &format!("|{}\n", "---|".repeat(head.len()));
        for r in rows {
            out += &format!("| {} |\n", r.join(" | "));
        }
    } else {
        let widths: Vec<usize> = (0..head.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].len())
                    .chain([head[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                + "\n"
        };
        out += &line(head.iter().map(|s| s.to_string()).collect());
        for r in rows {
            out += &line(r);
        }
    }
    out
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

/// The most common reasons for `unsupported`, with counts (for notes).
pub fn unsupported_reasons(results: &[ProgramResult]) -> Vec<(String, usize)> {
    let mut m: HashMap<String, usize> = HashMap::new();
    for r in results.iter().filter(|r| r.bpfproof == "unsupported") {
        let msg = r.bpfproof_message.clone().unwrap_or_default();
        let key = msg.split(" (insn").next().unwrap_or(&msg).to_string();
        *m.entry(key).or_default() += 1;
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// How one program's verdicts compare, as `summarize` counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The kernel ran and bpfproof agrees.
    Agree,
    /// The kernel rejects, bpfproof accepts.
    FalseAccept,
    /// The kernel accepts, bpfproof rejects.
    FalseReject,
    /// bpfproof does not model something in it.
    Unsupported,
    /// bpfproof could not load it.
    Error,
    /// The kernel did not verify it.
    NotRun,
}

impl Outcome {
    /// Every outcome, in legend order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Agree,
        Outcome::FalseAccept,
        Outcome::FalseReject,
        Outcome::Unsupported,
        Outcome::Error,
        Outcome::NotRun,
    ];

    /// The outcome of one result (the same case split as the summary).
    pub fn of(r: &ProgramResult) -> Outcome {
        let measured = r.kernel == "accept" || r.kernel == "reject";
        match r.bpfproof.as_str() {
            "unsupported" => Outcome::Unsupported,
            "error" => Outcome::Error,
            _ if !measured => Outcome::NotRun,
            ours if ours == r.kernel => Outcome::Agree,
            "accept" => Outcome::FalseAccept,
            _ => Outcome::FalseReject,
        }
    }

    /// Label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Agree => "agree",
            Outcome::FalseAccept => "false accept",
            Outcome::FalseReject => "false reject",
            Outcome::Unsupported => "unsupported",
            Outcome::Error => "error",
            Outcome::NotRun => "not run",
        }
    }

    /// Fill colour (distinguishable in colour-blind palettes: Okabe-Ito).
    fn color(self) -> &'static str {
        match self {
            Outcome::Agree => "#009e73",
            Outcome::FalseAccept => "#d55e00",
            Outcome::FalseReject => "#e69f00",
            Outcome::Unsupported => "#56b4e9",
            Outcome::Error => "#cc79a7",
            Outcome::NotRun => "#999999",
        }
    }
}

/// Escapes text for HTML and SVG.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Rows shown of a long list (message mismatches).
const MAX_ROWS: usize = 200;

/// A side's message, or its verdict in parentheses when it has none (an
/// accepting side).
fn message_or_verdict(message: &Option<String>, verdict: &str) -> String {
    match message {
        Some(m) if !m.is_empty() => m.clone(),
        _ => format!("({verdict})"),
    }
}

/// Escapes a Markdown table cell.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The `corpus run --format markdown` page: the table, then the false
/// accepts and false rejects with both messages, then the most common
/// reasons for `unsupported`.
pub fn render_markdown(report: &RunReport) -> String {
    let mut out = String::from("# bpfproof corpus report\n\n");
    out += &render_table(report, true);
    for (title, which) in [
        (
            "False accepts (the kernel rejects, bpfproof accepts)",
            Outcome::FalseAccept,
        ),
        (
            "False rejects (the kernel accepts, bpfproof rejects)",
            Outcome::FalseReject,
        ),
    ] {
        let rows: Vec<&ProgramResult> = report
            .results
            .iter()
            .filter(|r| Outcome::of(r) == which)
            .collect();
        let _ = write!(out, "\n## {title}: {}\n\n", rows.len());
        if rows.is_empty() {
            continue;
        }
        out += "| corpus | object | program | kernel | bpfproof |\n|---|---|---|---|---|\n";
        for r in rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md_cell(&r.corpus),
                md_cell(&r.object),
                md_cell(&r.program),
                md_cell(&message_or_verdict(&r.kernel_message, &r.kernel)),
                md_cell(&message_or_verdict(&r.bpfproof_message, &r.bpfproof))
            );
        }
    }
    let mismatches: Vec<&ProgramResult> = report
        .results
        .iter()
        .filter(|r| r.msg_match == Some(false))
        .collect();
    if !mismatches.is_empty() {
        let _ = write!(
            out,
            "\n## Message mismatches: {}\n\n| corpus | object | program | expected | bpfproof |\n|---|---|---|---|---|\n",
            mismatches.len()
        );
        for r in mismatches.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md_cell(&r.corpus),
                md_cell(&r.object),
                md_cell(&r.program),
                md_cell(&r.expected_messages.join(" / ")),
                md_cell(&message_or_verdict(&r.bpfproof_message, &r.bpfproof))
            );
        }
        if mismatches.len() > MAX_ROWS {
            let _ = writeln!(out, "\n(the first {MAX_ROWS} of {})", mismatches.len());
        }
    }
    let reasons = unsupported_reasons(&report.results);
    if !reasons.is_empty() {
        out += "\n## Most common reasons for unsupported\n\n| programs | reason |\n|---|---|\n";
        for (why, n) in reasons.iter().take(20) {
            let _ = writeln!(out, "| {n} | {} |", md_cell(why));
        }
    }
    out
}

/// A point of a scatter plot.
struct Point {
    x: f64,
    y: f64,
    outcome: Outcome,
    label: String,
}

const PLOT_W: f64 = 560.0;
const PLOT_H: f64 = 440.0;
const MARGIN_L: f64 = 70.0;
const MARGIN_R: f64 = 20.0;
const MARGIN_T: f64 = 30.0;
const MARGIN_B: f64 = 55.0;

/// A log-log scatter plot with decade grid lines, the diagonal y = x and a
/// legend. Values below 1 are drawn at 1 (and said so in the caption).
fn scatter_svg(title: &str, xlabel: &str, ylabel: &str, points: &[Point]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"plot\" viewBox=\"0 0 {PLOT_W} {PLOT_H}\" width=\"{PLOT_W}\" height=\"{PLOT_H}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"18\" class=\"title\" text-anchor=\"middle\">{}</text>",
        PLOT_W / 2.0,
        escape(title)
    );
    if points.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no program with both values</text></svg>",
            PLOT_W / 2.0,
            PLOT_H / 2.0
        );
        return out;
    }
    let lg = |v: f64| v.max(1.0).log10();
    let max = points
        .iter()
        .flat_map(|p| [lg(p.x), lg(p.y)])
        .fold(0.0f64, f64::max);
    // Same decades on both axes so that the diagonal means "equal".
    let hi = max.ceil().max(1.0);
    let (x0, x1) = (MARGIN_L, PLOT_W - MARGIN_R);
    let (y0, y1) = (PLOT_H - MARGIN_B, MARGIN_T);
    let sx = |v: f64| x0 + (x1 - x0) * lg(v) / hi;
    let sy = |v: f64| y0 - (y0 - y1) * lg(v) / hi;
    // Grid and ticks at every decade.
    for d in 0..=(hi as i32) {
        let v = 10f64.powi(d);
        let (gx, gy) = (sx(v), sy(v));
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{gx:.1}\" y1=\"{y0}\" x2=\"{gx:.1}\" y2=\"{y1}\"/>\
             <line class=\"grid\" x1=\"{x0}\" y1=\"{gy:.1}\" x2=\"{x1}\" y2=\"{gy:.1}\"/>\
             <text class=\"tick\" x=\"{gx:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
             <text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            y0 + 16.0,
            decade_label(d),
            x0 - 6.0,
            gy + 4.0,
            decade_label(d)
        );
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\"/>\
         <line class=\"axis\" x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\"/>\
         <line class=\"diag\" x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y1}\"/>\
         <text class=\"label\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
         <text class=\"label\" transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        (x0 + x1) / 2.0,
        PLOT_H - 12.0,
        escape(xlabel),
        (y0 + y1) / 2.0,
        escape(ylabel)
    );
    // Agreeing points first, so that disagreements are drawn on top.
    let mut order: Vec<&Point> = points.iter().collect();
    order.sort_by_key(|p| std::cmp::Reverse(p.outcome == Outcome::Agree));
    for p in order {
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.6\" fill=\"{}\" fill-opacity=\"0.7\"><title>{}</title></circle>",
            sx(p.x),
            sy(p.y),
            p.outcome.color(),
            escape(&p.label)
        );
    }
    // Legend of the outcomes present.
    let mut ly = MARGIN_T + 8.0;
    for o in Outcome::ALL {
        let n = points.iter().filter(|p| p.outcome == o).count();
        if n == 0 {
            continue;
        }
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{ly:.1}\" r=\"4\" fill=\"{}\"/>\
             <text class=\"legend\" x=\"{:.1}\" y=\"{:.1}\">{} ({n})</text>",
            x0 + 12.0,
            o.color(),
            x0 + 20.0,
            ly + 4.0,
            o.label()
        );
        ly += 16.0;
    }
    out += "</svg>";
    out
}

fn decade_label(d: i32) -> String {
    match d {
        0 => "1".into(),
        1 => "10".into(),
        2 => "100".into(),
        3 => "1k".into(),
        4 => "10k".into(),
        5 => "100k".into(),
        6 => "1M".into(),
        7 => "10M".into(),
        d => format!("1e{d}"),
    }
}

/// Horizontal bars, one per program type, each split into its outcomes as
/// shares of its programs (so that small types read as well as large ones);
/// the label gives the counts.
fn by_type_svg(report: &RunReport) -> String {
    let mut by: BTreeMap<String, [usize; 6]> = BTreeMap::new();
    for r in &report.results {
        let t = r.prog_type.clone().unwrap_or_else(|| "(unknown)".into());
        let i = Outcome::ALL
            .iter()
            .position(|o| *o == Outcome::of(r))
            .unwrap_or(0);
        by.entry(t).or_default()[i] += 1;
    }
    let mut rows: Vec<(String, [usize; 6])> = by.into_iter().collect();
    rows.sort_by(|a, b| {
        let (ta, tb) = (a.1.iter().sum::<usize>(), b.1.iter().sum::<usize>());
        tb.cmp(&ta).then(a.0.cmp(&b.0))
    });
    let bar_h = 16.0;
    let gap = 6.0;
    let left = 150.0;
    let right = 60.0;
    let width = 760.0;
    let top = 40.0;
    let height = top + rows.len() as f64 * (bar_h + gap) + 20.0;
    let span = width - left - right - 40.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"plot\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"agreement by program type\">\
         <text x=\"{}\" y=\"18\" class=\"title\" text-anchor=\"middle\">Agreement by program type</text>",
        width / 2.0
    );
    // Legend on one line.
    let mut lx = left;
    for o in Outcome::ALL {
        let _ = write!(
            out,
            "<rect x=\"{lx}\" y=\"26\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text class=\"legend\" x=\"{}\" y=\"35\">{}</text>",
            o.color(),
            lx + 14.0,
            o.label()
        );
        lx += 14.0 + 8.0 * o.label().len() as f64 + 16.0;
    }
    for (i, (t, counts)) in rows.iter().enumerate() {
        let y = top + 6.0 + i as f64 * (bar_h + gap);
        let total: usize = counts.iter().sum();
        let measured = total - counts[5];
        let scale = span / total.max(1) as f64;
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + bar_h - 4.0,
            escape(t)
        );
        let mut x = left;
        for (j, o) in Outcome::ALL.iter().enumerate() {
            if counts[j] == 0 {
                continue;
            }
            let w = counts[j] as f64 * scale;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"{}\"><title>{}: {} {}</title></rect>",
                o.color(),
                escape(t),
                counts[j],
                o.label()
            );
            x += w;
        }
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{}/{}</text>",
            left + span + 6.0,
            y + bar_h - 4.0,
            counts[0],
            measured
        );
    }
    out += "</svg>";
    out
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;font-size:0.9em;margin:0.5em 0}\
th,td{border:1px solid #ccc;padding:3px 8px;vertical-align:top}th{background:#f3f3f3}\
td.num{text-align:right;font-variant-numeric:tabular-nums}td.msg{font-family:ui-monospace,monospace;font-size:0.85em;max-width:420px;word-break:break-word}\
.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:0.85em;color:#555;max-width:560px}\
svg.plot{background:#fff;border:1px solid #ddd}svg text{font-size:11px;fill:#333}svg text.title{font-size:13px;font-weight:600}\
svg text.label{font-size:12px}svg .grid{stroke:#eee}svg .axis{stroke:#444}svg .diag{stroke:#888;stroke-dasharray:4 3}\
.meta{color:#555;font-size:0.9em}";

fn results_table(out: &mut String, rows: &[&ProgramResult]) {
    if rows.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    out.push_str("<table><tr><th>corpus</th><th>object</th><th>program</th><th>type</th><th>kernel message</th><th>bpfproof message</th></tr>\n");
    for r in rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"msg\">{}</td><td class=\"msg\">{}</td></tr>",
            escape(&r.corpus),
            escape(&r.object),
            escape(&r.program),
            escape(r.prog_type.as_deref().unwrap_or("")),
            escape(&message_or_verdict(&r.kernel_message, &r.kernel)),
            escape(&message_or_verdict(&r.bpfproof_message, &r.bpfproof))
        );
    }
    out.push_str("</table>\n");
}

/// The `corpus run --format html` page: self-contained (inline CSS and
/// SVG, no script, nothing fetched).
pub fn render_html(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>bpfproof corpus report</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <h1>bpfproof corpus report</h1>\n\
         <p class=\"meta\">bpfproof {} against the recorded verdicts of the Linux kernel verifier; \
         {} programs in {} corpora.</p>\n",
        crate::VERSION,
        report.results.len(),
        report.corpora.len()
    );
    out.push_str("<h2>Agreement per corpus</h2>\n<table><tr>");
    for h in [
        "corpus",
        "programs",
        "agree",
        "false accepts",
        "false rejects",
        "unsupported",
        "errors",
        "not run",
        "msg match",
        "bpfproof ms",
        "kernel ms",
    ] {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr>\n");
    for c in &report.corpora {
        let measured = c.programs - c.not_run;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{} ({:.1}%)</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}/{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{:.1}</td></tr>",
            escape(&c.name),
            c.programs,
            c.agree,
            pct(c.agree, measured),
            c.false_accepts,
            c.false_rejects,
            c.unsupported,
            c.errors,
            c.not_run,
            c.msg_match,
            c.msg_expected,
            c.bpfproof_time_us as f64 / 1000.0,
            c.kernel_time_us as f64 / 1000.0
        );
    }
    out.push_str("</table>\n<p class=\"meta\">Agreement is over the programs the kernel verified (programs − not run). \
                  A false accept (the kernel rejects what bpfproof accepts) is the serious kind.</p>\n");

    let label = |r: &ProgramResult| format!("{} {}/{}", r.corpus, r.object, r.program);
    let times: Vec<Point> = report
        .results
        .iter()
        .filter_map(|r| {
            let k = r.kernel_time_us?;
            (r.bpfproof == "accept" || r.bpfproof == "reject").then(|| Point {
                x: k as f64,
                y: r.bpfproof_time_us as f64,
                outcome: Outcome::of(r),
                label: format!(
                    "{}: kernel {k} µs, bpfproof {} µs",
                    label(r),
                    r.bpfproof_time_us
                ),
            })
        })
        .collect();
    let insns: Vec<Point> = report
        .results
        .iter()
        .filter_map(|r| {
            let (k, b) = (r.kernel_insns_processed?, r.bpfproof_insns_processed?);
            Some(Point {
                x: k as f64,
                y: b as f64,
                outcome: Outcome::of(r),
                label: format!("{}: kernel {k}, bpfproof {b}", label(r)),
            })
        })
        .collect();
    out.push_str("<h2>Plots</h2>\n<div class=\"plots\">\n<figure>");
    out += &scatter_svg(
        "Verification time per program (µs, log-log)",
        "kernel verification time (µs)",
        "bpfproof analysis time (µs)",
        &times,
    );
    let _ = write!(
        out,
        "<figcaption>{} programs that bpfproof predicted and the kernel timed. Below the dashed diagonal bpfproof is faster. \
         Times under 1 µs are drawn at 1.</figcaption></figure>\n<figure>",
        times.len()
    );
    out += &scatter_svg(
        "Processed instructions per program (log-log)",
        "kernel insns_processed",
        "bpfproof insns_processed",
        &insns,
    );
    let _ = write!(
        out,
        "<figcaption>{} programs with both counts. On the diagonal bpfproof explores as many instructions as the kernel.</figcaption></figure>\n<figure>",
        insns.len()
    );
    out += &by_type_svg(report);
    out.push_str("<figcaption>The outcomes of each program type as shares of its programs; the number is agreeing / verified by the kernel.</figcaption></figure>\n</div>\n");

    for (title, which) in [
        (
            "False accepts (the kernel rejects, bpfproof accepts)",
            Outcome::FalseAccept,
        ),
        (
            "False rejects (the kernel accepts, bpfproof rejects)",
            Outcome::FalseReject,
        ),
    ] {
        let rows: Vec<&ProgramResult> = report
            .results
            .iter()
            .filter(|r| Outcome::of(r) == which)
            .collect();
        let _ = writeln!(out, "<h2>{title}: {}</h2>", rows.len());
        results_table(&mut out, &rows);
    }
    let mismatches: Vec<&ProgramResult> = report
        .results
        .iter()
        .filter(|r| r.msg_match == Some(false))
        .collect();
    if !mismatches.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Message mismatches: {}</h2>\n<p class=\"meta\">Rejections whose expected messages bpfproof's log does not contain{}.</p>\n\
             <table><tr><th>corpus</th><th>object</th><th>program</th><th>expected</th><th>bpfproof message</th></tr>",
            mismatches.len(),
            if mismatches.len() > MAX_ROWS {
                format!(" (the first {MAX_ROWS})")
            } else {
                String::new()
            }
        );
        for r in mismatches.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"msg\">{}</td><td class=\"msg\">{}</td></tr>",
                escape(&r.corpus),
                escape(&r.object),
                escape(&r.program),
                r.expected_messages
                    .iter()
                    .map(|m| escape(m))
                    .collect::<Vec<_>>()
                    .join("<br>"),
                escape(&message_or_verdict(&r.bpfproof_message, &r.bpfproof))
            );
        }
        out.push_str("</table>\n");
    }
    let reasons = unsupported_reasons(&report.results);
    if !reasons.is_empty() {
        out.push_str("<h2>Most common reasons for unsupported</h2>\n<table><tr><th>programs</th><th>reason</th></tr>\n");
        for (why, n) in reasons.iter().take(20) {
            let _ = writeln!(
                out,
                "<tr><td class=\"num\">{n}</td><td class=\"msg\">{}</td></tr>",
                escape(why)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(kernel: &str, ours: &str, t: &str) -> ProgramResult {
        ProgramResult {
            corpus: "programs".into(),
            object: "x.bpf.o".into(),
            program: format!("{kernel}_{ours}"),
            prog_type: Some(t.into()),
            kernel: kernel.into(),
            expected: None,
            bpfproof: ours.into(),
            kernel_message: Some("R1 <bad> & worse".into()),
            bpfproof_message: None,
            bpfproof_code: None,
            expected_messages: Vec::new(),
            msg_match: None,
            kernel_insns_processed: Some(120),
            bpfproof_insns_processed: Some(100),
            kernel_time_us: Some(40),
            bpfproof_time_us: 0,
        }
    }

    #[test]
    fn outcomes_split_as_the_summary_counts() {
        assert_eq!(
            Outcome::of(&result("accept", "accept", "xdp")),
            Outcome::Agree
        );
        assert_eq!(
            Outcome::of(&result("reject", "accept", "xdp")),
            Outcome::FalseAccept
        );
        assert_eq!(
            Outcome::of(&result("accept", "reject", "xdp")),
            Outcome::FalseReject
        );
        assert_eq!(
            Outcome::of(&result("not-run", "reject", "xdp")),
            Outcome::NotRun
        );
        assert_eq!(
            Outcome::of(&result("reject", "unsupported", "xdp")),
            Outcome::Unsupported
        );
    }

    #[test]
    fn html_escapes_messages_and_fetches_nothing() {
        let report = RunReport {
            corpora: Vec::new(),
            results: vec![
                result("reject", "accept", "xdp"),
                result("accept", "accept", "kprobe"),
            ],
        };
        let html = render_html(&report);
        assert!(html.contains("R1 &lt;bad&gt; &amp; worse"));
        assert!(!html.contains("<bad>"));
        for bad in ["src=", "href=", "url(", "@import", "<script"] {
            assert!(!html.contains(bad), "{bad}");
        }
        // One point per program in each scatter plot (two plots), plus the
        // legend markers.
        assert_eq!(html.matches("<circle cx").count(), 2 * 2 + 2 * 2);
    }
}
