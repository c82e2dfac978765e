//! Tests of `bpfproof_analyzer::object::btf`: the bundled 6.18 vmlinux BTF,
//! `.BTF`/`.BTF.ext` of clang-19 fixtures (tests/data/btf/*.c), CO-RE
//! relocation against 6.18, BTF-defined maps, and robustness on corrupted input.

use bpfproof_analyzer::isa::raw::{self, RawInsn};
use bpfproof_analyzer::object::btf::*;
use object::{Object, ObjectSection, ObjectSymbol, SymbolFlags};

/// 8-byte alignment for embedded ELF files (the `object` crate requires it).
#[repr(C, align(8))]
struct Aligned<T: ?Sized>(T);

static CORE_O_A: &Aligned<[u8]> = &Aligned(*include_bytes!("data/btf/btf_core.o"));
static CORE_MINI_O_A: &Aligned<[u8]> = &Aligned(*include_bytes!("data/btf/btf_core_mini.o"));
static MAPS_O_A: &Aligned<[u8]> = &Aligned(*include_bytes!("data/btf/btf_maps.o"));
static CORE_O: &[u8] = &CORE_O_A.0;
static CORE_MINI_O: &[u8] = &CORE_MINI_O_A.0;
static MAPS_O: &[u8] = &MAPS_O_A.0;

/// Facts about Linux 6.18 taken from
/// `bpftool btf dump file /work/shared/kernel/vmlinux-6.18.btf format raw`:
///   [114] STRUCT 'task_struct' size=3264 vlen=248
///     'pid' type_id=68 bits_offset=10112        -> byte 1264, pid_t (int, 4 bytes)
///     'tgid' type_id=68 bits_offset=10144       -> byte 1268
///     'real_parent' type_id=115 bits_offset=10240 -> byte 1280, [115] PTR -> [114]
///     'flags' type_id=9 bits_offset=352         -> byte 44, unsigned int
///     'comm' type_id=334 bits_offset=14016      -> byte 1752, [334] ARRAY char[16]
///     'in_execve' type_id=9 bits_offset=9539 bitfield_size=1
const TASK_STRUCT_ID: u32 = 114;
const TASK_STRUCT_SIZE: u64 = 3264;
const PID_OFF: i64 = 1264;
const TGID_OFF: i64 = 1268;
const REAL_PARENT_OFF: i64 = 1280;
const COMM_OFF: i64 = 1752;
const FLAGS_OFF: i64 = 44;

struct Fixture {
    btf: Btf,
    ext: BtfExt,
    elf: object::File<'static>,
}

fn section<'a>(elf: &'a object::File<'static>, name: &str) -> &'a [u8] {
    elf.section_by_name(name)
        .unwrap_or_else(|| panic!("no section {name}"))
        .data()
        .expect("section data")
}

fn load(data: &'static [u8]) -> Fixture {
    let elf = object::File::parse(data).expect("ELF");
    let mut btf = Btf::parse(section(&elf, ".BTF")).expect(".BTF parses");
    btf.fixup_datasecs(
        |name| elf.section_by_name(name).map(|s| s.size()),
        |var| {
            elf.symbols()
                .find(|s| s.name() == Ok(var) && !s.is_undefined())
                .map(|s| VarSymbol {
                    offset: s.address(),
                    hidden: matches!(s.flags(), SymbolFlags::Elf { st_other, .. } if st_other & 3 == 1 || st_other & 3 == 2),
                })
        },
    )
    .expect("datasec fixup");
    let ext = BtfExt::parse(section(&elf, ".BTF.ext"), &btf).expect(".BTF.ext parses");
    Fixture { btf, ext, elf }
}

fn insns_of(f: &Fixture, sec: &str) -> Vec<RawInsn> {
    RawInsn::slice_from_bytes(section(&f.elf, sec))
}

fn vmlinux() -> &'static Btf {
    bundled_vmlinux_btf().expect("bundled BTF")
}

// ---------------------------------------------------------------- vmlinux

#[test]
fn vmlinux_task_struct_facts() {
    let k = vmlinux();
    // 126585 types + void, from the last id in the bpftool raw dump.
    assert_eq!(k.types_len(), 126_586);
    let ts = k
        .find_by_name_kind("task_struct", BtfKind::Struct)
        .expect("task_struct");
    assert_eq!(ts, TASK_STRUCT_ID);
    let t = k.type_by_id(ts).unwrap();
    assert_eq!(t.size(), Some(3264));
    assert_eq!(t.vlen(), 248);
    let member = |name: &str| {
        t.members()
            .iter()
            .find(|m| k.str_at(m.name_off) == Some(name))
            .unwrap_or_else(|| panic!("member {name}"))
            .clone()
    };
    let pid = member("pid");
    assert_eq!(i64::from(pid.bit_offset / 8), PID_OFF);
    assert_eq!(k.resolve_size(pid.type_id).unwrap(), 4);
    assert_eq!(k.type_to_string(pid.type_id), "pid_t");
    assert_eq!(k.name_of(k.skip_mods_and_typedefs(pid.type_id)), "int");
    assert_eq!(i64::from(member("tgid").bit_offset / 8), TGID_OFF);
    let rp = member("real_parent");
    assert_eq!(i64::from(rp.bit_offset / 8), REAL_PARENT_OFF);
    assert_eq!(k.type_to_string(rp.type_id), "struct task_struct *");
    assert_eq!(k.resolve_size(rp.type_id).unwrap(), 8);
    let comm = member("comm");
    assert_eq!(i64::from(comm.bit_offset / 8), COMM_OFF);
    assert_eq!(k.resolve_size(comm.type_id).unwrap(), 16);
    assert_eq!(k.type_to_string(comm.type_id), "char[16]");
    let ie = member("in_execve");
    assert_eq!((ie.bit_offset, ie.bitfield_size), (9539, 1));
    assert!(t.kind_flag);
    assert_eq!(k.resolve_size(ts).unwrap(), TASK_STRUCT_SIZE);
}

