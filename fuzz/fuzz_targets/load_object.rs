//! The object loader (ELF, BTF, BTF.ext, relocations, CO-RE) on arbitrary
//! bytes, then the engine on whatever programs came out: neither may panic
//! or hang.
#![no_main]

use bpfproof_analyzer::engine::{CheckOptions, check_program};
use bpfproof_analyzer::object::{LoadOptions, load_bytes};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = load_bytes("fuzz.bpf.o", data, &LoadOptions::default()) else {
        return;
    };
    let opts = CheckOptions {
        timeout: Some(Duration::from_secs(2)),
        ..Default::default()
    };
    for p in &obj.programs {
        let _ = check_program(&obj, p, &opts);
    }
});
