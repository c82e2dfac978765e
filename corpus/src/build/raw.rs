//! The kernel's raw instruction verifier tests
//! (`tools/testing/selftests/bpf/verifier/*.c`, run by `test_verifier`).
//!
//! Building: `corpus/tools/dump_raw_tests.c` is compiled with gcc against
//! the kernel tree (see that file) and writes `corpus/build/raw/X.json`, one
//! file per `verifier/X.c`: `{"source": "verifier/X.c", "tests": [...]}`,
//! plus `corpus/build/raw_btf.json`, the BTF test_verifier loads for its
//! spin-lock / timer / kptr maps.
//!
//! Loading: [`load_raw_test`] turns one test into an analyzer [`Object`]
//! holding one [`Program`] and the maps its `fixup_*` arrays imply, created
//! as `test_verifier.c` (Linux 6.12) creates them; each fixed-up `ld_imm64`
//! refers to its map by index in `Object::maps`, as the object loader does.

use super::BuildError;
use super::tools::{self, GCC};
use bpfproof_analyzer::isa::RawInsn;
use bpfproof_analyzer::object::btf::{Btf, BtfKind};
use bpfproof_analyzer::object::{
    ExternRef, FuncInfoEntry, MapDef, MapOrigin, Object, Program, Subprog,
};
use bpfproof_analyzer::platform::{AttachType, MapType, ProgType};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Expected outcome of a raw test (`enum { UNDEF, ACCEPT, REJECT, VERBOSE_ACCEPT }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RawResult {
    /// Not given (`result_unpriv` then falls back to `result`).
    Undef,
    /// Loads.
    Accept,
    /// The verifier rejects it; `errstr` is in the log.
    Reject,
    /// Loads, and `errstr` is in the level-2 log.
    VerboseAccept,
}

/// One `fixup_kfunc_btf_id` entry: the call at `insn` gets the BTF id of `kfunc`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KfuncFixup {
    /// Kernel function name.
    pub kfunc: String,
    /// Index of the call instruction.
    pub insn: usize,
}

/// One run's expected return value (`retvals[]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RawRetval {
    /// Privileged.
    pub retval: u32,
    /// Unprivileged (0 = same as privileged).
    pub retval_unpriv: u32,
}

/// One instruction slot: (code, dst, src, off, imm).
pub type InsnTuple = (u8, u8, u8, i16, i32);

/// Defines [`RawTest`] with one field per map fixup array.
macro_rules! raw_test_struct {
    ($($fx:ident),* $(,)?) => {
/// One `struct bpf_test` as `dump_raw_tests` prints it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RawTest {
    /// Position in its source file.
    #[serde(default)]
    pub index: usize,
    /// `descr`.
    pub descr: String,
    /// Instructions (after the fill helper, when the test has one).
    pub insns: Vec<InsnTuple>,
    /// Program type number (0 in the source already mapped to socket_filter).
    pub prog_type: u32,
    /// Program type name.
    #[serde(default)]
    pub prog_type_name: Option<String>,
    /// `expected_attach_type`.
    #[serde(default)]
    pub expected_attach_type: u32,
    /// Attach target (`.kfunc`, tracing and lsm programs).
    #[serde(default)]
    pub kfunc: Option<String>,
    /// Privileged expectation.
    pub result: RawResult,
    /// Unprivileged expectation (`Undef` = same as `result`).
    pub result_unpriv: RawResult,
    /// Expected log text: tab-separated substrings, matched in order.
    #[serde(default)]
    pub errstr: Option<String>,
    /// Same, unprivileged (`None` = same as `errstr`).
    #[serde(default)]
    pub errstr_unpriv: Option<String>,
    /// `F_*` flags of test_verifier.c.
    #[serde(default)]
    pub flags: u32,
    /// `BPF_F_*` load flags derived from `flags` (test_verifier also adds
    /// BPF_F_TEST_RND_HI32 | BPF_F_TEST_REG_INVARIANTS when supported).
    #[serde(default)]
    pub prog_flags: u32,
    /// test_verifier also loads it unprivileged.
    #[serde(default)]
    pub unpriv: bool,
    /// Expected processed-instruction count (0 = unchecked).
    #[serde(default)]
    pub insn_processed: u32,
    /// Number of test runs (`.runs`; 0 = 1, negative = do not run).
    #[serde(default)]
    pub runs: i32,
    /// Expected return value of the (first) run.
    #[serde(default)]
    pub retval: u32,
    /// Same, unprivileged.
    #[serde(default)]
    pub retval_unpriv: u32,
    /// All runs' expected values when `runs > 1`.
    #[serde(default)]
    pub retvals: Vec<RawRetval>,
    /// The instructions were produced by a `.fill_helper`.
    #[serde(default)]
    pub fill_helper: bool,
    /// `fixup_kfunc_btf_id`.
    #[serde(default)]
    pub fixup_kfunc_btf_id: Vec<KfuncFixup>,
    /// `func_info` records: (insn_off, type_id) against `btf_types`.
    #[serde(default)]
    pub func_info: Vec<(u32, u32)>,
    /// The test's own BTF types (u32 words), for `prog_btf_fd`.
    #[serde(default)]
    pub btf_types: Vec<u32>,
    /// The test's BTF string section (256 bytes, hex), when `btf_types` is set.
    #[serde(default)]
    pub btf_strings_hex: String,
    /// Instruction pattern expected in the translated program.
    #[serde(default)]
    pub expected_insns: Vec<InsnTuple>,
    /// Instruction pattern that must not appear in the translated program.
    #[serde(default)]
    pub unexpected_insns: Vec<InsnTuple>,
    $(
        #[doc = concat!("`", stringify!($fx), "`: instructions whose `imm` gets that map's fd.")]
        #[serde(default)]
        pub $fx: Vec<usize>,
    )*
}

impl RawTest {
    /// The instruction indices of a `fixup_*` map array, by field name.
    pub fn fixup(&self, field: &str) -> Option<&[usize]> {
        match field {
            $( stringify!($fx) => Some(&self.$fx), )*
            _ => None,
        }
    }
}

/// The names of every map `fixup_*` array of `struct bpf_test` (6.12).
pub const FIXUP_FIELDS: &[&str] = &[$(stringify!($fx)),*];
    };
}

