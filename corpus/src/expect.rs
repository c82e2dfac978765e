//! Expectations of the kernel selftests' `progs/verifier_*.c` programs.
//!
//! `progs/bpf_misc.h` (Linux 6.12) turns the annotations `__success`,
//! `__failure`, `__msg(...)`, `__success_unpriv`, `__failure_unpriv`,
//! `__msg_unpriv(...)`, `__flag(...)`, `__log_level(n)`, `__retval(v)`,
//! `__retval_unpriv(v)`, `__description(...)`, `__auxiliary`,
//! `__auxiliary_unpriv`, `__btf_path(...)`, `__arch_*`, `__xlated(...)`,
//! `__jited(...)` into BTF `DECL_TAG`s named `comment:test_*` on the
//! program's `FUNC`. [`parse_spec`] reads them the way
//! `test_loader.c:parse_test_spec()` does:
//!
//! - every program of the object is a test: one without any tag is run
//!   privileged and expected to load (`mode_mask` defaults to PRIV);
//! - a tag of the privileged kind (`__success`, `__failure`, `__msg`,
//!   `__retval`, `__xlated`, `__auxiliary`) enables the privileged run, one
//!   of the `_unpriv` kind the unprivileged run;
//! - the unprivileged run inherits the privileged verdict unless
//!   `__success_unpriv`/`__failure_unpriv` is given, the privileged
//!   messages (and xlated/jited patterns) when it has none of its own, and
//!   the privileged retval unless `__retval_unpriv` is given;
//! - `__auxiliary` programs are no tests of their own: they are loaded
//!   together with every test of the object (in the modes they name);
//! - `__msg`s are matched in order, each after the end of the previous
//!   match ([`msgs_match`]); `{{...}}` parts are POSIX regular expressions.

use bpfproof_analyzer::object::btf::{Btf, BtfKind, BtfTypeKind};
use bpfproof_analyzer::object::{LoadOptions, Object};
use serde::Serialize;
use std::path::Path;

/// `BPF_F_STRICT_ALIGNMENT`.
pub const BPF_F_STRICT_ALIGNMENT: u32 = 1 << 0;
/// `BPF_F_ANY_ALIGNMENT`.
pub const BPF_F_ANY_ALIGNMENT: u32 = 1 << 1;
/// `BPF_F_TEST_RND_HI32`.
pub const BPF_F_TEST_RND_HI32: u32 = 1 << 2;
/// `BPF_F_TEST_STATE_FREQ`.
pub const BPF_F_TEST_STATE_FREQ: u32 = 1 << 3;
/// `BPF_F_SLEEPABLE`.
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `BPF_F_XDP_HAS_FRAGS`.
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;
/// `BPF_F_TEST_REG_INVARIANTS`.
pub const BPF_F_TEST_REG_INVARIANTS: u32 = 1 << 7;

/// The flags `testing_prog_flags()` adds to every selftest load when the
/// kernel supports them.
pub const TESTING_PROG_FLAGS: u32 = BPF_F_TEST_RND_HI32 | BPF_F_TEST_REG_INVARIANTS;

/// `POINTER_VALUE` of test_loader.c.
pub const POINTER_VALUE: i32 = 0xcafe4a;
/// `TEST_DATA_LEN` of test_loader.c.
pub const TEST_DATA_LEN: i32 = 64;

const TAG_PREFIX: &str = "comment:test_";

/// Expected verdict of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// `__success`: the load succeeds.
    Accept,
    /// `__failure`: the load fails.
    Reject,
}

impl Verdict {
    /// `accept` / `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject => "reject",
        }
    }
}

/// What one run (privileged or unprivileged) expects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expect {
    /// Load verdict.
    pub result: Verdict,
    /// `__msg` patterns, in order.
    pub msgs: Vec<String>,
    /// `__xlated` patterns, in order (`...` entries kept).
    pub xlated: Vec<String>,
    /// `__jited` patterns for this machine's architecture.
    pub jited: Vec<String>,
    /// `__retval`: the program is run (BPF_PROG_TEST_RUN) and must return this.
    pub retval: Option<i32>,
}