#[test]
fn vmlinux_funcs_enums_datasec() {
    let k = vmlinux();
    // [75990] FUNC 'do_nanosleep' type_id=75989 linkage=static
    // [75989] FUNC_PROTO ret_type_id=21 vlen=2 't' type_id=10889 'mode' type_id=4336
    let f = k.find_by_name_kind("do_nanosleep", BtfKind::Func).unwrap();
    assert_eq!(f, 75990);
    let (ret, params) = k.func_proto_of(f).unwrap();
    assert_eq!(k.name_of(ret), "int");
    assert_eq!(params.len(), 2);
    assert_eq!(k.str_at(params[0].name_off), Some("t"));
    assert_eq!(
        k.type_to_string(f),
        "int do_nanosleep(struct hrtimer_sleeper *, enum hrtimer_mode)"
    );
    assert!(matches!(
        k.type_by_id(f).unwrap().kind,
        BtfTypeKind::Func {
            linkage: FuncLinkage::Static,
            ..
        }
    ));
    assert_eq!(k.func_proto_of(TASK_STRUCT_ID), None);

    // [1891] ENUM 'bpf_map_type' size=4 vlen=37, 'BPF_MAP_TYPE_RINGBUF' val=27
    let e = k.find_by_name_kind("bpf_map_type", BtfKind::Enum).unwrap();
    let v = k
        .type_by_id(e)
        .unwrap()
        .enum_values()
        .iter()
        .find(|v| k.str_at(v.name_off) == Some("BPF_MAP_TYPE_RINGBUF"))
        .unwrap();
    assert_eq!(v.value, 27);
    // [13574] ENUM64 'perf_callchain_context' 'PERF_CONTEXT_HV' val=18446744073709551584
    let e64 = k
        .find_by_name_kind("perf_callchain_context", BtfKind::Enum64)
        .unwrap();
    assert_eq!(e64, 13574);
    let t64 = k.type_by_id(e64).unwrap();
    assert_eq!(t64.enum_values()[0].value, 18_446_744_073_709_551_584);
    assert_eq!(k.resolve_size(e64).unwrap(), 8);

    // [126585] DATASEC '.data..percpu' size=185496 vlen=352,
    //   type_id=10665 offset=178752 size=3584 (VAR 'runqueues')
    let vars = k.datasec_vars(".data..percpu");
    assert_eq!(vars.len(), 352);
    let rq = vars.iter().find(|v| v.name == "runqueues").unwrap();
    assert_eq!((rq.offset, rq.size, rq.var_id), (178_752, 3584, 10665));
    assert_eq!(rq.type_id, 10200);
    assert_eq!(k.type_to_string(rq.type_id), "struct rq");
    assert!(k.datasec_vars(".nope").is_empty());

    // Every kind of the 6.18 BTF is present and every type resolves safely.
    let mut kinds = std::collections::BTreeSet::new();
    for (id, t) in k.iter_types() {
        kinds.insert(t.kind());
        let _ = k.resolve_size(id);
    }
    assert_eq!(kinds.len(), 19, "all kinds except UNKN: {kinds:?}");
    assert!(k.type_by_id(126_586).is_none());
    assert_eq!(k.type_to_string(0), "void");
    assert_eq!(
        k.resolve_size(0),
        Err(BtfError::Resolve(0, "unsized or too deep type chain"))
    );
}

// ---------------------------------------------------------------- .BTF.ext