raw_test_struct!(
    fixup_map_hash_8b,
    fixup_map_hash_48b,
    fixup_map_hash_16b,
    fixup_map_array_48b,
    fixup_map_sockmap,
    fixup_map_sockhash,
    fixup_map_xskmap,
    fixup_map_stacktrace,
    fixup_prog1,
    fixup_prog2,
    fixup_map_in_map,
    fixup_cgroup_storage,
    fixup_percpu_cgroup_storage,
    fixup_map_spin_lock,
    fixup_map_array_ro,
    fixup_map_array_wo,
    fixup_map_array_small,
    fixup_sk_storage_map,
    fixup_map_event_output,
    fixup_map_reuseport_array,
    fixup_map_ringbuf,
    fixup_map_timer,
    fixup_map_kptr,
);

/// One `verifier/X.c` file's tests.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RawFile {
    /// `verifier/X.c`.
    pub source: String,
    /// Its tests, in source order.
    pub tests: Vec<RawTest>,
}

impl RawFile {
    /// `X` of `verifier/X.c`.
    pub fn stem(&self) -> &str {
        let s = self.source.rsplit('/').next().unwrap_or(&self.source);
        s.strip_suffix(".c").unwrap_or(s)
    }
}

/// What a raw test expects in one mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RawExpect {
    /// `Accept`, `Reject` or `VerboseAccept`.
    pub result: RawResult,
    /// Substrings expected in the log, in order (`cmp_str_seq`).
    pub msgs: Vec<String>,
}

impl RawTest {
    /// The expectation of the privileged run, or of the unprivileged one
    /// (`None` when test_verifier does not run it unprivileged), following
    /// `do_test_single`.
    pub fn expect(&self, unpriv: bool) -> Option<RawExpect> {
        if unpriv && !self.unpriv {
            return None;
        }
        let result = if unpriv && self.result_unpriv != RawResult::Undef {
            self.result_unpriv
        } else {
            self.result
        };
        let errstr = if unpriv && self.errstr_unpriv.is_some() {
            self.errstr_unpriv.as_deref()
        } else {
            self.errstr.as_deref()
        };
        let msgs = errstr
            .unwrap_or("")
            .split('\t')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        Some(RawExpect { result, msgs })
    }

    /// The test's own BTF (`load_btf_for_test`) as a raw BTF blob, when it has one.
    pub fn btf_blob(&self) -> Option<Vec<u8>> {
        if self.btf_types.is_empty() {
            return None;
        }
        let strings = hex_decode(&self.btf_strings_hex)?;
        Some(btf_blob(&self.btf_types, &strings))
    }
}

/// How test_verifier fills a map after creating it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MapInit {
    /// Left empty.
    Empty,
    /// `update_map(fd, 0)`: key 0 gets `struct test_val { .index = 28,
    /// .foo[6] = 0xabcdef12 }`, truncated to the value size; the bytes
    /// are in `MapDef::initial`.
    TestVal,
    /// `create_prog_array`: dummy programs of the test's program type at
    /// these keys (see [`dummy_prog_insns`]).
    ProgArray(Vec<(u32, DummyProg)>),
    /// `create_map_in_map`: the inner map is `MapDef::inner` (array, 4/4/1).
    MapInMap,
}