/// One `__flag(...)` annotation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlagOp {
    /// As written, e.g. `BPF_F_ANY_ALIGNMENT` (without a leading `!`).
    pub name: String,
    /// Its value.
    pub value: u32,
    /// `__flag(!X)`: clears the flag.
    pub clear: bool,
}

/// The test specification of one program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TestSpec {
    /// Program (function) name.
    pub program: String,
    /// ELF section.
    pub section: String,
    /// `__description`, else the program name.
    pub description: String,
    /// The privileged run, when the program has one.
    pub privileged: Option<Expect>,
    /// The unprivileged run (test name `DESCRIPTION @unpriv`), when it has one.
    pub unprivileged: Option<Expect>,
    /// `__flag`s in order.
    pub flags: Vec<FlagOp>,
    /// `__log_level` (0 when not given).
    pub log_level: u32,
    /// `__auxiliary` / `__auxiliary_unpriv`: not a test of its own.
    pub auxiliary: bool,
    /// `__btf_path`: CO-RE target BTF used instead of the kernel's.
    pub btf_path: Option<String>,
    /// `__arch_*` values; empty = every architecture.
    pub arch: Vec<String>,
    /// The tags could not be parsed (test_loader reports the program as failed).
    pub error: Option<String>,
}

impl TestSpec {
    /// The load flags test_loader passes: `base` (normally
    /// [`TESTING_PROG_FLAGS`]) with every `__flag` applied in order.
    pub fn prog_flags(&self, base: u32) -> u32 {
        self.flags.iter().fold(base, |f, op| {
            if op.clear {
                f & !op.value
            } else {
                f | op.value
            }
        })
    }

    /// The flags the annotations set (no base flags), e.g. `BPF_F_ANY_ALIGNMENT`.
    pub fn annotated_flags(&self) -> u32 {
        self.prog_flags(0)
    }

    /// The log level test_loader loads with when at least `min` (1 when
    /// the log is wanted): `__log_level` with its stats bit (4) kept.
    pub fn effective_log_level(&self, min: u32) -> u32 {
        if self.log_level & 3 < min {
            (self.log_level & 4) | min
        } else {
            self.log_level
        }
    }

    /// Runs on x86-64 (no `__arch_*`, or `__arch_x86_64`).
    pub fn runs_on_x86_64(&self) -> bool {
        self.arch.is_empty() || self.arch.iter().any(|a| a == "X86_64")
    }

    /// A test of its own (not auxiliary, tags parsed).
    pub fn is_test(&self) -> bool {
        !self.auxiliary && self.error.is_none()
    }

    /// The expectation of one mode.
    pub fn expect(&self, unprivileged: bool) -> Option<&Expect> {
        if unprivileged {
            self.unprivileged.as_ref()
        } else {
            self.privileged.as_ref()
        }
    }
}

/// The specs of every program of an object, in program order.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectSpecs {
    /// Object file name (`verifier_and.bpf.o`).
    pub object: String,
    /// One spec per program.
    pub specs: Vec<TestSpec>,
}

impl ObjectSpecs {
    /// The auxiliary programs loaded with every test of the object in
    /// one mode (`run_subtest`: `auxiliary && mode_mask & mode`).
    pub fn auxiliary_programs(&self, unprivileged: bool) -> Vec<&str> {
        self.specs
            .iter()
            .filter(|s| s.auxiliary && s.error.is_none() && s.expect(unprivileged).is_some())
            .map(|s| s.program.as_str())
            .collect()
    }

    /// The spec of a program.
    pub fn get(&self, program: &str) -> Option<&TestSpec> {
        self.specs.iter().find(|s| s.program == program)
    }

    /// The programs that are tests of their own.
    pub fn tests(&self) -> impl Iterator<Item = &TestSpec> {
        self.specs.iter().filter(|s| s.is_test())
    }
}