#[test]
fn func_info_and_line_info() {
    let f = load(MAPS_O);
    let names: Vec<&str> = f.ext.section_names().collect();
    assert_eq!(names, vec![".text", "tc"]);
    let fi = f.ext.func_info("tc");
    let got: Vec<(u32, &str)> = fi
        .iter()
        .map(|i| (i.insn_off_bytes, f.btf.name_of(i.type_id)))
        .collect();
    // symbols: tail @0 (16 bytes), entry @0x10 (llvm-readelf -s)
    assert_eq!(got, vec![(0, "tail"), (16, "entry")]);
    let fi_text = f.ext.func_info(".text");
    assert_eq!(fi_text.len(), 1);
    assert_eq!(f.btf.name_of(fi_text[0].type_id), "helper");
    assert_eq!(f.btf.type_to_string(fi_text[0].type_id), "int helper(int)");
    assert!(f.ext.func_info("nope").is_empty());

    // llvm-objdump-19 -d -l (DWARF): tail insn 0 at line 70, entry insn 2 at
    // line 75, helper insn 0 at 63; BTF line_info agrees except that it puts
    // a function's first insn on the declaration line when the prologue has
    // code there (entry 74, helper 62). Offsets are in bytes.
    let li = f.ext.line_info("tc");
    assert!(
        li.windows(2)
            .all(|w| w[0].insn_off_bytes <= w[1].insn_off_bytes)
    );
    let at = |off: u32| li.iter().find(|l| l.insn_off_bytes == off).unwrap();
    assert_eq!(at(0).line, 70);
    assert_eq!(at(0).text.trim(), "return 7;");
    assert!(at(0).file.ends_with("btf_maps.c"), "{}", at(0).file);
    // BTF line_info puts a function's first insn on its declaration line
    // (DWARF says 75, the opening brace).
    assert_eq!(at(16).line, 74);
    assert_eq!(at(16).text, "int entry(void *ctx)");
    let call = li
        .iter()
        .find(|l| l.text.contains("bpf_tail_call"))
        .unwrap();
    assert_eq!(call.line, 81);
    assert_eq!(call.col, 2);
    let lt = f.ext.line_info(".text");
    assert_eq!(lt[0].insn_off_bytes, 0);
    assert_eq!(lt[0].line, 62);
    assert!(lt[0].text.contains("int helper(int x)"));
    assert!(
        lt.iter()
            .any(|l| l.line == 64 && l.text.contains("x * 3 + 1"))
    );
    let (fs, ls, cs) = f.ext.record_sizes();
    assert_eq!((fs, ls, cs), (8, 16, 0));
    assert!(f.ext.core_relos("tc").is_empty());
}

/// Builds a `.BTF.ext` with one func_info record of the given record size.
fn ext_with_func_rec_size(rec_size: u32, extra: &[u8]) -> Vec<u8> {
    let mut sub = Vec::new();
    sub.extend_from_slice(&rec_size.to_le_bytes());
    sub.extend_from_slice(&1u32.to_le_bytes()); // sec_name_off: must be a valid string
    sub.extend_from_slice(&1u32.to_le_bytes()); // num_info
    sub.extend_from_slice(&8u32.to_le_bytes()); // insn_off
    sub.extend_from_slice(&1u32.to_le_bytes()); // type_id
    sub.extend_from_slice(extra);
    let mut out = Vec::new();
    out.extend_from_slice(&0xeb9fu16.to_le_bytes());
    out.push(1);
    out.push(0);
    out.extend_from_slice(&32u32.to_le_bytes());
    for v in [0u32, sub.len() as u32, 0, 0, 0, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&sub);
    out
}

#[test]
fn ext_record_sizes_forward_compatible() {
    let f = load(MAPS_O);
    // name offset 1 is the first string of the fixture's string table
    let sec = f.btf.str_at(1).unwrap().to_string();
    let ok = BtfExt::parse(&ext_with_func_rec_size(8, &[]), &f.btf).unwrap();
    assert_eq!(
        ok.func_info(&sec),
        &[FuncInfo {
            insn_off_bytes: 8,
            type_id: 1
        }]
    );
    let bigger = BtfExt::parse(&ext_with_func_rec_size(12, &[0xaa; 4]), &f.btf).unwrap();
    assert_eq!(bigger.func_info(&sec).len(), 1);
    assert_eq!(bigger.record_sizes().0, 12);
    assert!(BtfExt::parse(&ext_with_func_rec_size(4, &[]), &f.btf).is_err());
    assert!(BtfExt::parse(&ext_with_func_rec_size(10, &[0; 2]), &f.btf).is_err());
}

// ---------------------------------------------------------------- maps