/// A dummy program test_verifier puts into its prog arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DummyProg {
    /// `create_prog_dummy_simple`: `r0 = ret; exit`.
    Simple {
        /// Return value.
        ret: i32,
    },
    /// `create_prog_dummy_loop`: tail-calls index `idx` of the same prog
    /// array, then `r0 = ret; exit`.
    Loop {
        /// Tail-call index.
        idx: i32,
        /// Return value.
        ret: i32,
    },
}

/// The instructions of a dummy program; `map_fd` goes into the `ld_imm64`
/// of the looping one (the prog array itself).
pub fn dummy_prog_insns(p: DummyProg, map_fd: i32) -> Vec<RawInsn> {
    let ins = |code: u8, dst: u8, src: u8, imm: i32| RawInsn {
        code,
        dst,
        src,
        off: 0,
        imm,
    };
    match p {
        DummyProg::Simple { ret } => vec![ins(0xb7, 0, 0, ret), ins(0x95, 0, 0, 0)],
        DummyProg::Loop { idx, ret } => vec![
            ins(0xb7, 3, 0, idx),
            ins(0x18, 2, 1, map_fd),
            ins(0, 0, 0, 0),
            ins(0x85, 0, 0, 12), // bpf_tail_call
            ins(0xb7, 0, 0, ret),
            ins(0x95, 0, 0, 0),
        ],
    }
}

/// A map a raw test uses, and how test_verifier makes it.
#[derive(Clone, Debug, Serialize)]
pub struct RawMap {
    /// The fixup field, e.g. `fixup_map_hash_8b`.
    pub fixup: String,
    /// Index in test_verifier's `map_fds[]`.
    pub slot: usize,
    /// Instructions whose `imm` test_verifier sets to the map's fd.
    pub insns: Vec<usize>,
    /// Contents after creation.
    pub init: MapInit,
    /// The map is created with test_verifier's own BTF (`raw_btf.json`,
    /// `load_btf()`), with `MapDef::btf_key_type_id`/`btf_value_type_id`.
    pub uses_maps_btf: bool,
}

/// A raw test ready to analyse or to load.
#[derive(Clone, Debug)]
pub struct RawProgram {
    /// `X/INDEX` (source file stem and position), also the program's name.
    pub id: String,
    /// One program (`programs[0]`) and its maps (`maps[i]` ↔ `raw_maps[i]`).
    pub object: Object,
    /// How test_verifier creates and fills each map of `object.maps`.
    pub raw_maps: Vec<RawMap>,
    /// `BPF_F_*` load flags test_verifier passes (without the test-only
    /// BPF_F_TEST_RND_HI32 / BPF_F_TEST_REG_INVARIANTS it adds when supported).
    pub prog_flags: u32,
    /// `expected_attach_type` as a number.
    pub expected_attach_type: u32,
    /// Attach target name (`.kfunc`) for tracing/lsm programs.
    pub attach_btf_name: Option<String>,
    /// kfunc calls and the BTF ids they resolved to in the target BTF
    /// (`None`: not in vmlinux, e.g. bpf_testmod's; the `imm` stays 0).
    pub kfuncs: Vec<ExternRef>,
    /// The test's own BTF blob (`prog_btf_fd`), when it has `btf_types`.
    pub prog_btf: Option<Vec<u8>>,
    /// Privileged expectation.
    pub expect_priv: RawExpect,
    /// Unprivileged expectation, when test_verifier runs it unprivileged.
    pub expect_unpriv: Option<RawExpect>,
}

/// Errors reading raw tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawError(pub String);

impl std::fmt::Display for RawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RawError {}

/// Map creation parameters of one fixup kind (`do_test_fixup`).
struct FixupSpec {
    field: &'static str,
    slot: usize,
    map_type: MapType,
    key: u32,
    value: u32,
    max_entries: u32,
    flags: u32,
    btf: Option<(u32, u32)>,
}

const BPF_F_NO_PREALLOC: u32 = 1;
const BPF_F_RDONLY_PROG: u32 = 1 << 7;
const BPF_F_WRONLY_PROG: u32 = 1 << 8;
/// `BPF_F_SLEEPABLE`.
const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `sizeof(struct test_val)`.
const TEST_VAL_SIZE: u32 = 48;
/// `getpagesize()` on x86-64 (ring buffer size).
const PAGE_SIZE: u32 = 4096;

