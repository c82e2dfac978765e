//! `check --format sarif`: SARIF 2.1.0 (OASIS), the format code-scanning
//! services (GitHub, GitLab, Azure DevOps) read.
//!
//! Rendered from the same [`CheckReport`] as the JSON and CSV formats:
//! - `tool.driver.rules`: the codes met, from the code catalogue
//!   (`bpfproof_analyzer::diag::codes`), with a help URI pointing at the
//!   code's explanation ([`HELP_URI_TEMPLATE`]);
//! - one `result` per diagnostic (or per first error when a program has no
//!   diagnostic entries), with a `physicalLocation` on the C source relative
//!   to the source root (`%SRCROOT%`) when line info exists, else on the
//!   object; `logicalLocations` naming the object, the program and the
//!   instruction; `codeFlows` for the path to the error (the conditional
//!   jumps the analysis took); `properties` for the rest (verdict, program
//!   type, statistics, register state, counterexample).
//!
//! The types are hand-written, covering only what we emit; the output is
//! validated against the official schema (`reports/schema/sarif-schema-2.1.0.json`)
//! by the tests.

use crate::check::{CheckReport, CheckResult, Diagnostic, ErrorDetail, PathStep, Verdict};
use bpfproof_analyzer::diag::codes::code_info;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The SARIF schema URI written into `$schema`.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Where a code's explanation lives; `{code}` is replaced by the code
/// (`BPF301`). The same text is printed by `bpfproof explain CODE`.
pub const HELP_URI_TEMPLATE: &str =
    "https://example.invalid/bpfproof/blob/main/docs/codes.md#{code}";
/// The base id of source-relative URIs.
pub const SRCROOT: &str = "%SRCROOT%";

/// Rendering options.
#[derive(Clone, Default)]
pub struct SarifOptions {
    /// The directory source paths are made relative to (`--source-root`).
    /// Paths are written relative to it under `%SRCROOT%`; paths outside it
    /// stay absolute `file://` URIs. `None`: the current directory, and no
    /// `originalUriBaseIds` entry.
    pub source_root: Option<PathBuf>,
    /// The longer explanation of a code (`fullDescription` and `help`), when
    /// one exists; the catalogue's one-line summary is used otherwise.
    pub explanation: Option<fn(&str) -> Option<String>>,
    /// Extra text appended to a result's message for a diagnostic (e.g. a
    /// rendered counterexample); the diagnostic's own `counterexample` is
    /// always shown when present.
    pub counterexample: Option<fn(&Diagnostic) -> Option<String>>,
}

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<BTreeMap<&'static str, ArtifactLocation>>,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult>,
    properties: Value,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help_uri: String,
    help: Text,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize, Clone)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    exit_code: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: Value,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Text>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow {
    message: Text,
    thread_flows: Vec<ThreadFlow>,
}

#[derive(Serialize)]
struct ThreadFlow {
    locations: Vec<ThreadFlowLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreadFlowLocation {
    location: Location,
    nesting_level: u32,
    importance: &'static str,
}

/// Percent-encodes what may not appear in a URI path (RFC 3986), keeping `/`.
fn uri_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Lexically normalises a path (`a/./b/../c` → `a/c`), no file-system access.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A path as an artifact location: relative to the source root under
/// `%SRCROOT%`, or an absolute `file://` URI when it lies outside.
fn artifact(path: &str, root: &Path) -> ArtifactLocation {
    let p = Path::new(path);
    let abs = if p.is_absolute() {
        normalize(p)
    } else {
        // Relative paths (line info of objects built in place, objects
        // named on the command line) are relative to the working directory.
        let cwd = std::env::current_dir().unwrap_or_default();
        normalize(&cwd.join(p))
    };
    let rel = match abs.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => Some(rel.to_path_buf()),
        _ => relocated(&abs, root),
    };
    match rel {
        Some(rel) => ArtifactLocation {
            uri: uri_escape(&rel.to_string_lossy()),
            uri_base_id: Some(SRCROOT),
        },
        None => ArtifactLocation {
            uri: format!("file://{}", uri_escape(&abs.to_string_lossy())),
            uri_base_id: None,
        },
    }
}

/// An absolute path outside the source root whose trailing components name
/// a file under it: the object was compiled in another checkout (a build
/// container, another CI workspace) and line info kept that checkout's
/// paths. The longest such suffix wins; at least two components must match
/// (a directory and the file), so that a bare `vmlinux.h` elsewhere does not
/// claim a project file of the same name.
fn relocated(abs: &Path, root: &Path) -> Option<PathBuf> {
    let parts: Vec<&std::ffi::OsStr> = abs
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s),
            _ => None,
        })
        .collect();
    (0..parts.len().saturating_sub(1)).find_map(|skip| {
        let rel: PathBuf = parts[skip..].iter().collect();
        root.join(&rel).is_file().then_some(rel)
    })
}