#[test]
fn btf_defined_maps() {
    let f = load(MAPS_O);
    let maps = parse_btf_map_defs(&f.btf, ".maps").unwrap();
    let names: Vec<&str> = maps.iter().map(|m| m.name.as_str()).collect();
    // sorted by section offset (llvm-readelf -s): inner1 0, inner2 0x20,
    // outer 0x40, jmp 0x70, hmap 0x98, sized 0xc0, bloom 0xe8
    assert_eq!(
        names,
        ["inner1", "inner2", "outer", "jmp", "hmap", "sized", "bloom"]
    );
    let get = |n: &str| maps.iter().find(|m| m.name == n).unwrap();

    let h = get("hmap");
    assert_eq!(
        (h.map_type, h.max_entries, h.key_size, h.value_size),
        (1, 1024, 4, 24)
    );
    assert_eq!(h.map_flags, 1); // BPF_F_NO_PREALLOC
    assert_eq!(h.sec_offset, 0x98);
    assert_eq!(h.sec_size, 40);
    assert_eq!(h.struct_size, 40);
    assert_eq!(f.btf.type_to_string(h.key_type_id.unwrap()), "__u32");
    assert_eq!(f.btf.type_to_string(h.value_type_id.unwrap()), "struct val");
    assert!(h.values_offset.is_none() && h.inner.is_none());
    assert_ne!(h.parts & maps::MAP_DEF_KEY_TYPE, 0);

    let s = get("sized");
    assert_eq!(
        (s.map_type, s.key_size, s.value_size, s.max_entries),
        (2, 4, 64, 4)
    );
    assert_eq!(s.pinning, maps::LIBBPF_PIN_BY_NAME);
    assert_eq!((s.key_type_id, s.value_type_id), (None, None));

    let b = get("bloom");
    assert_eq!(
        (b.map_type, b.map_extra, b.value_size, b.key_size),
        (30, 3, 8, 0)
    );

    let o = get("outer");
    assert_eq!(o.map_type, maps::BPF_MAP_TYPE_ARRAY_OF_MAPS);
    assert_eq!(o.value_size, 4);
    assert_eq!(o.values_kind, Some(MapValuesKind::InnerMap));
    assert_eq!(o.values_offset, Some(24)); // type, max_entries, key: 3 pointers
    assert_eq!(o.values_elem_size, 8);
    let inner = o.inner.as_ref().unwrap();
    assert_eq!(inner.name, "outer.inner");
    assert_eq!(
        (
            inner.map_type,
            inner.max_entries,
            inner.key_size,
            inner.value_size
        ),
        (2, 1, 4, 4)
    );
    assert_eq!(inner.sec_offset, 0x40);

    let j = get("jmp");
    assert_eq!(j.map_type, maps::BPF_MAP_TYPE_PROG_ARRAY);
    assert_eq!(j.values_kind, Some(MapValuesKind::Progs));
    let jdef = f.btf.type_by_id(j.def_type_id).unwrap();
    let values = jdef.members().last().unwrap();
    assert_eq!(f.btf.type_to_string(values.type_id), "int (*)(void *)[0]");
    assert_eq!(j.values_offset, Some(24));
    assert!(j.inner.is_none());
    assert_eq!((j.key_size, j.value_size), (4, 4));

    // .rel.maps slots: outer[0] = inner1, outer[2] = inner2, jmp[1] = tail
    let rel_maps = f
        .elf
        .section_by_name(".maps")
        .unwrap()
        .relocations()
        .map(|(off, _)| off)
        .collect::<Vec<_>>();
    let slot = |m: &BtfMapDef, off: u64| {
        (off - u64::from(m.sec_offset) - u64::from(m.values_offset.unwrap()))
            / u64::from(m.values_elem_size)
    };
    let mut slots: Vec<(String, u64)> = rel_maps
        .iter()
        .map(|&off| {
            let m = maps
                .iter()
                .find(|m| {
                    off >= u64::from(m.sec_offset) && off < u64::from(m.sec_offset + m.sec_size)
                })
                .unwrap();
            (m.name.clone(), slot(m, off))
        })
        .collect();
    slots.sort();
    assert_eq!(
        slots,
        vec![
            ("jmp".to_string(), 1),
            ("outer".to_string(), 0),
            ("outer".to_string(), 2)
        ]
    );

    assert!(parse_btf_map_defs(&f.btf, ".nomaps").is_err());
}

// ---------------------------------------------------------------- CO-RE

struct Applied {
    insns: Vec<RawInsn>,
    orig: Vec<RawInsn>,
    out: Vec<(usize, CoreReloKind, CoreOutcome)>,
}

fn apply_all(f: &Fixture, sec: &str, target: &Btf) -> Applied {
    let orig = insns_of(f, sec);
    let mut insns = orig.clone();
    let mut cache = CoreCache::new();
    let mut out = Vec::new();
    for r in f.ext.core_relos(sec) {
        let idx = (r.insn_off_bytes / 8) as usize;
        let o = apply_core_relo(&f.btf, target, r, &mut insns, idx, &mut cache)
            .unwrap_or_else(|e| panic!("relo at {idx} ({} {}): {e}", r.kind.as_str(), r.access));
        out.push((idx, r.kind, o));
    }
    Applied { insns, orig, out }
}

fn outcome(a: &Applied, idx: usize, kind: CoreReloKind) -> &CoreOutcome {
    &a.out
        .iter()
        .find(|(i, k, _)| *i == idx && *k == kind)
        .unwrap_or_else(|| panic!("no {kind:?} relo at {idx}"))
        .2
}

fn patched(old: i64, new: i64) -> CoreOutcome {
    CoreOutcome::Patched { old, new }
}

fn is_poison(i: RawInsn) -> bool {
    i == RawInsn::new(raw::BPF_JMP | raw::BPF_CALL, 0, 0, 0, 0x0bad_2310)
}