#[allow(clippy::too_many_arguments)] // a row of the FIXUPS table
const fn spec(
    field: &'static str,
    slot: usize,
    map_type: MapType,
    key: u32,
    value: u32,
    max_entries: u32,
    flags: u32,
    btf: Option<(u32, u32)>,
) -> FixupSpec {
    FixupSpec {
        field,
        slot,
        map_type,
        key,
        value,
        max_entries,
        flags,
        btf,
    }
}

/// Every map fixup of test_verifier.c (6.12), in `map_fds[]` order.
/// `create_map()` adds BPF_F_NO_PREALLOC to hash maps.
const FIXUPS: &[FixupSpec] = &[
    spec(
        "fixup_map_hash_8b",
        0,
        MapType::Hash,
        8,
        8,
        1,
        BPF_F_NO_PREALLOC,
        None,
    ),
    spec(
        "fixup_map_hash_48b",
        1,
        MapType::Hash,
        8,
        TEST_VAL_SIZE,
        1,
        BPF_F_NO_PREALLOC,
        None,
    ),
    spec(
        "fixup_map_hash_16b",
        2,
        MapType::Hash,
        8,
        16,
        1,
        BPF_F_NO_PREALLOC,
        None,
    ),
    spec(
        "fixup_map_array_48b",
        3,
        MapType::Array,
        4,
        TEST_VAL_SIZE,
        1,
        0,
        None,
    ),
    spec("fixup_prog1", 4, MapType::ProgArray, 4, 4, 4, 0, None),
    spec("fixup_prog2", 5, MapType::ProgArray, 4, 4, 8, 0, None),
    spec(
        "fixup_map_in_map",
        6,
        MapType::ArrayOfMaps,
        4,
        4,
        1,
        0,
        None,
    ),
    // sizeof(struct bpf_cgroup_storage_key) = 16, TEST_DATA_LEN = 64
    spec(
        "fixup_cgroup_storage",
        7,
        MapType::CgroupStorage,
        16,
        64,
        0,
        0,
        None,
    ),
    spec(
        "fixup_percpu_cgroup_storage",
        8,
        MapType::PercpuCgroupStorage,
        16,
        64,
        0,
        0,
        None,
    ),
    spec("fixup_map_sockmap", 9, MapType::Sockmap, 4, 4, 1, 0, None),
    spec(
        "fixup_map_sockhash",
        10,
        MapType::Sockhash,
        4,
        4,
        1,
        0,
        None,
    ),
    spec("fixup_map_xskmap", 11, MapType::Xskmap, 4, 4, 1, 0, None),
    spec(
        "fixup_map_stacktrace",
        12,
        MapType::StackTrace,
        4,
        8,
        1,
        0,
        None,
    ),
    spec(
        "fixup_map_spin_lock",
        13,
        MapType::Array,
        4,
        8,
        1,
        0,
        Some((1, 3)),
    ),
    spec(
        "fixup_map_array_ro",
        14,
        MapType::Array,
        4,
        TEST_VAL_SIZE,
        1,
        BPF_F_RDONLY_PROG,
        None,
    ),
    spec(
        "fixup_map_array_wo",
        15,
        MapType::Array,
        4,
        TEST_VAL_SIZE,
        1,
        BPF_F_WRONLY_PROG,
        None,
    ),
    spec(
        "fixup_map_array_small",
        16,
        MapType::Array,
        4,
        1,
        1,
        0,
        None,
    ),
    spec(
        "fixup_sk_storage_map",
        17,
        MapType::SkStorage,
        4,
        8,
        0,
        BPF_F_NO_PREALLOC,
        Some((1, 3)),
    ),
    spec(
        "fixup_map_event_output",
        18,
        MapType::PerfEventArray,
        4,
        4,
        1,
        0,
        None,
    ),
    spec(
        "fixup_map_reuseport_array",
        19,
        MapType::ReuseportSockarray,
        4,
        8,
        1,
        0,
        None,
    ),
    spec(
        "fixup_map_ringbuf",
        20,
        MapType::Ringbuf,
        0,
        0,
        PAGE_SIZE,
        0,
        None,
    ),
    spec(
        "fixup_map_timer",
        21,
        MapType::Array,
        4,
        16,
        1,
        0,
        Some((1, 5)),
    ),
    spec(
        "fixup_map_kptr",
        22,
        MapType::Array,
        4,
        24,
        1,
        0,
        Some((1, 14)),
    ),
];

fn map_def(name: &str, map_type: MapType, key: u32, value: u32, max: u32, flags: u32) -> MapDef {
    MapDef {
        name: name.to_string(),
        map_type: map_type.as_u32(),
        key_size: key,
        value_size: value,
        max_entries: max,
        map_flags: flags,
        numa_node: 0,
        pinning: 0,
        map_extra: 0,
        inner: None,
        btf_key_type_id: None,
        btf_value_type_id: None,
        origin: MapOrigin::Legacy,
        section: "raw".to_string(),
        sec_offset: 0,
        initial: None,
        frozen: false,
        init_slots: Vec::new(),
    }
}