fn logical(res: &CheckResult, insn: Option<usize>) -> Vec<LogicalLocation> {
    let object = res.object.clone();
    let mut v = vec![LogicalLocation {
        name: object.clone(),
        fully_qualified_name: object.clone(),
        kind: "module",
    }];
    if let Some(p) = &res.program {
        let fq = format!("{object}:{p}");
        v.push(LogicalLocation {
            name: p.clone(),
            fully_qualified_name: fq.clone(),
            kind: "function",
        });
        if let Some(i) = insn {
            v.push(LogicalLocation {
                name: format!("insn {i}"),
                fully_qualified_name: format!("{fq}+{i}"),
                kind: "instruction",
            });
        }
    }
    v
}

fn location(
    res: &CheckResult,
    detail: &ErrorDetail,
    root: &Path,
    message: Option<String>,
) -> Location {
    let physical = match &detail.source {
        Some(s) => PhysicalLocation {
            artifact_location: artifact(&s.file, root),
            region: Some(Region {
                start_line: s.line.max(1),
                start_column: (s.column > 0).then_some(s.column),
                snippet: (!s.text.is_empty()).then(|| Text {
                    text: s.text.clone(),
                }),
            }),
        },
        None => PhysicalLocation {
            artifact_location: artifact(&res.object, root),
            region: None,
        },
    };
    Location {
        physical_location: Some(physical),
        logical_locations: logical(res, detail.insn),
        message: message.map(|text| Text { text }),
    }
}

/// The code flow of a path: each conditional jump, then the error.
fn code_flow(
    res: &CheckResult,
    detail: &ErrorDetail,
    path: &[PathStep],
    root: &Path,
) -> Option<CodeFlow> {
    if path.is_empty() {
        return None;
    }
    let mut locations: Vec<ThreadFlowLocation> = path
        .iter()
        .map(|step| {
            let file = step
                .file
                .as_deref()
                .or(detail.source.as_ref().map(|s| s.file.as_str()));
            let physical = match (file, step.line) {
                (Some(f), Some(line)) => Some(PhysicalLocation {
                    artifact_location: artifact(f, root),
                    region: Some(Region {
                        start_line: line.max(1),
                        start_column: None,
                        snippet: None,
                    }),
                }),
                _ => None,
            };
            ThreadFlowLocation {
                location: Location {
                    physical_location: physical,
                    logical_locations: logical(res, Some(step.insn)),
                    message: Some(Text {
                        text: format!(
                            "insn {}: branch {}",
                            step.insn,
                            if step.taken { "taken" } else { "not taken" }
                        ),
                    }),
                },
                nesting_level: 0,
                importance: "important",
            }
        })
        .collect();
    locations.push(ThreadFlowLocation {
        location: location(res, detail, root, Some(detail.message.clone())),
        nesting_level: 0,
        importance: "essential",
    });
    Some(CodeFlow {
        message: Text {
            text: format!(
                "the path to the error: {} conditional jump{}",
                path.len(),
                if path.len() == 1 { "" } else { "s" }
            ),
        },
        thread_flows: vec![ThreadFlow { locations }],
    })
}

fn level(verdict: Verdict, severity: &str) -> &'static str {
    match (verdict, severity) {
        (_, "note") => "note",
        (_, "warning") => "warning",
        // bpfproof cannot predict the verdict: not the program's fault.
        (Verdict::Unsupported, _) => "warning",
        _ => "error",
    }
}

fn rule_level(code: &str) -> &'static str {
    if code == "BPF990" { "warning" } else { "error" }
}

