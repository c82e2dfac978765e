//! The report formats of `bpfproof check` and `bpfproof corpus run`: the
//! JSON output against our schema, SARIF against the official SARIF 2.1.0
//! schema, snapshots of every format for one rejected and one accepted
//! object, veristat's CSV header against veristat's source, a real
//! `veristat -C` run, the HTML corpus report in headless Chromium, and
//! atomic `--output`.
//!
//! Tests that need something optional (the kernel source, a buildable
//! veristat, Chromium) print `SKIPPED: <why>` and pass.

use bpfproof_reports::csv::{VERISTAT_COLUMNS, VeristatRow, render_veristat_rows};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn bpfproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfproof"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run bpfproof")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

/// Every committed object of the hand-written corpus, sorted.
fn program_objects() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("corpus/programs"))
        .expect("corpus/programs")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bpf.o"))
        .map(|n| format!("corpus/programs/{n}"))
        .collect();
    v.sort();
    assert!(v.len() > 20, "corpus/programs has {} objects", v.len());
    v
}

/// `check` over every program object plus an unreadable "object", so that
/// every verdict shape appears.
fn check_all(format: &str) -> (Output, String) {
    let mut args = vec!["check", "--format", format];
    if format == "sarif" {
        args.extend(["--source-root", "."]);
    }
    let objs = program_objects();
    args.extend(objs.iter().map(|s| s.as_str()));
    args.push("corpus/programs/README.md");
    let o = bpfproof(&args);
    let text = stdout(&o);
    (o, text)
}

fn validator(schema_file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join(schema_file)).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

#[test]
fn check_json_matches_its_schema() {
    let (o, text) = check_all("json");
    assert_eq!(o.status.code(), Some(2), "an unreadable input gives 2");
    let doc: Value = serde_json::from_str(&text).expect("json");
    // Every own program gets the kernel's verdict: an unsupported result
    // comes from a time limit.
    let o = bpfproof(&[
        "check",
        "--format",
        "json",
        "--timeout",
        "0.001",
        "corpus/programs/bad_unbounded_loop.bpf.o",
    ]);
    let unsupported: Value = serde_json::from_str(&stdout(&o)).expect("json");
    let verdicts: Vec<&str> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .chain(unsupported["results"].as_array().expect("results"))
        .filter_map(|r| r["verdict"].as_str())
        .collect();
    for v in ["accept", "reject", "unsupported", "error"] {
        assert!(verdicts.contains(&v), "no {v} result to validate");
    }
    let schema = validator("reports/schema/check.schema.json");
    assert_valid(&schema, &doc, "check --format json");
    assert_valid(&schema, &unsupported, "check --format json (unsupported)");
    // The schema is closed: an unknown field is an error, as is an
    // accepted program with an error.
    let mut extra = doc.clone();
    extra["results"][0]["surprise"] = Value::Bool(true);
    assert!(!schema.is_valid(&extra));
    let mut wrong = doc.clone();
    let i = verdicts.iter().position(|v| *v == "reject").unwrap();
    wrong["results"][i]["verdict"] = Value::from("accept");
    assert!(!schema.is_valid(&wrong));
}

#[test]
fn check_sarif_matches_the_official_schema() {
    let (_, text) = check_all("sarif");
    let doc: Value = serde_json::from_str(&text).expect("sarif is JSON");
    let schema = validator("reports/schema/sarif-schema-2.1.0.json");
    assert_valid(&schema, &doc, "check --format sarif");
    let run = &doc["runs"][0];
    let results = run["results"].as_array().expect("results");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    // One rule per code met, each result pointing at its rule.
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(
            rules[idx]["helpUri"]
                .as_str()
                .unwrap()
                .ends_with(r["ruleId"].as_str().unwrap())
        );
    }
    // The C source of the committed objects resolves under the source root.
    let with_source = results
        .iter()
        .filter(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
                && r["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64()
        })
        .count();
    assert!(with_source >= 10, "{with_source} results on the C source");
    assert!(
        results.iter().any(|r| r["codeFlows"].is_array()),
        "some rejection has a path"
    );
    // The unreadable object is reported on the object itself.
    let unreadable = results
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "corpus/programs/README.md"
        })
        .expect("a result for the unreadable object");
    assert_eq!(unreadable["level"], "error");
    assert!(unreadable["ruleId"].as_str().unwrap().starts_with("BPF9"));
}