/// `struct test_val` as `update_map()` writes it, truncated to `size`.
fn test_val_bytes(size: u32) -> Vec<u8> {
    let mut v = vec![0u8; TEST_VAL_SIZE as usize];
    v[0..4].copy_from_slice(&28u32.to_le_bytes()); // .index = (6 + 1) * sizeof(int)
    v[28..32].copy_from_slice(&0xabcd_ef12u32.to_le_bytes()); // .foo[6]
    v.truncate(size as usize);
    v
}

/// The functions of a raw program: the entry point plus every target of a
/// bpf-to-bpf call or `ld_imm64` function reference.
fn find_subprogs(insns: &[RawInsn]) -> Vec<Subprog> {
    let n = insns.len();
    let mut starts = vec![0usize];
    for (i, ins) in insns.iter().enumerate() {
        let is_call = ins.code == 0x85 && ins.src == 1; // BPF_PSEUDO_CALL
        let is_func = ins.code == 0x18 && ins.src == 4; // BPF_PSEUDO_FUNC
        if is_call || is_func {
            let target = i as i64 + i64::from(ins.imm) + 1;
            if target > 0 && (target as usize) < n {
                starts.push(target as usize);
            }
        }
    }
    starts.sort_unstable();
    starts.dedup();
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let end = starts.get(k + 1).copied().unwrap_or(n);
            Subprog {
                name: if s == 0 {
                    "main".to_string()
                } else {
                    format!("subprog_{s}")
                },
                start: s,
                len: end - s,
                global: false,
                hidden: false,
            }
        })
        .collect()
}

/// Parses one test (one element of a raw file's `tests`).
pub fn parse_raw_test(json: &str) -> Result<RawTest, RawError> {
    serde_json::from_str(json).map_err(|e| RawError(format!("raw test: {e}")))
}

/// Turns a raw test into a program with its maps, as test_verifier would
/// load it. `file` is the source stem (`jump` for `verifier/jump.c`);
/// kfunc ids resolve against `target_btf` (default: the bundled 6.18 BTF).
pub fn load_raw_test(test: &RawTest, file: &str, target_btf: Option<&Btf>) -> RawProgram {
    let id = format!("{file}/{}", test.index);
    let mut insns: Vec<RawInsn> = test
        .insns
        .iter()
        .map(|&(code, dst, src, off, imm)| RawInsn {
            code,
            dst,
            src,
            off,
            imm,
        })
        .collect();

    let mut maps = Vec::new();
    let mut raw_maps = Vec::new();
    for fx in FIXUPS {
        let Some(at) = test.fixup(fx.field).filter(|v| !v.is_empty()) else {
            continue;
        };
        let index = maps.len();
        let name = fx.field.trim_start_matches("fixup_").to_string();
        let mut def = map_def(
            &name,
            fx.map_type,
            fx.key,
            fx.value,
            fx.max_entries,
            fx.flags,
        );
        if let Some((k, v)) = fx.btf {
            def.btf_key_type_id = Some(k);
            def.btf_value_type_id = Some(v);
        }
        let init = match fx.field {
            "fixup_map_array_48b"
            | "fixup_map_array_ro"
            | "fixup_map_array_wo"
            | "fixup_map_array_small" => {
                def.initial = Some(test_val_bytes(fx.value));
                MapInit::TestVal
            }
            "fixup_prog1" => MapInit::ProgArray(vec![
                (0, DummyProg::Simple { ret: 42 }),
                (1, DummyProg::Loop { idx: 1, ret: 41 }),
                (2, DummyProg::Simple { ret: 24 }),
            ]),
            "fixup_prog2" => MapInit::ProgArray(vec![
                (7, DummyProg::Simple { ret: 42 }),
                (1, DummyProg::Loop { idx: 1, ret: 41 }),
                (2, DummyProg::Simple { ret: 24 }),
            ]),
            "fixup_map_in_map" => {
                def.inner = Some(Box::new(map_def("inner", MapType::Array, 4, 4, 1, 0)));
                MapInit::MapInMap
            }
            _ => MapInit::Empty,
        };
        for &i in at {
            if let Some(ins) = insns.get_mut(i) {
                ins.imm = index as i32;
            }
        }
        maps.push(def);
        raw_maps.push(RawMap {
            fixup: fx.field.to_string(),
            slot: fx.slot,
            insns: at.to_vec(),
            init,
            uses_maps_btf: fx.btf.is_some(),
        });
    }

    let bundled;
    let btf = match target_btf {
        Some(b) => Some(b),
        None => {
            bundled = bpfproof_analyzer::object::btf::bundled_vmlinux_btf().ok();
            bundled
        }
    };
    let mut kfuncs = Vec::new();
    for k in &test.fixup_kfunc_btf_id {
        let id = btf.and_then(|b| b.find_by_name_kind(&k.kfunc, BtfKind::Func));
        if let Some(ins) = insns.get_mut(k.insn) {
            ins.imm = id.map_or(0, |v| v as i32);
        }
        // test_verifier leaves a kfunc it cannot find (bpf_testmod's) at
        // BTF id 0, which the kernel skips during verification.
        if id.is_none() {
            continue;
        }
        kfuncs.push(ExternRef {
            insn: k.insn,
            name: k.kfunc.clone(),
            kind: "kfunc",
            target_btf_id: id,
        });
    }

    let subprogs = find_subprogs(&insns);
    let map_relocs: Vec<usize> = raw_maps
        .iter()
        .flat_map(|m| m.insns.iter().copied())
        .collect();
    let program = Program {
        name: id.clone(),
        section: "raw".to_string(),
        prog_type: ProgType::from_u32(test.prog_type),
        attach_type: if test.expected_attach_type != 0 {
            AttachType::from_u32(test.expected_attach_type)
        } else {
            None
        },
        legacy_section: false,
        autoload: true,
        sleepable: test.prog_flags & BPF_F_SLEEPABLE != 0,
        insns,
        subprogs,
        func_info: test
            .func_info
            .iter()
            .map(|&(insn, type_id)| FuncInfoEntry {
                insn: insn as usize,
                type_id,
            })
            .collect(),
        line_info: Vec::new(),
        core_relos: Vec::new(),
        externs: kfuncs.clone(),
        map_relocs,
        load_error: None,
    };
    let object = Object {
        name: format!("raw/{file}.json"),
        license: "GPL".to_string(),
        kern_version: None,
        programs: vec![program],
        maps,
        btf: None,
    };
    RawProgram {
        id,
        object,
        raw_maps,
        prog_flags: test.prog_flags,
        expected_attach_type: test.expected_attach_type,
        attach_btf_name: test.kfunc.clone(),
        kfuncs,
        prog_btf: test.btf_blob(),
        expect_priv: test.expect(false).unwrap_or(RawExpect {
            result: test.result,
            msgs: Vec::new(),
        }),
        expect_unpriv: test.expect(true),
    }
}