/// Renders the report as a SARIF 2.1.0 log.
pub fn render_sarif(report: &CheckReport, opts: &SarifOptions) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = match &opts.source_root {
        Some(r) if r.is_absolute() => normalize(r),
        Some(r) => normalize(&cwd.join(r)),
        None => normalize(&cwd),
    };
    let mut rule_ids: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for res in &report.results {
        // One result per diagnostic; the first error alone when the
        // analysis gave no diagnostic entries.
        let fallback;
        let diags: Vec<(&ErrorDetail, Option<&Diagnostic>, &str)> = if res.diagnostics.is_empty() {
            match (&res.error, res.verdict) {
                (Some(e), v) if v != Verdict::Accept => {
                    fallback = e;
                    vec![(fallback, None, "error")]
                }
                _ => Vec::new(),
            }
        } else {
            res.diagnostics
                .iter()
                .map(|d| (&d.detail, Some(d), d.severity))
                .collect()
        };
        for (detail, diag, severity) in diags {
            let rule_index = match rule_ids.iter().position(|r| *r == detail.code) {
                Some(i) => i,
                None => {
                    rule_ids.push(detail.code.clone());
                    rule_ids.len() - 1
                }
            };
            let mut message = detail.message.clone();
            for m in &detail.more {
                message.push('\n');
                message.push_str(m);
            }
            let mut props = Map::new();
            props.insert("verdict".into(), json!(res.verdict.as_str()));
            if let Some(s) = &res.section {
                props.insert("section".into(), json!(s));
            }
            if let Some(t) = &res.prog_type {
                props.insert("prog_type".into(), json!(t));
            }
            if let Some(i) = detail.insn {
                props.insert("insn".into(), json!(i));
            }
            if let Some(d) = &detail.disasm {
                props.insert("disasm".into(), json!(d));
            }
            props.insert("stats".into(), json!(res.stats));
            if let Some(d) = diag {
                if let Some(h) = &d.help {
                    message.push_str(&format!("\nhelp: {h}"));
                }
                for n in &d.notes {
                    message.push_str(&format!("\nnote: {n}"));
                }
                if let Some(c) = &d.counterexample {
                    message.push_str(&format!("\ncounterexample: {c}"));
                    props.insert("counterexample".into(), json!(c));
                }
                if let Some(extra) = opts.counterexample.and_then(|f| f(d)) {
                    message.push_str(&format!("\n{extra}"));
                }
                if let Some(s) = &d.state {
                    props.insert("state".into(), json!(s));
                }
                if let Some(o) = &d.obligation {
                    props.insert("obligation".into(), o.clone());
                }
            }
            let code_flows = diag
                .and_then(|d| code_flow(res, detail, &d.path, &root))
                .into_iter()
                .collect();
            let mut fingerprints = BTreeMap::new();
            // Stable across rebuilds that move code: the program and the
            // code, not the instruction index or line.
            fingerprints.insert(
                "bpfproofProgram/v1",
                format!(
                    "{}:{}:{}",
                    Path::new(&res.object)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    res.program.as_deref().unwrap_or(""),
                    detail.code
                ),
            );
            results.push(SarifResult {
                rule_id: detail.code.clone(),
                rule_index,
                level: level(res.verdict, severity),
                message: Text { text: message },
                locations: vec![location(res, detail, &root, None)],
                code_flows,
                partial_fingerprints: fingerprints,
                properties: Value::Object(props),
            });
        }
    }
    let rules = rule_ids
        .iter()
        .map(|id| {
            let info = code_info(id);
            let summary = info
                .map(|c| c.summary.to_string())
                .unwrap_or_else(|| format!("{id} (not in the code catalogue)"));
            let full = opts
                .explanation
                .and_then(|f| f(id))
                .unwrap_or_else(|| summary.clone());
            Rule {
                id: id.clone(),
                name: info.map(|c| kebab_to_pascal(c.name)).unwrap_or_default(),
                short_description: Text { text: summary },
                full_description: Text { text: full.clone() },
                help_uri: HELP_URI_TEMPLATE.replace("{code}", id),
                help: Text {
                    text: format!("{full}\nRun `bpfproof explain {id}` for the full explanation."),
                },
                default_configuration: Configuration {
                    level: rule_level(id),
                },
            }
        })
        .collect();
    let count = |v| report.results.iter().filter(|r| r.verdict == v).count();
    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "bpfproof",
                    version: crate::VERSION,
                    semantic_version: crate::VERSION,
                    information_uri: "https://example.invalid/bpfproof",
                    rules,
                },
            },
            original_uri_base_ids: opts.source_root.as_ref().map(|_| {
                let mut m = BTreeMap::new();
                let mut uri = format!("file://{}", uri_escape(&root.to_string_lossy()));
                if !uri.ends_with('/') {
                    uri.push('/');
                }
                m.insert(
                    SRCROOT,
                    ArtifactLocation {
                        uri,
                        uri_base_id: None,
                    },
                );
                m
            }),
            invocations: vec![Invocation {
                execution_successful: report.exit_code() != 2,
                exit_code: report.exit_code(),
            }],
            results,
            properties: json!({
                "kernel": report.kernel,
                "programs": report.results.len(),
                "accepted": count(Verdict::Accept),
                "rejected": count(Verdict::Reject),
                "unsupported": count(Verdict::Unsupported),
                "errors": count(Verdict::Error),
            }),
        }],
    };
    serde_json::to_string_pretty(&log).expect("serialisable") + "\n"
}