#[test]
fn core_with_vmlinux_h_layout() {
    use CoreReloKind::*;
    let f = load(CORE_O);
    let a = apply_all(&f, "kprobe/do_nanosleep", vmlinux());
    // llvm-objdump-19 -dr btf_core.o gives the relocation sites.
    // core_reads: ALU64 mov imm with byte offsets (bpf_probe_read_kernel path)
    assert_eq!(outcome(&a, 2, FieldByteOffset), &patched(PID_OFF, PID_OFF));
    assert_eq!(
        outcome(&a, 15, FieldByteOffset),
        &patched(TGID_OFF, TGID_OFF)
    );
    assert_eq!(
        outcome(&a, 26, FieldByteOffset),
        &patched(REAL_PARENT_OFF, REAL_PARENT_OFF)
    );
    assert_eq!(
        outcome(&a, 43, FieldByteOffset),
        &patched(COMM_OFF, COMM_OFF)
    );
    // core_direct: LDX offsets
    for (idx, off) in [(53, PID_OFF), (59, TGID_OFF), (63, REAL_PARENT_OFF)] {
        assert_eq!(outcome(&a, idx, FieldByteOffset), &patched(off, off));
        assert_eq!(i64::from(a.insns[idx].off), off);
        assert_eq!(a.insns[idx].code, a.orig[idx].code);
    }
    // core_missing: task_struct___x.nonexistent_field -> poisoned
    assert!(
        matches!(outcome(&a, 68, FieldByteOffset), CoreOutcome::Poisoned { reason } if reason.contains("nonexistent_field"))
    );
    assert!(is_poison(a.insns[68]));
    // core_badsz: long pid vs kernel int pid: size changes on a signed field
    assert!(
        matches!(outcome(&a, 77, FieldByteOffset), CoreOutcome::Poisoned { reason } if reason.contains("size"))
    );
    assert!(is_poison(a.insns[77]));
    // core_kinds
    assert_eq!(outcome(&a, 83, FieldExists), &patched(1, 0));
    assert_eq!(a.insns[83].imm, 0);
    assert_eq!(outcome(&a, 87, FieldExists), &patched(1, 1));
    assert_eq!(
        outcome(&a, 89, TypeSize),
        &patched(3264, TASK_STRUCT_SIZE as i64)
    );
    assert_eq!(outcome(&a, 91, TypeExists), &patched(1, 0));
    assert_eq!(outcome(&a, 93, EnumvalValue), &patched(27, 27));
    assert_eq!(outcome(&a, 96, FieldByteSize), &patched(16, 16));
    assert_eq!(
        outcome(&a, 98, TypeIdTarget),
        &patched(i64::from(a.orig[98].imm), i64::from(TASK_STRUCT_ID))
    );
    assert_eq!(
        (a.insns[98].imm, a.insns[99].imm),
        (TASK_STRUCT_ID as i32, 0)
    );
    // TYPE_MATCHES compares INT names too (libbpf `bpf_core_names_match`):
    // thread_info.flags is `long unsigned int` in the GCC-built 6.18 BTF but
    // `unsigned long` in clang's local BTF, so the strict match fails (as in libbpf).
    assert_eq!(outcome(&a, 101, TypeMatches), &patched(1, 0));
    // nothing else changed
    let touched: Vec<usize> = a.out.iter().flat_map(|(i, _, _)| [*i, *i + 1]).collect();
    for (i, (x, y)) in a.orig.iter().zip(&a.insns).enumerate() {
        if !touched.contains(&i) {
            assert_eq!(x, y, "insn {i} changed");
        }
    }
}

#[test]
fn core_with_different_local_layout() {
    use CoreReloKind::*;
    let f = load(CORE_MINI_O);
    let a = apply_all(&f, "kprobe/do_nanosleep", vmlinux());
    // Local offsets 0, 4, 8, 0x12, 0x20 become the 6.18 offsets.
    assert_eq!(outcome(&a, 1, FieldByteOffset), &patched(0, PID_OFF));
    assert_eq!(outcome(&a, 7, FieldByteOffset), &patched(4, TGID_OFF));
    assert_eq!(
        outcome(&a, 11, FieldByteOffset),
        &patched(8, REAL_PARENT_OFF)
    );
    assert_eq!(
        outcome(&a, 13, FieldByteOffset),
        &patched(0x12, COMM_OFF + 2)
    );
    for (idx, off) in [
        (1, PID_OFF),
        (7, TGID_OFF),
        (11, REAL_PARENT_OFF),
        (13, COMM_OFF + 2),
    ] {
        assert_eq!(i64::from(a.insns[idx].off), off, "insn {idx}");
        assert_eq!(a.insns[idx].code, a.orig[idx].code, "insn {idx}");
    }
    // u64 flags locally, unsigned int in the kernel: LDX DW becomes LDX W.
    assert_eq!(outcome(&a, 17, FieldByteOffset), &patched(0x20, FLAGS_OFF));
    assert_eq!(a.orig[17].code, raw::BPF_LDX | raw::BPF_MEM | raw::BPF_DW);
    assert_eq!(a.insns[17].code, raw::BPF_LDX | raw::BPF_MEM | raw::BPF_W);
    assert_eq!(i64::from(a.insns[17].off), FLAGS_OFF);
    // bitfield in_execve at bit 9539, 1 bit, unsigned int:
    // byte_off 1192, byte_sz 4, lshift 64-(9539+1-1192*8)=60, rshift 63
    assert_eq!(outcome(&a, 19, FieldByteOffset), &patched(0x28, 1192));
    assert_eq!(outcome(&a, 21, FieldByteSize), &patched(8, 4));
    assert_eq!(outcome(&a, 36, FieldLshiftU64), &patched(63, 60));
    assert_eq!(outcome(&a, 37, FieldSigned), &patched(0, 0));
    assert_eq!(outcome(&a, 39, FieldRshiftU64), &patched(63, 63));
    assert_eq!(outcome(&a, 41, FieldRshiftU64), &patched(63, 63));
    // enumerator missing in the kernel: both ldimm64 slots poisoned
    assert!(matches!(
        outcome(&a, 45, EnumvalValue),
        CoreOutcome::Poisoned { .. }
    ));
    assert!(is_poison(a.insns[45]) && is_poison(a.insns[46]));
}