/// Collected tags of one program, in BTF id order.
#[derive(Default)]
struct Tags<'a> {
    list: Vec<&'a str>,
}

/// The `comment:test_*` decl tags on `func_name`'s FUNC (component -1), in
/// BTF id order (the order test_loader reads them in).
fn tags_of<'a>(btf: &'a Btf, func_name: &str) -> Option<Tags<'a>> {
    let func_id = btf.find_by_name_kind(func_name, BtfKind::Func)?;
    let mut tags = Tags::default();
    for (_, t) in btf.iter_types() {
        if let BtfTypeKind::DeclTag {
            target,
            component_idx,
        } = t.kind
            && target == func_id
            && component_idx == -1
            && let Some(name) = btf.str_at(t.name_off)
            && name.starts_with(TAG_PREFIX)
        {
            tags.list.push(name);
        }
    }
    Some(tags)
}

/// `skip_dynamic_pfx`: `PFX<counter>=MSG` → `MSG`.
fn dynamic<'a>(s: &'a str, pfx: &str) -> Option<&'a str> {
    let rest = s.strip_prefix(pfx)?;
    rest.split_once('=').map(|(_, m)| m)
}

/// `parse_int` of test_loader.c: decimal, or hex after `0x`, whole string.
fn parse_int(s: &str) -> Option<i64> {
    let (digits, radix) = match s.strip_prefix("0x") {
        Some(h) => (h, 16),
        None => (s, 10),
    };
    let neg = digits.starts_with('-');
    let body = digits.trim_start_matches(['-', '+']);
    if body.is_empty() || digits.len() - body.len() > 1 {
        return None;
    }
    let v = i64::from_str_radix(body, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn parse_retval(s: &str) -> Option<i32> {
    match s {
        "INT_MIN" => Some(i32::MIN),
        "POINTER_VALUE" => Some(POINTER_VALUE),
        "TEST_DATA_LEN" => Some(TEST_DATA_LEN),
        _ => parse_int(s).map(|v| v as i32),
    }
}

fn flag_value(name: &str) -> Option<u32> {
    Some(match name {
        "BPF_F_STRICT_ALIGNMENT" => BPF_F_STRICT_ALIGNMENT,
        "BPF_F_ANY_ALIGNMENT" => BPF_F_ANY_ALIGNMENT,
        "BPF_F_TEST_RND_HI32" => BPF_F_TEST_RND_HI32,
        "BPF_F_TEST_STATE_FREQ" => BPF_F_TEST_STATE_FREQ,
        "BPF_F_SLEEPABLE" => BPF_F_SLEEPABLE,
        "BPF_F_XDP_HAS_FRAGS" => BPF_F_XDP_HAS_FRAGS,
        "BPF_F_TEST_REG_INVARIANTS" => BPF_F_TEST_REG_INVARIANTS,
        other => parse_int(other)? as u32,
    })
}

/// Reads the test specification of program `program` (section `section`)
/// from the object's BTF, as `parse_test_spec()` does. A program without
/// BTF or without a FUNC type gets a spec with `error` set.
pub fn parse_spec(btf: Option<&Btf>, program: &str, section: &str) -> TestSpec {
    let mut spec = TestSpec {
        program: program.to_string(),
        section: section.to_string(),
        description: program.to_string(),
        privileged: None,
        unprivileged: None,
        flags: Vec::new(),
        log_level: 0,
        auxiliary: false,
        btf_path: None,
        arch: Vec::new(),
        error: None,
    };
    let Some(btf) = btf else {
        spec.error = Some("BPF object has no BTF".into());
        return spec;
    };
    let Some(tags) = tags_of(btf, program) else {
        spec.error = Some(format!("failed to find FUNC BTF type for '{program}'"));
        return spec;
    };

    const PRIV: u8 = 1;
    const UNPRIV: u8 = 2;
    let mut mode = 0u8;
    let mut description: Option<&str> = None;
    let mut priv_fail = false;
    let mut unpriv_fail: Option<bool> = None;
    let (mut msgs, mut msgs_u) = (Vec::new(), Vec::new());
    let (mut xl, mut xl_u) = (Vec::new(), Vec::new());
    let (mut jit, mut jit_u) = (Vec::new(), Vec::new());
    let mut retval: Option<i32> = None;
    let mut retval_u: Option<i32> = None;
    let mut collect_jit = false;

    for s in tags.list {
        if let Some(d) = s.strip_prefix("comment:test_description=") {
            description = Some(d);
        } else if s == "comment:test_expect_failure" {
            priv_fail = true;
            mode |= PRIV;
        } else if s == "comment:test_expect_success" {
            priv_fail = false;
            mode |= PRIV;
        } else if s == "comment:test_expect_failure_unpriv" {
            unpriv_fail = Some(true);
            mode |= UNPRIV;
        } else if s == "comment:test_expect_success_unpriv" {
            unpriv_fail = Some(false);
            mode |= UNPRIV;
        } else if s == "comment:test_auxiliary" {
            spec.auxiliary = true;
            mode |= PRIV;
        } else if s == "comment:test_auxiliary_unpriv" {
            spec.auxiliary = true;
            mode |= UNPRIV;
        } else if let Some(m) = dynamic(s, "comment:test_expect_msg=") {
            msgs.push(m.to_string());
            mode |= PRIV;
        } else if let Some(m) = dynamic(s, "comment:test_expect_msg_unpriv=") {
            msgs_u.push(m.to_string());
            mode |= UNPRIV;
        } else if let Some(m) = dynamic(s, "comment:test_jited=") {
            if spec.arch.is_empty() {
                spec.error = Some("__jited used before __arch_*".into());
                break;
            }
            if collect_jit {
                jit.push(m.to_string());
                mode |= PRIV;
            }
        } else if let Some(m) = dynamic(s, "comment:test_jited_unpriv=") {
            if spec.arch.is_empty() {
                spec.error = Some("__unpriv_jited used before __arch_*".into());
                break;
            }
            if collect_jit {
                jit_u.push(m.to_string());
                mode |= UNPRIV;
            }
        } else if let Some(m) = dynamic(s, "comment:test_expect_xlated=") {
            xl.push(m.to_string());
            mode |= PRIV;
        } else if let Some(m) = dynamic(s, "comment:test_expect_xlated_unpriv=") {
            xl_u.push(m.to_string());
            mode |= UNPRIV;
        } else if let Some(v) = s.strip_prefix("comment:test_retval=") {
            match parse_retval(v) {
                Some(r) => retval = Some(r),
                None => {
                    spec.error = Some(format!("failed to parse __retval from '{v}'"));
                    break;
                }
            }
            mode |= PRIV;
        } else if let Some(v) = s.strip_prefix("comment:test_retval_unpriv=") {
            match parse_retval(v) {
                Some(r) => retval_u = Some(r),
                None => {
                    spec.error = Some(format!("failed to parse __retval_unpriv from '{v}'"));
                    break;
                }
            }
            mode |= UNPRIV;
        } else if let Some(v) = s.strip_prefix("comment:test_log_level=") {
            match parse_int(v) {
                Some(l) => spec.log_level = l as u32,
                None => {
                    spec.error = Some(format!("failed to parse test log level from '{v}'"));
                    break;
                }
            }
        } else if let Some(v) = s.strip_prefix("comment:test_prog_flags=") {
            let (clear, name) = match v.strip_prefix('!') {
                Some(n) => (true, n),
                None => (false, v),
            };
            match flag_value(name) {
                Some(value) => spec.flags.push(FlagOp {
                    name: name.to_string(),
                    value,
                    clear,
                }),
                None => {
                    spec.error = Some(format!("failed to parse test prog flags from '{v}'"));
                    break;
                }
            }
        } else if let Some(v) = s.strip_prefix("comment:test_arch=") {
            if !matches!(v, "X86_64" | "ARM64" | "RISCV64") {
                spec.error = Some(format!("bad arch spec: '{v}'"));
                break;
            }
            spec.arch.push(v.to_string());
            // The corpus is measured on x86-64.
            collect_jit = v == "X86_64";
        } else if let Some(v) = s.strip_prefix("comment:test_btf_path=") {
            spec.btf_path = Some(v.to_string());
        }
    }
    if spec.error.is_some() {
        return spec;
    }
    if mode == 0 {
        mode = PRIV;
    }
    if let Some(d) = description {
        spec.description = d.to_string();
    }
    let verdict = |fail: bool| {
        if fail {
            Verdict::Reject
        } else {
            Verdict::Accept
        }
    };
    if mode & PRIV != 0 {
        spec.privileged = Some(Expect {
            result: verdict(priv_fail),
            msgs: msgs.clone(),
            xlated: xl.clone(),
            jited: jit.clone(),
            retval,
        });
    }
    if mode & UNPRIV != 0 {
        spec.unprivileged = Some(Expect {
            result: verdict(unpriv_fail.unwrap_or(priv_fail)),
            msgs: if msgs_u.is_empty() { msgs } else { msgs_u },
            xlated: if xl_u.is_empty() { xl } else { xl_u },
            jited: if jit_u.is_empty() { jit } else { jit_u },
            retval: if retval_u.is_some() { retval_u } else { retval },
        });
    }
    spec
}

/// The specs of every program of a loaded object.
pub fn object_specs(name: &str, obj: &Object) -> ObjectSpecs {
    let btf = obj.btf.as_deref();
    ObjectSpecs {
        object: name.to_string(),
        specs: obj
            .programs
            .iter()
            .map(|p| parse_spec(btf, &p.name, &p.section))
            .collect(),
    }
}

/// Loads `path` with the object loader and reads its specs.
pub fn load_object_specs(path: &Path) -> Result<ObjectSpecs, String> {
    let obj = bpfproof_analyzer::object::load_file(path, &LoadOptions::default())
        .map_err(|e| format!("{}: error[{}]: {}", path.display(), e.code, e.message))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| path.display().to_string());
    Ok(object_specs(&name, &obj))
}

/// One piece of a `__msg` pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece<'a> {
    Lit(&'a str),
    Regex(&'a str),
}

fn pieces(pat: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = pat;
    while let Some(a) = rest.find("{{") {
        if a > 0 {
            out.push(Piece::Lit(&rest[..a]));
        }
        let after = &rest[a + 2..];
        match after.find("}}") {
            Some(b) => {
                out.push(Piece::Regex(&after[..b]));
                rest = &after[b + 2..];
            }
            None => {
                out.push(Piece::Lit(&rest[a..]));
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest));
    }
    out
}

/// Finds `pat` in `log`: returns (start, end) of the first match.
/// Literal text matches literally; a `{{...}}` part matches any run of
/// characters within the line (exact for `{{.*}}`, the only form the 6.12
/// verifier tests use; other expressions are approximated the same way).
pub fn find_msg(log: &str, pat: &str) -> Option<(usize, usize)> {
    let ps = pieces(pat);
    if !ps.iter().any(|p| matches!(p, Piece::Regex(_))) {
        return log.find(pat).map(|i| (i, i + pat.len()));
    }
    // Candidate starts: each occurrence of a leading literal, or each line start.
    let starts: Vec<usize> = match ps.first() {
        Some(Piece::Lit(l)) => log.match_indices(l).map(|(i, _)| i).collect(),
        _ => std::iter::once(0)
            .chain(log.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
    };
    starts
        .into_iter()
        .find_map(|start| match_at(log, start, &ps).map(|end| (start, end)))
}

fn match_at(log: &str, mut pos: usize, ps: &[Piece<'_>]) -> Option<usize> {
    let mut pending_gap = false;
    for p in ps {
        match p {
            Piece::Regex(_) => pending_gap = true,
            Piece::Lit(l) => {
                let hay = log.get(pos..)?;
                if pending_gap {
                    let line_end = hay.find('\n').unwrap_or(hay.len());
                    let i = hay[..line_end].find(l)?;
                    pos += i + l.len();
                } else {
                    if !hay.starts_with(l) {
                        return None;
                    }
                    pos += l.len();
                }
                pending_gap = false;
            }
        }
    }
    if pending_gap {
        let hay = log.get(pos..)?;
        pos += hay.find('\n').unwrap_or(hay.len());
    }
    Some(pos)
}

/// `validate_msgs`: every pattern found in order, each searched after the
/// end of the previous match. `Err(i)` names the first pattern not found.
pub fn msgs_match(log: &str, msgs: &[String]) -> Result<(), usize> {
    let mut pos = 0;
    for (i, m) in msgs.iter().enumerate() {
        match log.get(pos..).and_then(|rest| find_msg(rest, m)) {
            Some((_, end)) => pos += end,
            None => return Err(i),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_and_retvals() {
        assert_eq!(parse_int("0x10"), Some(16));
        assert_eq!(parse_int("-21"), Some(-21));
        assert_eq!(parse_int("12a"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("--1"), None);
        assert_eq!(parse_retval("INT_MIN"), Some(i32::MIN));
        assert_eq!(parse_retval("POINTER_VALUE"), Some(0xcafe4a));
        assert_eq!(parse_retval("0xabcdef12"), Some(0xabcdef12u32 as i32));
        assert_eq!(flag_value("BPF_F_TEST_STATE_FREQ"), Some(8));
        assert_eq!(flag_value("3"), Some(3));
        assert_eq!(flag_value("BPF_F_BOGUS"), None);
    }

    #[test]
    fn dynamic_prefix() {
        assert_eq!(
            dynamic(
                "comment:test_expect_msg=12=R0 invalid",
                "comment:test_expect_msg="
            ),
            Some("R0 invalid")
        );
        assert_eq!(
            dynamic("comment:test_expect_msg=3=a=b", "comment:test_expect_msg="),
            Some("a=b")
        );
        assert_eq!(
            dynamic(
                "comment:test_expect_msg_unpriv=1=x",
                "comment:test_expect_msg="
            ),
            None
        );
    }

    #[test]
    fn message_matching() {
        let log = "0: (b7) r0 = 1 ; R0_w=1\n1: (95) exit\nR0 invalid mem access 'scalar'\n";
        let m = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            msgs_match(log, &m(&["r0 = 1", "exit", "invalid mem"])),
            Ok(())
        );
        assert_eq!(msgs_match(log, &m(&["exit", "r0 = 1"])), Err(1));
        assert_eq!(msgs_match(log, &m(&["0: (b7) r0 {{.*}} R0_w=1"])), Ok(()));
        // a regex gap does not cross lines
        assert_eq!(msgs_match(log, &m(&["0: (b7) {{.*}} exit"])), Err(0));
        assert_eq!(msgs_match(log, &[]), Ok(()));
        assert_eq!(find_msg("abc", "{{.*}}c"), Some((0, 3)));
    }

    #[test]
    fn flags_and_log_level() {
        let mut s = parse_spec(None, "p", "socket");
        assert!(s.error.is_some());
        s.flags = vec![
            FlagOp {
                name: "BPF_F_ANY_ALIGNMENT".into(),
                value: BPF_F_ANY_ALIGNMENT,
                clear: false,
            },
            FlagOp {
                name: "BPF_F_TEST_RND_HI32".into(),
                value: BPF_F_TEST_RND_HI32,
                clear: true,
            },
        ];
        assert_eq!(
            s.prog_flags(TESTING_PROG_FLAGS),
            BPF_F_ANY_ALIGNMENT | BPF_F_TEST_REG_INVARIANTS
        );
        assert_eq!(s.annotated_flags(), BPF_F_ANY_ALIGNMENT);
        s.log_level = 4;
        assert_eq!(s.effective_log_level(1), 5);
        s.log_level = 2;
        assert_eq!(s.effective_log_level(1), 2);
    }
}