/// Reads one `corpus/build/raw/X.json`.
pub fn read_raw_file(path: &Path) -> Result<RawFile, RawError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| RawError(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| RawError(format!("{}: {e}", path.display())))
}

/// Reads every `X.json` of a raw directory, sorted by name.
pub fn read_raw_dir(dir: &Path) -> Result<Vec<RawFile>, RawError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| RawError(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read_raw_file(p)).collect()
}

/// The BTF test_verifier creates its spin-lock, timer and kptr maps with
/// (`load_btf()`), as a raw BTF blob, from `corpus/build/raw_btf.json`.
pub fn maps_btf_blob(path: &Path) -> Result<Vec<u8>, RawError> {
    #[derive(Deserialize)]
    struct MapsBtf {
        types: Vec<u32>,
        strings_hex: String,
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| RawError(format!("cannot read {}: {e}", path.display())))?;
    let m: MapsBtf =
        serde_json::from_str(&text).map_err(|e| RawError(format!("{}: {e}", path.display())))?;
    let strings = hex_decode(&m.strings_hex)
        .ok_or_else(|| RawError(format!("{}: bad strings_hex", path.display())))?;
    Ok(btf_blob(&m.types, &strings))
}

/// `load_btf_spec`: header + types + strings, little endian.
fn btf_blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
    let type_len = (types.len() * 4) as u32;
    let mut out = Vec::with_capacity(24 + type_len as usize + strings.len());
    out.extend_from_slice(&0xeb9fu16.to_le_bytes());
    out.push(1); // version
    out.push(0); // flags
    out.extend_from_slice(&24u32.to_le_bytes()); // hdr_len
    out.extend_from_slice(&0u32.to_le_bytes()); // type_off
    out.extend_from_slice(&type_len.to_le_bytes());
    out.extend_from_slice(&type_len.to_le_bytes()); // str_off
    out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    for t in types {
        out.extend_from_slice(&t.to_le_bytes());
    }
    out.extend_from_slice(strings);
    out
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

// ---------------------------------------------------------------- building