#[test]
fn core_cache_and_errors() {
    let f = load(CORE_MINI_O);
    let k = vmlinux();
    let relos = f.ext.core_relos("kprobe/do_nanosleep");
    let r = relos[0].clone();
    let mut insns = insns_of(&f, "kprobe/do_nanosleep");
    let mut cache = CoreCache::new();
    apply_core_relo(&f.btf, k, &r, &mut insns, 1, &mut cache).unwrap();
    assert_eq!(cache.candidates(r.type_id), Some(&[TASK_STRUCT_ID][..]));

    let fresh = insns_of(&f, "kprobe/do_nanosleep");
    let try_relo = |r: &CoreRelo, idx: usize| {
        let mut i = fresh.clone();
        apply_core_relo(&f.btf, k, r, &mut i, idx, &mut CoreCache::new())
    };
    // malformed access strings
    for bad in ["", ":0", "0:", "0::1", "0:x", "0:999", "0:0:0", "-1"] {
        let mut b = r.clone();
        b.access = bad.to_string();
        assert!(try_relo(&b, 1).is_err(), "access {bad:?}");
    }
    // type id out of range, instruction out of range, unknown kind
    let mut b = r.clone();
    b.type_id = 1 << 20;
    assert!(try_relo(&b, 1).is_err());
    assert!(try_relo(&r, fresh.len()).is_err());
    let mut b = r.clone();
    b.kind = CoreReloKind::Unknown(99);
    assert!(try_relo(&b, 1).is_err());
    // expected value mismatch: libbpf refuses (insn 7 has off 4, not 0)
    assert!(try_relo(&r, 7).is_err());
    // not a patchable instruction (call)
    assert!(try_relo(&r, 0).is_err());
}

// ---------------------------------------------------------------- robustness

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// Exercises every query on a (possibly corrupted) BTF; must not panic.
fn exercise(btf: &Btf) {
    for id in 0..btf.types_len() as u32 + 2 {
        let _ = btf.name_of(id);
        let _ = btf.resolve_size(id);
        let _ = btf.skip_mods_and_typedefs(id);
        let _ = btf.type_to_string(id);
        let _ = btf.func_proto_of(id);
    }
    let _ = btf.datasec_vars(".maps");
    let _ = parse_btf_map_defs(btf, ".maps");
}

#[test]
fn truncated_inputs_are_errors() {
    for data in [MAPS_O, CORE_MINI_O] {
        let elf = object::File::parse(data).unwrap();
        let btf_raw = section(&elf, ".BTF");
        let ext_raw = section(&elf, ".BTF.ext");
        let btf = Btf::parse(btf_raw).unwrap();
        for n in 0..btf_raw.len() {
            assert!(
                Btf::parse(&btf_raw[..n]).is_err(),
                "BTF prefix {n} accepted"
            );
        }
        for n in 0..ext_raw.len() {
            assert!(
                BtfExt::parse(&ext_raw[..n], &btf).is_err(),
                "ext prefix {n} accepted"
            );
        }
    }
}

#[test]
fn corrupted_inputs_never_panic() {
    let k = vmlinux();
    let mut reached_core = 0;
    for (seed, data, sec) in [
        (1u64, MAPS_O, "tc"),
        (2, CORE_MINI_O, "kprobe/do_nanosleep"),
        (3, CORE_O, "kprobe/do_nanosleep"),
    ] {
        let f = load(data);
        let elf = &f.elf;
        let btf_raw = section(elf, ".BTF").to_vec();
        let ext_raw = section(elf, ".BTF.ext").to_vec();
        let insns = insns_of(&f, sec);
        let mut rng = Lcg(seed);
        let rounds: u32 = if data.len() > 10_000 { 300 } else { 1000 };
        for round in 0..rounds {
            let mut b = btf_raw.clone();
            let mut e = ext_raw.clone();
            for _ in 0..1 + rng.next() % 4 {
                let target = if round.is_multiple_of(3) {
                    &mut e
                } else {
                    &mut b
                };
                let i = (rng.next() as usize) % target.len();
                target[i] ^= 1 << (rng.next() % 8);
                if rng.next().is_multiple_of(4) {
                    target[i] = 0xff;
                }
            }
            let Ok(btf) = Btf::parse(&b) else { continue };
            exercise(&btf);
            let Ok(ext) = BtfExt::parse(&e, &btf) else {
                continue;
            };
            if !round.is_multiple_of(4) {
                continue;
            }
            let mut cache = CoreCache::new();
            let mut ins = insns.clone();
            for (_, s) in ext.sections() {
                for r in &s.core_relo {
                    let idx = (r.insn_off_bytes / 8) as usize;
                    let _ = apply_core_relo(&btf, k, r, &mut ins, idx, &mut cache);
                    reached_core += 1;
                }
            }
        }
    }
    assert!(
        reached_core > 100,
        "only {reached_core} relocations exercised"
    );
}

