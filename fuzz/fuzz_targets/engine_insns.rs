//! The engine on arbitrary instruction sequences for several program
//! types, with the maps of a real object (so that map references resolve):
//! the analysis may accept, reject or call something unsupported, but must
//! never panic or hang.
#![no_main]

use bpfproof_analyzer::engine::{CheckOptions, check_program};
use bpfproof_analyzer::isa::RawInsn;
use bpfproof_analyzer::object::{LoadOptions, Object, load_bytes};
use bpfproof_analyzer::platform::ProgType;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::Duration;

/// Program types tried, chosen by the first input byte.
const TYPES: &[ProgType] = &[
    ProgType::SocketFilter,
    ProgType::Kprobe,
    ProgType::SchedCls,
    ProgType::Tracepoint,
    ProgType::Xdp,
    ProgType::CgroupSkb,
    ProgType::RawTracepoint,
    ProgType::PerfEvent,
];

/// An object with hash, array and ring-buffer-style maps to borrow.
fn base() -> &'static Object {
    static OBJ: OnceLock<Object> = OnceLock::new();
    OBJ.get_or_init(|| {
        // Copied: the ELF reader wants the bytes aligned.
        let data = include_bytes!("../../corpus/programs/xdp_fw.bpf.o").to_vec();
        load_bytes("xdp_fw.bpf.o", &data, &LoadOptions::default()).expect("seed object loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let insns: Vec<RawInsn> = rest
        .chunks_exact(8)
        .map(|c| RawInsn::from_bytes(c.try_into().expect("8 bytes")))
        .collect();
    if insns.is_empty() || insns.len() > 4096 {
        return;
    }
    let obj = base();
    let mut prog = obj.programs[0].clone();
    prog.prog_type = Some(TYPES[sel as usize % TYPES.len()]);
    prog.attach_type = None;
    prog.sleepable = false;
    prog.insns = insns;
    prog.subprogs.truncate(1);
    if let Some(s) = prog.subprogs.first_mut() {
        s.start = 0;
        s.len = prog.insns.len();
    }
    prog.func_info.clear();
    prog.line_info.clear();
    prog.core_relos.clear();
    prog.externs.clear();
    // A pseudo-map ld_imm64 whose imm is a valid map index is one the
    // loader filled in; any other is a raw fd number, as the loader leaves it.
    prog.map_relocs = (0..prog.insns.len())
        .filter(|&i| {
            let x = prog.insns[i];
            x.code == 0x18 && (x.src == 1 || x.src == 2) && (x.imm as u32 as usize) < obj.maps.len()
        })
        .collect();
    let opts = CheckOptions {
        timeout: Some(Duration::from_secs(2)),
        ..Default::default()
    };
    let _ = check_program(obj, &prog, &opts);
});