const DEFS_START: &str = "struct kfunc_btf_id_pair {";
const DEFS_END: &str = "static struct bpf_test tests[] = {";
const BTF_START: &str = "static const char btf_str_sec[]";
const BTF_END: &str = "static char bpf_vlog[";

/// Lines of `text` from the line starting with `start` up to (without)
/// the line starting with `end`.
fn cut<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let a = text.find(&format!("\n{start}"))? + 1;
    let b = a + text[a..].find(&format!("\n{end}"))? + 1;
    Some(&text[a..b])
}

/// The generated headers `dump_raw_tests.c` includes, from test_verifier.c
/// and the list of `verifier/*.c`.
pub fn generate_headers(
    test_verifier_c: &str,
    stems: &[String],
) -> Result<(String, String), BuildError> {
    let defs = cut(test_verifier_c, DEFS_START, DEFS_END).ok_or_else(|| {
        BuildError::Step(format!(
            "test_verifier.c: cannot find `{DEFS_START}` ... `{DEFS_END}`"
        ))
    })?;
    let btf = cut(test_verifier_c, BTF_START, BTF_END).ok_or_else(|| {
        BuildError::Step(format!(
            "test_verifier.c: cannot find `{BTF_START}` ... `{BTF_END}`"
        ))
    })?;
    let defs_h = format!(
        "/* Generated by `bpfproof corpus build` from test_verifier.c; do not edit. */\n{defs}\n{btf}"
    );
    let mut list = String::from("/* Generated by `bpfproof corpus build`; do not edit. */\n");
    let ident = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    };
    for (i, s) in stems.iter().enumerate() {
        list.push_str(&format!(
            "static struct bpf_test tests_{i}_{}[] = {{\n#include \"verifier/{s}.c\"\n}};\n",
            ident(s)
        ));
    }
    list.push_str("static const struct raw_file raw_files[] = {\n");
    for (i, s) in stems.iter().enumerate() {
        let id = format!("tests_{i}_{}", ident(s));
        list.push_str(&format!("\t{{\"{s}\", {id}, ARRAY_SIZE({id})}},\n"));
    }
    list.push_str("};\n");
    Ok((defs_h, list))
}