/// Hand-made BTF with cycles must be rejected or bounded, never hang.
#[test]
fn cyclic_types_are_bounded() {
    fn blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&0xeb9fu16.to_le_bytes());
        v.push(1);
        v.push(0);
        let tl = (types.len() * 4) as u32;
        for x in [24u32, 0, tl, tl, strings.len() as u32] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        for t in types {
            v.extend_from_slice(&t.to_le_bytes());
        }
        v.extend_from_slice(strings);
        v
    }
    let info = |kind: u32, vlen: u32| (kind << 24) | vlen;
    // [1] typedef a -> [2], [2] const -> [1]; [3] array of [3]; [4] ptr -> [4]
    // [5] struct s { [5] a; } anonymous member of itself
    let types = [
        1,
        info(8, 0),
        2, //
        0,
        info(10, 0),
        1, //
        0,
        info(3, 0),
        0,
        3,
        3,
        5, //
        0,
        info(2, 0),
        4, //
        3,
        (1 << 31) | info(4, 1),
        4,
        0,
        5,
        0,
    ];
    let btf = Btf::parse(&blob(&types, b"\0a\0s\0")).unwrap();
    assert!(btf.resolve_size(1).is_err());
    assert!(btf.resolve_size(3).is_err());
    assert_eq!(btf.resolve_size(4).unwrap(), 8);
    assert_eq!(btf.resolve_size(5).unwrap(), 4);
    exercise(&btf);
    let id = btf.skip_mods_and_typedefs(1);
    assert!(id == 1 || id == 2);
    // CO-RE against itself through the cyclic anonymous member: bounded error or result.
    let mut insns = vec![RawInsn::new(
        raw::BPF_ALU64 | raw::BPF_MOV | raw::BPF_K,
        1,
        0,
        0,
        0,
    )];
    let relo = CoreRelo {
        insn_off_bytes: 0,
        type_id: 5,
        access: "0:0".into(),
        kind: CoreReloKind::FieldByteOffset,
    };
    let _ = apply_core_relo(&btf, &btf, &relo, &mut insns, 0, &mut CoreCache::new());
    // Invalid references are rejected at parse time.
    let bad = [1, info(8, 0), 7];
    assert!(Btf::parse(&blob(&bad, b"\0a\0")).is_err());
    let bad_str = [99, info(8, 0), 0];
    assert!(Btf::parse(&blob(&bad_str, b"\0a\0")).is_err());
    let bad_kind = [0, info(25, 0), 0];
    assert!(Btf::parse(&blob(&bad_kind, b"\0a\0")).is_err());
}

// ---------------------------------------------------------------- crafted BTF

/// Minimal BTF blob builder for crafted test cases.
#[derive(Default)]
struct Builder {
    types: Vec<u32>,
    strings: Vec<u8>,
    n: u32,
}

impl Builder {
    fn new() -> Self {
        Builder {
            strings: vec![0],
            ..Default::default()
        }
    }
    fn s(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }
    fn add(
        &mut self,
        name: &str,
        kind: u32,
        kflag: bool,
        vlen: u32,
        st: u32,
        extra: &[u32],
    ) -> u32 {
        let n = self.s(name);
        self.types
            .extend([n, (u32::from(kflag) << 31) | (kind << 24) | vlen, st]);
        self.types.extend_from_slice(extra);
        self.n += 1;
        self.n
    }
    fn int(&mut self) -> u32 {
        self.add("int", 1, false, 0, 4, &[(1 << 24) | 32])
    }
    /// `int (*name)[n]`
    fn uint_ptr(&mut self, int: u32, n: u32) -> u32 {
        let arr = self.add("", 3, false, 0, 0, &[int, int, n]);
        self.add("", 2, false, 0, arr, &[])
    }
    fn strukt(&mut self, name: &str, size: u32, members: &[(&str, u32)]) -> u32 {
        let mut extra = Vec::new();
        for (i, (mname, t)) in members.iter().enumerate() {
            let n = self.s(mname);
            extra.extend([n, *t, (i as u32) * 64]);
        }
        self.add(name, 4, false, members.len() as u32, size, &extra)
    }
    fn maps(&mut self, vars: &[(&str, u32, u32)]) -> u32 {
        let mut secinfo = Vec::new();
        let mut off = 0;
        for (name, def, linkage) in vars {
            let v = self.add(name, 14, false, 0, *def, &[*linkage]);
            secinfo.extend([v, off, 64]);
            off += 64;
        }
        self.add(".maps", 15, false, vars.len() as u32, off, &secinfo)
    }
    fn build(&self) -> Btf {
        let mut v = Vec::new();
        v.extend_from_slice(&0xeb9fu16.to_le_bytes());
        v.extend_from_slice(&[1, 0]);
        let tl = (self.types.len() * 4) as u32;
        for x in [24u32, 0, tl, tl, self.strings.len() as u32] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        for t in &self.types {
            v.extend_from_slice(&t.to_le_bytes());
        }
        v.extend_from_slice(&self.strings);
        Btf::parse(&v).expect("crafted BTF parses")
    }
}