/// `packet-access` → `PacketAccess` (SARIF rule names are PascalCase
/// identifiers by convention).
fn kebab_to_pascal(s: &str) -> String {
    s.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_relative_to_the_root_get_the_base_id() {
        let a = artifact("/src/proj/bpf/x.bpf.c", Path::new("/src/proj"));
        assert_eq!(a.uri, "bpf/x.bpf.c");
        assert_eq!(a.uri_base_id, Some(SRCROOT));
        let b = artifact("/usr/include/bpf helpers.h", Path::new("/src/proj"));
        assert_eq!(b.uri, "file:///usr/include/bpf%20helpers.h");
        assert_eq!(b.uri_base_id, None);
        let c = artifact("/src/proj/a/../b/./y.c", Path::new("/src/proj"));
        assert_eq!(c.uri, "b/y.c");
    }

    #[test]
    fn paths_of_another_checkout_are_relocated_under_the_root() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let a = artifact(
            "/elsewhere/checkout/reports/src/sarif.rs",
            root.parent().unwrap(),
        );
        assert_eq!(a.uri, "reports/src/sarif.rs");
        assert_eq!(a.uri_base_id, Some(SRCROOT));
        // A bare file name is not enough.
        let b = artifact("/elsewhere/Cargo.toml", root);
        assert_eq!(b.uri, "file:///elsewhere/Cargo.toml");
    }

    fn rejected_report(counterexample: Option<&str>) -> CheckReport {
        use crate::check::{CheckResult, Stats};
        use crate::disasm::SourceEntry;
        let detail = ErrorDetail {
            code: "BPF301".into(),
            message: "invalid access to packet, off=34 len=4, R=14".into(),
            insn: Some(27),
            source: Some(SourceEntry {
                file: "/src/proj/xdp_fw.bpf.c".into(),
                line: 42,
                column: 9,
                text: "if (ip->protocol == IPPROTO_TCP)".into(),
            }),
            disasm: None,
            more: Vec::new(),
        };
        let mut report = CheckReport::new();
        report.results.push(CheckResult {
            object: "/src/proj/build/xdp_fw.bpf.o".into(),
            section: Some("xdp".into()),
            program: Some("xdp_fw".into()),
            prog_type: Some("xdp".into()),
            verdict: Verdict::Reject,
            error: Some(detail.clone()),
            diagnostics: vec![Diagnostic {
                severity: "error",
                detail,
                notes: vec!["R3 is pkt_end".into()],
                help: Some("compare against data_end first".into()),
                state: None,
                path: vec![PathStep {
                    insn: 12,
                    taken: true,
                    line: Some(40),
                    file: None,
                    text: None,
                }],
                obligation: None,
                counterexample: counterexample.map(String::from),
                proof: None,
                access: None,
            }],
            stats: Stats::default(),
            prove: None,
        });
        report
    }

    #[test]
    fn explanation_and_counterexample_hooks_are_rendered() {
        fn explain(code: &str) -> Option<String> {
            (code == "BPF301").then(|| "Packet access: prove data + off + size <= data_end.".into())
        }
        fn extra(d: &Diagnostic) -> Option<String> {
            d.counterexample
                .as_ref()
                .map(|_| "model: pkt_len = 33".into())
        }
        let opts = SarifOptions {
            source_root: Some(PathBuf::from("/src/proj")),
            explanation: Some(explain),
            counterexample: Some(extra),
        };
        let v: Value =
            serde_json::from_str(&render_sarif(&rejected_report(Some("pkt_len=33")), &opts))
                .unwrap();
        let run = &v["runs"][0];
        let rule = &run["tool"]["driver"]["rules"][0];
        assert_eq!(rule["id"], "BPF301");
        assert_eq!(
            rule["fullDescription"]["text"],
            "Packet access: prove data + off + size <= data_end."
        );
        let r = &run["results"][0];
        let msg = r["message"]["text"].as_str().unwrap();
        assert!(msg.contains("counterexample: pkt_len=33"), "{msg}");
        assert!(msg.contains("model: pkt_len = 33"), "{msg}");
        assert!(
            msg.contains("help: compare against data_end first"),
            "{msg}"
        );
        assert_eq!(r["properties"]["counterexample"], "pkt_len=33");
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "xdp_fw.bpf.c");
        assert_eq!(loc["region"]["startLine"], 42);
        // The path step without its own file is placed in the error's file.
        let flow = &r["codeFlows"][0]["threadFlows"][0]["locations"];
        assert_eq!(flow.as_array().unwrap().len(), 2);
        assert_eq!(
            flow[0]["location"]["physicalLocation"]["region"]["startLine"],
            40
        );
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///src/proj/"
        );
        // Without the hooks: the catalogue's summary, no counterexample.
        let plain: Value = serde_json::from_str(&render_sarif(
            &rejected_report(None),
            &SarifOptions::default(),
        ))
        .unwrap();
        let rule = &plain["runs"][0]["tool"]["driver"]["rules"][0];
        assert_eq!(rule["fullDescription"], rule["shortDescription"]);
        assert!(plain["runs"][0]["results"][0]["properties"]["counterexample"].is_null());
    }

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(kebab_to_pascal("packet-access"), "PacketAccess");
        assert_eq!(kebab_to_pascal("unsupported"), "Unsupported");
    }
}