/// Compiles the dumper and writes `raw_dir/X.json` and `maps_btf`;
/// returns (files, tests).
pub fn build_raw(
    kernel_tools: &Path,
    dumper_src: &Path,
    work: &Path,
    raw_dir: &Path,
    maps_btf: &Path,
) -> Result<(usize, usize), BuildError> {
    let gcc = tools::require(&GCC)?;
    let selftests = kernel_tools.join("testing/selftests/bpf");
    let tv_path = selftests.join("test_verifier.c");
    let tv = std::fs::read_to_string(&tv_path).map_err(|e| BuildError::io(&tv_path, e))?;
    let vdir = selftests.join("verifier");
    let mut stems: Vec<String> = std::fs::read_dir(&vdir)
        .map_err(|e| BuildError::io(&vdir, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.strip_suffix(".c").map(str::to_string)
        })
        .collect();
    stems.sort();
    if stems.is_empty() {
        return Err(BuildError::Step(format!("no tests in {}", vdir.display())));
    }
    let (defs, list) = generate_headers(&tv, &stems)?;
    std::fs::create_dir_all(work).map_err(|e| BuildError::io(work, e))?;
    for (name, text) in [("raw_tests_defs.h", defs), ("raw_tests_list.h", list)] {
        let p = work.join(name);
        std::fs::write(&p, text).map_err(|e| BuildError::io(&p, e))?;
    }
    let exe = work.join("dump_raw_tests");
    let inc = |flag: &str, p: &Path| {
        let mut s = std::ffi::OsString::from(flag);
        s.push(p.as_os_str());
        s
    };
    tools::run_ok(
        Command::new(&gcc)
            .args(["-O1", "-w", "-std=gnu11"])
            .arg(inc("-I", work))
            .arg(inc("-I", &selftests))
            .arg(inc("-I", &kernel_tools.join("include")))
            .arg(inc("-I", &kernel_tools.join("include/uapi")))
            .arg("-o")
            .arg(&exe)
            .arg(dumper_src),
        "compiling corpus/tools/dump_raw_tests.c",
    )?;
    if raw_dir.exists() {
        std::fs::remove_dir_all(raw_dir).map_err(|e| BuildError::io(raw_dir, e))?;
    }
    std::fs::create_dir_all(raw_dir).map_err(|e| BuildError::io(raw_dir, e))?;
    let out = tools::run_ok(
        Command::new(&exe).arg(raw_dir).arg(maps_btf),
        "running dump_raw_tests",
    )?;
    let tests: usize = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| BuildError::Step("dump_raw_tests printed no test count".into()))?;
    Ok((stems.len(), tests))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JUMP0: &str = r#"{"index":0,"descr":"jump test 1","insns":[[191,2,10,0,0],[123,2,1,-8,0],[21,1,0,1,0],[122,2,0,-8,0],[183,0,0,0,0],[149,0,0,0,0]],"prog_type":1,"prog_type_name":"socket_filter","expected_attach_type":0,"kfunc":null,"result":"ACCEPT","result_unpriv":"REJECT","errstr":null,"errstr_unpriv":"R1 pointer comparison","flags":0,"prog_flags":0,"unpriv":true,"insn_processed":0,"runs":0,"retval":0,"retval_unpriv":0,"fill_helper":false,"fixup_map_hash_8b":[],"fixup_map_array_48b":[3],"fixup_prog1":[],"fixup_kfunc_btf_id":[],"func_info":[],"btf_types":[],"btf_strings_hex":"","expected_insns":[],"unexpected_insns":[]}"#;

    #[test]
    fn parse_and_load() {
        let t = parse_raw_test(JUMP0).expect("parses");
        assert_eq!(t.descr, "jump test 1");
        assert_eq!(t.insns.len(), 6);
        assert_eq!(t.insns[1], (123, 2, 1, -8, 0));
        let p = load_raw_test(&t, "jump", None);
        assert_eq!(p.id, "jump/0");
        let prog = &p.object.programs[0];
        assert_eq!(prog.prog_type, Some(ProgType::SocketFilter));
        assert_eq!(prog.insns.len(), 6);
        assert_eq!(p.object.maps.len(), 1);
        let m = &p.object.maps[0];
        assert_eq!(
            (m.map_type, m.key_size, m.value_size, m.max_entries),
            (2, 4, 48, 1)
        );
        assert_eq!(m.initial.as_ref().map(|v| v[28]), Some(0x12));
        assert_eq!(p.raw_maps[0].init, MapInit::TestVal);
        assert_eq!(prog.insns[3].imm, 0);
        assert_eq!(p.expect_priv.result, RawResult::Accept);
        let u = p.expect_unpriv.expect("runs unprivileged");
        assert_eq!(u.result, RawResult::Reject);
        assert_eq!(u.msgs, vec!["R1 pointer comparison".to_string()]);
    }

    #[test]
    fn errstr_sequence_and_fallbacks() {
        let mut t = parse_raw_test(JUMP0).expect("parses");
        t.errstr = Some("a\tb".into());
        t.errstr_unpriv = None;
        t.result_unpriv = RawResult::Undef;
        t.result = RawResult::Reject;
        let u = t.expect(true).expect("unpriv");
        assert_eq!(u.result, RawResult::Reject);
        assert_eq!(u.msgs, vec!["a".to_string(), "b".to_string()]);
        t.unpriv = false;
        assert!(t.expect(true).is_none());
    }

    #[test]
    fn subprogs_from_calls() {
        let ins = |code, src, imm| RawInsn {
            code,
            dst: 0,
            src,
            off: 0,
            imm,
        };
        let insns = vec![
            ins(0x85, 1, 1),
            ins(0x95, 0, 0),
            ins(0xb7, 0, 0),
            ins(0x95, 0, 0),
            ins(0x85, 1, 100), // out of range: ignored
        ];
        let s = find_subprogs(&insns);
        assert_eq!(s.len(), 2);
        assert_eq!((s[1].start, s[1].len), (2, 3));
    }

    #[test]
    fn btf_blob_layout() {
        let b = btf_blob(&[1, 2], b"\0a\0");
        assert_eq!(&b[0..4], &[0x9f, 0xeb, 1, 0]);
        assert_eq!(b.len(), 24 + 8 + 3);
        assert_eq!(hex_decode("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(hex_decode("0"), None);
    }

    #[test]
    fn header_generation() {
        let tv = "x\nstruct kfunc_btf_id_pair {\nint a;\n};\nstatic struct bpf_test tests[] = {\n\
                  static const char btf_str_sec[] = \"\";\nstatic __u32 btf_raw_types[] = {};\nstatic char bpf_vlog[1];\n";
        let (defs, list) =
            generate_headers(tv, &["and".to_string(), "ctx-x".to_string()]).expect("generated");
        assert!(defs.contains("struct kfunc_btf_id_pair {"));
        assert!(!defs.contains("tests[]"));
        assert!(defs.contains("btf_raw_types"));
        assert!(!defs.contains("bpf_vlog"));
        assert!(list.contains("#include \"verifier/ctx-x.c\""));
        assert!(list.contains("tests_1_ctx_x"));
        assert!(generate_headers("nothing", &[]).is_err());
    }
}