fn one_map(
    members: impl FnOnce(&mut Builder, u32) -> Vec<(&'static str, u32)>,
) -> Result<Vec<BtfMapDef>, BtfError> {
    let mut b = Builder::new();
    let int = b.int();
    let m = members(&mut b, int);
    let def = b.strukt("", 8 * m.len() as u32, &m);
    b.maps(&[("m", def, 1)]);
    parse_btf_map_defs(&b.build(), ".maps")
}

#[test]
fn map_def_error_cases() {
    // a good one first
    let ok = one_map(|b, int| {
        vec![
            ("type", b.uint_ptr(int, 2)),
            ("key_size", b.uint_ptr(int, 4)),
            ("value_size", b.uint_ptr(int, 8)),
            ("max_entries", b.uint_ptr(int, 10)),
            ("numa_node", b.uint_ptr(int, 1)),
        ]
    })
    .unwrap();
    assert_eq!(
        (
            ok[0].map_type,
            ok[0].key_size,
            ok[0].value_size,
            ok[0].max_entries,
            ok[0].numa_node
        ),
        (2, 4, 8, 10, 1)
    );
    let err = |r: Result<Vec<BtfMapDef>, BtfError>, what: &str| match r {
        Err(BtfError::MapDef(msg)) => assert!(msg.contains(what), "{msg}"),
        other => panic!("expected error containing {what:?}, got {other:?}"),
    };
    err(
        one_map(|b, int| vec![("max_entries", b.uint_ptr(int, 1))]),
        "map type isn't specified",
    );
    err(
        one_map(|b, int| vec![("type", b.uint_ptr(int, 2)), ("bogus", b.uint_ptr(int, 1))]),
        "unknown field 'bogus'",
    );
    err(one_map(|_, int| vec![("type", int)]), "expected PTR");
    err(
        one_map(|b, int| {
            let p = b.add("", 2, false, 0, int, &[]);
            vec![("type", p)]
        }),
        "expected ARRAY",
    );
    err(
        one_map(|b, int| {
            vec![
                ("type", b.uint_ptr(int, 2)),
                ("key_size", b.uint_ptr(int, 8)),
                ("key", b.add("", 2, false, 0, int, &[])),
            ]
        }),
        "conflicting key size",
    );
    err(
        one_map(|b, int| {
            vec![
                ("type", b.uint_ptr(int, 2)),
                ("pinning", b.uint_ptr(int, 7)),
            ]
        }),
        "invalid pinning value 7",
    );
    err(
        one_map(|b, int| {
            let fp = b.add("", 13, false, 0, int, &[]);
            let p = b.add("", 2, false, 0, fp, &[]);
            let arr = b.add("", 3, false, 0, 0, &[p, int, 0]);
            vec![("type", b.uint_ptr(int, 2)), ("values", arr)]
        }),
        "should be map-in-map or prog-array",
    );
    err(
        one_map(|b, int| {
            let fp = b.add("", 13, false, 0, int, &[]);
            let p = b.add("", 2, false, 0, fp, &[]);
            let arr = b.add("", 3, false, 0, 0, &[p, int, 0]);
            vec![
                ("type", b.uint_ptr(int, 3)),
                ("values", arr),
                ("max_entries", b.uint_ptr(int, 1)),
            ]
        }),
        "should be last",
    );
    err(
        one_map(|b, int| {
            let p = b.add("", 2, false, 0, int, &[]);
            let arr = b.add("", 3, false, 0, 0, &[p, int, 0]);
            vec![("type", b.uint_ptr(int, 3)), ("values", arr)]
        }),
        "prog-array value def is of unexpected kind INT",
    );
    // inner map with its own `values` or `pinning`
    err(
        one_map(|b, int| {
            let pin = b.uint_ptr(int, 1);
            let ty = b.uint_ptr(int, 2);
            let inner = b.strukt("", 16, &[("type", ty), ("pinning", pin)]);
            let p = b.add("", 2, false, 0, inner, &[]);
            let arr = b.add("", 3, false, 0, 0, &[p, int, 0]);
            vec![("type", b.uint_ptr(int, 12)), ("values", arr)]
        }),
        "inner def can't be pinned",
    );
    // __ulong(map_extra, ...) as a one-enumerator ENUM64
    let ext = one_map(|b, int| {
        let n = b.s("v");
        let e = b.add("", 19, false, 1, 8, &[n, 0x89ab_cdef, 0x0123_4567]);
        vec![("type", b.uint_ptr(int, 30)), ("map_extra", e)]
    })
    .unwrap();
    assert_eq!(ext[0].map_extra, 0x0123_4567_89ab_cdef);
    // static linkage is rejected
    let mut b = Builder::new();
    let int = b.int();
    let t = b.uint_ptr(int, 2);
    let def = b.strukt("", 8, &[("type", t)]);
    b.maps(&[("m", def, 0)]);
    err(
        parse_btf_map_defs(&b.build(), ".maps"),
        "unsupported map linkage",
    );
}
