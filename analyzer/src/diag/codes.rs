//! The registry of stable diagnostic codes (`BPF1xx` structure, `BPF2xx`
//! registers, `BPF3xx` memory, `BPF4xx` calls, `BPF5xx` references,
//! `BPF6xx` limits, `BPF9xx` input errors).

/// A stable diagnostic code such as `BPF901`.
pub type Code = &'static str;

/// One entry of the registry.
#[derive(Clone, Copy, Debug)]
pub struct CodeInfo {
    /// The code, e.g. `BPF901`.
    pub code: Code,
    /// A short kebab-case name.
    pub name: &'static str,
    /// One line saying what it means.
    pub summary: &'static str,
}

/// Every code bpfproof can emit, in numeric order.
pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "BPF101",
        name: "invalid-instruction",
        summary: "an instruction the kernel does not accept (unknown opcode, reserved fields, bad shift or division by a zero constant)",
    },
    CodeInfo {
        code: "BPF102",
        name: "bad-control-flow",
        summary: "the control-flow graph is malformed (jump out of range, unreachable instruction, back-edge where loops are not allowed, bad last instruction)",
    },
    CodeInfo {
        code: "BPF201",
        name: "uninitialized-register",
        summary: "a register is read before anything was written to it",
    },
    CodeInfo {
        code: "BPF202",
        name: "frame-pointer-write",
        summary: "the frame pointer R10 is written",
    },
    CodeInfo {
        code: "BPF203",
        name: "prohibited-pointer-arithmetic",
        summary: "arithmetic on a pointer that the kernel forbids or cannot bound",
    },
    CodeInfo {
        code: "BPF204",
        name: "pointer-comparison",
        summary: "a comparison involving pointers that the kernel forbids",
    },
    CodeInfo {
        code: "BPF205",
        name: "bad-return-value",
        summary: "R0 at program exit is not in the range the program type requires",
    },
    CodeInfo {
        code: "BPF206",
        name: "pointer-leak",
        summary: "a pointer value would leak to user space (unprivileged rules)",
    },
    CodeInfo {
        code: "BPF301",
        name: "packet-access",
        summary: "a packet access not proven to lie between data and data_end",
    },
    CodeInfo {
        code: "BPF302",
        name: "map-value-access",
        summary: "a map value access not proven to lie inside the value",
    },
    CodeInfo {
        code: "BPF303",
        name: "stack-access",
        summary: "an invalid stack access (out of bounds, misaligned, uninitialized, bad spill/fill size)",
    },
    CodeInfo {
        code: "BPF304",
        name: "ctx-access",
        summary: "an access to the context the program type does not allow",
    },
    CodeInfo {
        code: "BPF305",
        name: "invalid-mem-access",
        summary: "memory access through a register that is not a valid pointer (scalar, possibly NULL, ...)",
    },
    CodeInfo {
        code: "BPF306",
        name: "map-key-access",
        summary: "an invalid access to a map key",
    },
    CodeInfo {
        code: "BPF307",
        name: "mem-access",
        summary: "an access outside memory returned by a helper",
    },
    CodeInfo {
        code: "BPF308",
        name: "btf-struct-access",
        summary: "a read through a kernel (BTF) pointer outside the struct or at a negative offset",
    },
    CodeInfo {
        code: "BPF401",
        name: "invalid-call",
        summary: "a call to an unknown helper or a map reference that is not a map",
    },
    CodeInfo {
        code: "BPF402",
        name: "helper-not-allowed",
        summary: "the program type may not call this helper",
    },
    CodeInfo {
        code: "BPF403",
        name: "gpl-only-helper",
        summary: "a GPL-only helper called from a program without a GPL-compatible license",
    },
    CodeInfo {
        code: "BPF404",
        name: "sleepable-helper",
        summary: "a helper that may sleep called from a non-sleepable program",
    },
    CodeInfo {
        code: "BPF405",
        name: "bad-helper-argument",
        summary: "a helper argument of the wrong type or size",
    },
    CodeInfo {
        code: "BPF406",
        name: "map-helper-mismatch",
        summary: "a map type that this helper does not accept",
    },
    CodeInfo {
        code: "BPF407",
        name: "bad-function-call",
        summary: "a bpf-to-bpf call the kernel refuses (too deep, stack too large, stack pointer returned)",
    },
    CodeInfo {
        code: "BPF501",
        name: "unreleased-reference",
        summary: "an acquired reference (socket, ring buffer record, ...) is not released on some path",
    },
    CodeInfo {
        code: "BPF502",
        name: "bad-release",
        summary: "a release of something that was not acquired, or of a pointer without a reference",
    },
    CodeInfo {
        code: "BPF503",
        name: "spin-lock-misuse",
        summary: "a bpf_spin_lock used the way the kernel forbids (calls or exit while held, direct access, wrong lock)",
    },
    CodeInfo {
        code: "BPF601",
        name: "too-many-instructions",
        summary: "the verifier would process more than 1,000,000 instructions",
    },
    CodeInfo {
        code: "BPF602",
        name: "too-many-branches",
        summary: "more than 8192 branches are pending at once",
    },
    CodeInfo {
        code: "BPF603",
        name: "infinite-loop",
        summary: "a loop revisits an identical state: it cannot terminate",
    },
    CodeInfo {
        code: "BPF604",
        name: "stack-too-deep",
        summary: "the stacks of the functions on one call chain add up to more than 512 bytes",
    },
    CodeInfo {
        code: "BPF901",
        name: "unreadable-input",
        summary: "the file could not be read",
    },
    CodeInfo {
        code: "BPF902",
        name: "bad-elf",
        summary: "the file is not a valid ELF object",
    },
    CodeInfo {
        code: "BPF903",
        name: "not-bpf-object",
        summary: "the ELF object is not a 64-bit little-endian BPF object",
    },
    CodeInfo {
        code: "BPF904",
        name: "bad-code-section",
        summary: "a code section is malformed (size not a multiple of 8, bad symbol bounds)",
    },
    CodeInfo {
        code: "BPF905",
        name: "bad-relocation",
        summary: "a relocation cannot be applied the way libbpf applies it",
    },
    CodeInfo {
        code: "BPF906",
        name: "bad-btf",
        summary: "the .BTF section is malformed",
    },
    CodeInfo {
        code: "BPF907",
        name: "bad-btf-ext",
        summary: "the .BTF.ext section is malformed",
    },
    CodeInfo {
        code: "BPF908",
        name: "bad-map-definition",
        summary: "a map definition (BTF-defined, legacy or global data) is malformed",
    },
    CodeInfo {
        code: "BPF909",
        name: "unresolved-extern",
        summary: "an extern (kfunc, ksym, kconfig) cannot be resolved against the target kernel",
    },
    CodeInfo {
        code: "BPF910",
        name: "bad-core-relocation",
        summary: "a CO-RE relocation record is malformed",
    },
    CodeInfo {
        code: "BPF911",
        name: "no-such-program",
        summary: "no program in the object matches the requested name",
    },
    CodeInfo {
        code: "BPF912",
        name: "unknown-program-type",
        summary: "the program type cannot be derived from the section name; pass --type",
    },
    CodeInfo {
        code: "BPF913",
        name: "bad-target-btf",
        summary: "the target kernel BTF is unreadable",
    },
    CodeInfo {
        code: "BPF990",
        name: "unsupported",
        summary: "bpfproof does not model this construct yet, so it cannot predict the verdict",
    },
];

/// Looks a code up in the registry.
pub fn code_info(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_well_formed() {
        for w in CODES.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        for c in CODES {
            assert!(c.code.len() == 6 && c.code.starts_with("BPF"), "{}", c.code);
            assert!(!c.summary.is_empty());
        }
    }
}