/// Replaces what changes from run to run (times, the checkout path) and
/// the counters every engine change moves (processed instructions,
/// states), which the veristat comparison checks against the kernel's.
fn normalize_json(text: &str) -> String {
    let mut doc: Value = serde_json::from_str(text).expect("json");
    fn zero_times(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "time_us" {
                        *x = Value::from(0);
                    } else if matches!(k.as_str(), "insns_processed" | "states" | "peak_states")
                        && !x.is_null()
                    {
                        *x = Value::from("[N]");
                    } else {
                        zero_times(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(zero_times),
            _ => {}
        }
    }
    zero_times(&mut doc);
    let root = format!("file://{}/", root().display());
    serde_json::to_string_pretty(&doc)
        .expect("json")
        .replace(&root, "file:///[ROOT]/")
}

fn normalize_csv(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                return l.to_string();
            }
            // duration, total_insns, total_states, peak_states
            let mut cells: Vec<&str> = l.splitn(8, ',').collect();
            if cells.len() == 8 {
                cells[3] = "0";
                cells[4..7].fill("[N]");
            }
            cells.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn snapshot_formats(object: &str, name: &str, expect_rc: i32) {
    for format in ["json", "sarif", "csv", "veristat"] {
        let mut args = vec!["check", "--format", format];
        if format == "sarif" {
            args.extend(["--source-root", "."]);
        }
        args.push(object);
        let o = bpfproof(&args);
        assert_eq!(o.status.code(), Some(expect_rc), "{format}");
        let text = stdout(&o);
        let shown = match format {
            "json" | "sarif" => normalize_json(&text),
            _ => normalize_csv(&text),
        };
        insta::assert_snapshot!(format!("{name}_{format}"), shown);
    }
}

#[test]
fn every_format_of_a_rejected_program() {
    snapshot_formats("corpus/programs/bad_unreleased_sk.bpf.o", "rejected", 1);
}

#[test]
fn every_format_of_an_accepted_program() {
    snapshot_formats("corpus/programs/xdp_fw.bpf.o", "accepted", 0);
}

/// The kernel source tree, when unpacked (`bpfproof corpus build`).
fn linux_src() -> Option<PathBuf> {
    let p = std::env::var_os("BPFPROOF_LINUX_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/bpfproof/linux-source-6.12"));
    p.join("tools/testing/selftests/bpf/veristat.c")
        .is_file()
        .then_some(p)
}

/// The columns of `default_csv_output_spec` in veristat.c, by their first
/// name in `stat_defs[]`.
fn veristat_csv_columns(src: &str) -> Vec<String> {
    let spec = src
        .split("default_csv_output_spec = {")
        .nth(1)
        .expect("default_csv_output_spec");
    let ids = spec
        .split(".ids = {")
        .nth(1)
        .and_then(|s| s.split('}').next())
        .expect(".ids");
    ids.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|id| {
            let def = src
                .split(&format!("[{id}] = {{"))
                .nth(1)
                .unwrap_or_else(|| panic!("stat_defs[{id}]"));
            // `{ "Title", {"name", "alias", ...}, ... }`: the first name.
            let names = def.split('{').nth(1).expect("names");
            names.split('"').nth(1).expect("first name").to_string()
        })
        .collect()
}

#[test]
fn veristat_header_matches_veristat_source() {
    let Some(src) = linux_src() else {
        eprintln!(
            "SKIPPED: no kernel source (set BPFPROOF_LINUX_SRC or run `bpfproof corpus build`)"
        );
        return;
    };
    let c = std::fs::read_to_string(src.join("tools/testing/selftests/bpf/veristat.c"))
        .expect("veristat.c");
    let columns = veristat_csv_columns(&c);
    assert_eq!(columns, VERISTAT_COLUMNS, "veristat.c's CSV columns");
    assert!(c.contains("\"success\" : \"failure\""), "verdict strings");
    let o = bpfproof(&[
        "check",
        "--format",
        "veristat",
        "corpus/programs/xdp_fw.bpf.o",
    ]);
    let header = stdout(&o).lines().next().unwrap_or_default().to_string();
    assert_eq!(header, columns.join(","));
    let o = bpfproof(&["check", "--format", "csv", "corpus/programs/xdp_fw.bpf.o"]);
    let header = stdout(&o).lines().next().unwrap_or_default().to_string();
    assert!(header.starts_with(&(columns.join(",") + ",")), "{header}");
}

#[test]
fn veristat_compares_the_kernel_with_bpfproof() {
    let Some(src) = linux_src() else {
        eprintln!(
            "SKIPPED: no kernel source (set BPFPROOF_LINUX_SRC or run `bpfproof corpus build`)"
        );
        return;
    };
    let dir = tmp_dir("veristat");
    let veristat = dir.join("veristat");
    let built = Command::new("bash")
        .arg(root().join("reports/tests/build-veristat.sh"))
        .arg(&veristat)
        .arg(&src)
        .output()
        .expect("bash");
    if !built.status.success() {
        eprintln!(
            "SKIPPED: veristat does not build here (needs gcc, libbpf-dev, libelf-dev, zlib1g-dev): {}",
            String::from_utf8_lossy(&built.stderr)
        );
        return;
    }
    // The kernel's side: the recorded outcomes of the hand-written corpus.
    let rec_path = bpfproof_corpus::score::recording_path(&root().join("corpus"), "programs")
        .expect("a recording of corpus/programs");
    let rec = bpfproof_corpus::record::read(&rec_path).expect("recording");
    let kernel_rows: Vec<VeristatRow> = rec
        .records
        .iter()
        .filter(|r| !r.unpriv)
        .filter_map(|r| {
            let success = match r.verdict {
                bpfproof_corpus::kernel::KernelVerdict::Accept => true,
                bpfproof_corpus::kernel::KernelVerdict::Reject => false,
                bpfproof_corpus::kernel::KernelVerdict::NotRun => return None,
            };
            Some(VeristatRow {
                file_name: r.object.clone(),
                prog_name: r.program.clone(),
                success,
                duration_us: r.verification_time_us.unwrap_or(0),
                total_insns: r.insns_processed.unwrap_or(0),
                total_states: r.total_states.unwrap_or(0),
                peak_states: r.peak_states.unwrap_or(0),
                max_states_per_insn: r.max_states_per_insn.unwrap_or(0),
                max_mark_read_len: 0,
            })
        })
        .collect();
    let kernel_csv = dir.join("kernel.csv");
    std::fs::write(&kernel_csv, render_veristat_rows(&kernel_rows)).expect("write");
    // bpfproof's side.
    let bpf_csv = dir.join("bpfproof.csv");
    let mut args = vec!["check", "--format", "veristat", "--output"];
    let out_arg = bpf_csv.to_string_lossy().into_owned();
    args.push(&out_arg);
    let objs = program_objects();
    args.extend(objs.iter().map(|s| s.as_str()));
    let o = bpfproof(&args);
    assert!(matches!(o.status.code(), Some(1 | 3)), "{o:?}");
    let ours = std::fs::read_to_string(&bpf_csv).expect("bpfproof.csv");
    let cmp = Command::new(&veristat)
        .args(["-C", "-e", "file,prog,verdict,insns"])
        .arg(&kernel_csv)
        .arg(&bpf_csv)
        .output()
        .expect("veristat");
    let text = String::from_utf8_lossy(&cmp.stdout).into_owned();
    std::fs::write(dir.join("veristat-compare.txt"), &text).expect("write");
    assert!(
        cmp.status.success(),
        "veristat -C failed: {}\n{text}",
        String::from_utf8_lossy(&cmp.stderr)
    );
    eprintln!(
        "veristat -C output: {}",
        dir.join("veristat-compare.txt").display()
    );
    // Every program of both files is in the comparison, and veristat's
    // MISMATCH count equals the verdict disagreements counted here.
    let our_rows: Vec<(String, String, String)> = ours
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[1].to_string(), c[2].to_string())
        })
        .collect();
    for r in &kernel_rows {
        assert!(text.contains(&r.prog_name), "{} missing", r.prog_name);
    }
    let disagree = kernel_rows
        .iter()
        .filter(|k| {
            our_rows.iter().any(|(f, p, v)| {
                *f == k.file_name && *p == k.prog_name && (v == "success") != k.success
            })
        })
        .count();
    assert_eq!(text.matches("MISMATCH").count(), disagree, "{text}");
}

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

#[test]
fn html_corpus_report_renders_in_chromium() {
    let dir = tmp_dir("corpus-report");
    let out = dir.join("html");
    let o = bpfproof(&[
        "corpus",
        "run",
        "--corpus",
        "programs",
        "--format",
        "html",
        "-q",
        "--output",
        &out.to_string_lossy(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    let page = out.join("index.html");
    let html = std::fs::read_to_string(&page).expect("index.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for part in [
        "Agreement per corpus",
        "Verification time per program",
        "Processed instructions per program",
        "Agreement by program type",
        "False accepts",
        "False rejects",
    ] {
        assert!(html.contains(part), "{part}");
    }
    // Self-contained: nothing to fetch.
    for bad in ["src=", "href=", "url(", "@import", "<script", "<link"] {
        assert!(!html.contains(bad), "{bad}");
    }
    // Markdown goes into the same directory.
    let o = bpfproof(&[
        "corpus",
        "run",
        "--corpus",
        "programs",
        "--format",
        "markdown",
        "-q",
        "--output",
        &out.to_string_lossy(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.contains("| corpus | programs |"), "{md}");
    assert!(md.contains("## False rejects"), "{md}");

    let Some(chromium) = find_chromium() else {
        eprintln!("SKIPPED: chromium not found (Debian: apt-get install chromium)");
        return;
    };
    let png = dir.join("corpus-report.png");
    // `timeout`: a headless browser that hangs must not hang the tests.
    let shot = Command::new("timeout")
        .arg("120")
        .arg(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1280,1800",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium");
    assert!(shot.status.success(), "{shot:?}");
    let bytes = std::fs::read(&png).expect("screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // A blank page compresses to a few kilobytes; tables and plots do not.
    assert!(bytes.len() > 30_000, "screenshot of {} bytes", bytes.len());
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn output_is_written_atomically() {
    let dir = tmp_dir("atomic");
    let file = dir.join("out.sarif");
    let o = bpfproof(&[
        "check",
        "--format",
        "sarif",
        "--output",
        &file.to_string_lossy(),
        "corpus/programs/xdp_fw.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(stdout(&o).is_empty());
    let text = std::fs::read_to_string(&file).expect("written");
    assert!(serde_json::from_str::<Value>(&text).is_ok());
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["out.sarif".to_string()], "no temporary left");
    // An unwritable destination is a usage error and leaves nothing.
    let bad = dir.join("missing-dir").join("out.csv");
    let o = bpfproof(&[
        "check",
        "--format",
        "csv",
        "--output",
        &bad.to_string_lossy(),
        "corpus/programs/xdp_fw.bpf.o",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.join("missing-dir").exists());
}

/// Runs docs/ci/pre-commit in a scratch repository whose only staged file is
/// `NAME.bpf.c` (its committed object beside it); the hook's exit code.
fn pre_commit_on(name: &str) -> Option<i32> {
    let dir = tmp_dir(&format!("pre-commit-{name}"));
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    git(&["init", "-q"])?;
    for ext in ["c", "o"] {
        std::fs::copy(
            root().join(format!("corpus/programs/{name}.bpf.{ext}")),
            dir.join(format!("{name}.bpf.{ext}")),
        )
        .expect("copy");
    }
    git(&["add", &format!("{name}.bpf.c")])?;
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_bpfproof")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let o = Command::new("bash")
        .arg(root().join("docs/ci/pre-commit"))
        .env("PATH", path)
        .current_dir(&dir)
        .output()
        .expect("bash");
    o.status.code()
}

#[test]
fn pre_commit_hook_refuses_a_rejected_program() {
    let Some(bad) = pre_commit_on("bad_pkt_bounds") else {
        eprintln!("SKIPPED: git not available");
        return;
    };
    assert_eq!(bad, 1);
    assert_eq!(pre_commit_on("xdp_fw"), Some(0));
}
