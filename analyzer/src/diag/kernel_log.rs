//! The kernel's verifier messages mapped to bpfproof's codes, and the
//! error line found in a kernel verifier log.
//!
//! One table, [`RULES`], says which code a kernel message belongs to. The
//! engine assigns its codes where it raises each error; a test checks that
//! [`code_for_message`] gives the same code for every message the engine
//! emits on the corpora, so `explain --log` and `check` agree. The table
//! knows the older wordings too (Linux 5.x printed `inv` for scalars, e.g.
//! `R1 type=inv expected=fp`, `R0 invalid mem access 'inv'`).

use super::Code;

/// How a rule matches a message.
#[derive(Clone, Copy, Debug)]
enum Pat {
    /// The message starts with this text.
    Prefix(&'static str),
    /// The message contains this text.
    Contains(&'static str),
    /// `R<n> ` followed by this text (the register-prefixed messages).
    Reg(&'static str),
}

impl Pat {
    fn matches(self, msg: &str) -> bool {
        match self {
            Pat::Prefix(p) => msg.starts_with(p),
            Pat::Contains(p) => msg.contains(p),
            Pat::Reg(p) => strip_reg(msg).is_some_and(|rest| rest.starts_with(p)),
        }
    }
}

/// `R12 rest` → `rest`.
fn strip_reg(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix('R')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    rest[digits..].strip_prefix(' ')
}

/// Ordered rules: the first that matches gives the code. Specific wordings
/// come before the general ones they would also match.
const RULES: &[(Pat, Code)] = &[
    // BPF6xx limits (before anything that could match their text).
    (Pat::Prefix("BPF program is too large"), "BPF601"),
    (Pat::Prefix("The sequence of "), "BPF602"),
    (Pat::Prefix("infinite loop detected"), "BPF603"),
    (Pat::Prefix("combined stack size of"), "BPF604"),
    // BPF5xx references and locks.
    (Pat::Prefix("Unreleased reference"), "BPF501"),
    (
        Pat::Contains("reference has not been acquired before"),
        "BPF502",
    ),
    (
        Pat::Contains("must be referenced when passed to release"),
        "BPF502",
    ),
    (Pat::Prefix("release kernel function"), "BPF502"),
    (
        Pat::Prefix("cannot release unowned const bpf_dynptr"),
        "BPF502",
    ),
    (Pat::Contains("is an unacquired reference"), "BPF502"),
    (Pat::Contains("spin_lock"), "BPF503"),
    (Pat::Contains("spin_unlock"), "BPF503"),
    (
        Pat::Prefix("function calls are not allowed while holding a lock"),
        "BPF503",
    ),
    (Pat::Prefix("tracing progs cannot use bpf_timer"), "BPF503"),
    // BPF4xx calls.
    (Pat::Contains("is not pointing to valid bpf_map"), "BPF401"),
    (Pat::Prefix("invalid func "), "BPF401"),
    (Pat::Prefix("unknown func "), "BPF401"),
    (
        Pat::Prefix("program of this type cannot use helper"),
        "BPF402",
    ),
    (Pat::Prefix("calling kernel function"), "BPF402"),
    (
        Pat::Prefix("invalid kernel function call not eliminated"),
        "BPF402",
    ),
    (Pat::Prefix("cannot call GPL-restricted function"), "BPF403"),
    (
        Pat::Prefix("cannot call kernel function from non-GPL"),
        "BPF403",
    ),
    (Pat::Prefix("helper call might sleep"), "BPF404"),
    (Pat::Contains("can be sleepable"), "BPF404"),
    (Pat::Prefix("program must be sleepable"), "BPF404"),
    (Pat::Prefix("cannot pass map_type"), "BPF406"),
    (Pat::Prefix("cannot update sockmap"), "BPF406"),
    (
        Pat::Prefix("callback function not allowed for map"),
        "BPF406",
    ),
    (Pat::Prefix("the call stack of"), "BPF407"),
    (Pat::Prefix("cannot return stack pointer"), "BPF407"),
    (
        Pat::Prefix("callback function cannot be the main program"),
        "BPF407",
    ),
    // Arena (prog->aux->arena, __arg_arena, kfunc __map arguments).
    (Pat::Prefix("Only one arena per program"), "BPF401"),
    (Pat::Prefix("addr_space_cast insn can only"), "BPF101"),
    (Pat::Reg("is not a pointer to arena or scalar"), "BPF407"),
    (
        Pat::Contains("arena cannot be combined with any other tags"),
        "BPF407",
    ),
    (Pat::Contains("isn't map pointer"), "BPF405"),
    (
        Pat::Prefix("Possibly NULL pointer passed to trusted"),
        "BPF405",
    ),
    (Pat::Reg("must be a rcu pointer"), "BPF405"),
    (Pat::Contains(" expected pointer to "), "BPF405"),
    // BPF1xx structure (before the register rules: `R11 is invalid`).
    (Pat::Prefix("div by zero"), "BPF101"),
    (Pat::Prefix("invalid shift"), "BPF101"),
    (Pat::Reg("is invalid"), "BPF101"),
    (Pat::Contains("uses reserved fields"), "BPF101"),
    (Pat::Prefix("unknown opcode"), "BPF101"),
    (Pat::Contains("bpf_ld_imm64 insn"), "BPF101"),
    (Pat::Prefix("invalid BPF_LD_IMM insn"), "BPF101"),
    (Pat::Prefix("LD_ABS is"), "BPF101"),
    (
        Pat::Prefix("BPF_LD_[ABS|IND] instructions not allowed"),
        "BPF101",
    ),
    (Pat::Prefix("invalid may_goto"), "BPF101"),
    (Pat::Prefix("jump out of range"), "BPF102"),
    (Pat::Prefix("last insn is not an exit or jmp"), "BPF102"),
    (Pat::Prefix("unreachable insn"), "BPF102"),
    (Pat::Prefix("back-edge from insn"), "BPF102"),
    (Pat::Prefix("jump into the middle of ldimm64"), "BPF102"),
    (Pat::Prefix("call to invalid destination"), "BPF102"),
    (Pat::Prefix("invalid insn idx"), "BPF102"),
    (Pat::Prefix("too many subprograms"), "BPF102"),
    (
        Pat::Prefix("loading/calling other bpf or kernel functions"),
        "BPF102",
    ),
    // BPF2xx registers.
    (Pat::Reg("!read_ok"), "BPF201"),
    (Pat::Prefix("frame pointer is read only"), "BPF202"),
    (Pat::Reg("pointer comparison prohibited"), "BPF204"),
    (Pat::Prefix("At program exit the register"), "BPF205"),
    (Pat::Prefix("At callback return the register"), "BPF205"),
    (Pat::Prefix("At subprogram exit the register"), "BPF205"),
    (Pat::Contains("leaks addr"), "BPF206"),
    (Pat::Reg("partial copy of pointer"), "BPF206"),
    (Pat::Prefix("leaking pointer from stack"), "BPF206"),
    // BPF3xx memory: misaligned accesses by the kind of memory.
    (Pat::Prefix("misaligned packet access"), "BPF301"),
    (Pat::Prefix("misaligned value access"), "BPF302"),
    (Pat::Prefix("misaligned stack access"), "BPF303"),
    (Pat::Prefix("misaligned context access"), "BPF304"),
    (Pat::Prefix("misaligned key access"), "BPF306"),
    (Pat::Prefix("misaligned "), "BPF305"),
    // Helper memory arguments (before the map-value wordings they resemble).
    (
        Pat::Reg("min value is negative, either use unsigned or"),
        "BPF405",
    ),
    (Pat::Reg("unbounded memory access, use"), "BPF405"),
    (Pat::Reg("invalid zero-sized read"), "BPF405"),
    (
        Pat::Prefix("helper access to the packet is not allowed"),
        "BPF405",
    ),
    (Pat::Prefix("get_local_storage() doesn't support"), "BPF405"),
    (Pat::Prefix("expected an initialized"), "BPF405"),
    // Constant strings (ARG_PTR_TO_CONST_STR).
    (Pat::Reg("does not point to a readonly map"), "BPF405"),
    (Pat::Reg("is not a constant address"), "BPF405"),
    (Pat::Prefix("string is not zero-terminated"), "BPF405"),
    (Pat::Prefix("no direct value access support"), "BPF405"),
    // Dynptrs.
    (Pat::Prefix("cannot overwrite referenced dynptr"), "BPF303"),
    (
        Pat::Prefix("Dynptr has to be an uninitialized dynptr"),
        "BPF405",
    ),
    (Pat::Prefix("Expected an initialized dynptr"), "BPF405"),
    (Pat::Prefix("Expected a dynptr of type"), "BPF405"),
    (
        Pat::Prefix("cannot pass pointer to const bpf_dynptr"),
        "BPF405",
    ),
    (
        Pat::Prefix("dynptr has to be at a constant offset"),
        "BPF405",
    ),
    (Pat::Prefix("cannot pass in dynptr at an offset"), "BPF405"),
    (Pat::Prefix("potential write to dynptr"), "BPF405"),
    (Pat::Prefix("Unsupported reg type"), "BPF405"),
    (
        Pat::Prefix("the prog does not allow writes to packet data"),
        "BPF301",
    ),
    (Pat::Prefix("expected uninitialized"), "BPF405"),
    (
        Pat::Contains("doesn't have constant offset. kptr"),
        "BPF405",
    ),
    (Pat::Contains("kptr isn't referenced kptr"), "BPF405"),
    (Pat::Prefix("arg#"), "BPF405"),
    // Packets.
    (Pat::Prefix("invalid access to packet"), "BPF301"),
    (Pat::Reg("offset is outside of the packet"), "BPF301"),
    (Pat::Prefix("cannot write into packet"), "BPF301"),
    // Map values (and kptr fields in them).
    (Pat::Prefix("invalid access to map value"), "BPF302"),
    (Pat::Reg("unbounded memory access, make sure"), "BPF302"),
    (
        Pat::Reg("min value is negative, either use unsigned index"),
        "BPF302",
    ),
    (
        Pat::Reg("min value is outside of the allowed memory range"),
        "BPF302",
    ),
    (
        Pat::Reg("max value is outside of the allowed memory range"),
        "BPF302",
    ),
    (Pat::Prefix("write into map forbidden"), "BPF302"),
    (Pat::Prefix("read from map forbidden"), "BPF302"),
    (Pat::Prefix("direct value offset of"), "BPF302"),
    (Pat::Prefix("invalid access to map value pointer"), "BPF302"),
    (Pat::Contains("kptr"), "BPF302"),
    // Stack.
    (Pat::Prefix("invalid write to stack"), "BPF303"),
    (Pat::Prefix("invalid indirect"), "BPF303"),
    (Pat::Prefix("invalid read from stack"), "BPF303"),
    (Pat::Prefix("invalid variable-offset"), "BPF303"),
    (Pat::Prefix("invalid unbounded variable-offset"), "BPF303"),
    (Pat::Prefix("invalid size of register fill"), "BPF303"),
    (Pat::Prefix("invalid size of register spill"), "BPF303"),
    (Pat::Prefix("invalid stack off"), "BPF303"),
    (Pat::Prefix("cannot spill pointers to stack"), "BPF303"),
    (Pat::Prefix("corrupted spill memory"), "BPF303"),
    (Pat::Prefix("attempt to corrupt spilled pointer"), "BPF303"),
    // Context.
    (Pat::Prefix("invalid bpf_context access"), "BPF304"),
    (Pat::Prefix("dereference of modified"), "BPF304"),
    (Pat::Prefix("negative offset ctx ptr"), "BPF304"),
    (Pat::Prefix("variable ctx access"), "BPF304"),
    (
        Pat::Contains("must have zero offset when passed to release func"),
        "BPF304",
    ),
    (Pat::Prefix("variable untrusted_ptr_ access"), "BPF304"),
    // Map keys, helper memory, kernel structs.
    (Pat::Prefix("write to change key"), "BPF306"),
    (Pat::Reg("write to change key"), "BPF306"),
    (Pat::Prefix("invalid access to map key"), "BPF306"),
    (Pat::Prefix("invalid access to memory"), "BPF307"),
    (Pat::Reg("invalid variable buffer offset"), "BPF304"),
    (Pat::Reg("invalid tracepoint buffer access"), "BPF304"),
    (Pat::Prefix("access beyond struct"), "BPF308"),
    (Pat::Prefix("only read from"), "BPF308"),
    (Pat::Prefix("only read is supported"), "BPF308"),
    (Pat::Reg("is bpf_array invalid negative access"), "BPF308"),
    (Pat::Prefix("cannot access ptr member"), "BPF308"),
    (
        Pat::Contains("access is allowed only to CAP_PERFMON"),
        "BPF308",
    ),
    (Pat::Reg("invalid negative access"), "BPF308"),
    // Invalid pointers and atomics.
    (Pat::Reg("invalid mem access"), "BPF305"),
    (Pat::Prefix("BPF_ATOMIC stores into"), "BPF305"),
    (Pat::Reg("cannot write into"), "BPF305"),
    (Pat::Reg("invalid sock"), "BPF305"),
    (Pat::Reg("invalid tcp_sock"), "BPF305"),
    (Pat::Reg("invalid xdp_sock"), "BPF305"),
    (Pat::Reg("invalid sock_common"), "BPF305"),
    (
        Pat::Prefix("same insn cannot be used with different pointers"),
        "BPF305",
    ),
    // Pointer arithmetic.
    (Pat::Contains("pointer arithmetic"), "BPF203"),
    (Pat::Reg("pointer += pointer"), "BPF203"),
    (Pat::Reg("tried to subtract pointer from scalar"), "BPF203"),
    (Pat::Reg("subtraction from stack pointer"), "BPF203"),
    (Pat::Reg("bitwise operator"), "BPF203"),
    (Pat::Prefix("math between"), "BPF203"),
    (Pat::Contains("pointer offset"), "BPF203"),
    (Pat::Contains("pointer be out of bounds"), "BPF203"),
    // Helper arguments (the general `type=... expected=...`).
    (Pat::Reg("type="), "BPF405"),
    (Pat::Reg("must be referenced or trusted"), "BPF405"),
    (Pat::Contains(" expected="), "BPF405"),
];

/// The code of a kernel verifier message (one line, as the kernel prints
/// it), or `None` when the message is not one bpfproof knows.
pub fn code_for_message(msg: &str) -> Option<Code> {
    let msg = normalize_old_wording(msg.trim());
    RULES
        .iter()
        .find(|(p, _)| p.matches(&msg))
        .map(|&(_, code)| code)
}

/// Rewrites Linux 5.x wordings into the current ones: `inv` for a scalar
/// (`type=inv`, `'inv'`), `invP` and `fp-8` states do not occur in error
/// lines.
fn normalize_old_wording(msg: &str) -> String {
    msg.replace("type=inv ", "type=scalar ")
        .replace("'inv'", "'scalar'")
        .replace("invalid stack type R", "invalid indirect read from stack R")
}

/// What [`find_error`] found in a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogError {
    /// The error line (the kernel's message).
    pub message: String,
    /// Its code, when the message is known.
    pub code: Option<Code>,
    /// The last instruction the log shows before the error, when any.
    pub insn: Option<usize>,
    /// The 1-based line of the log the message is on.
    pub log_line: usize,
}

/// Removes a loader's decoration from one log line: libbpf's `libbpf: `
/// prefix and the `prog 'name': ` part, veristat's indentation.
fn undecorate(line: &str) -> &str {
    let mut l = line.trim_end_matches('\r').trim();
    if let Some(rest) = l.strip_prefix("libbpf: ") {
        l = rest;
        if let Some(rest) = l.strip_prefix("prog '")
            && let Some(end) = rest.find("': ")
        {
            l = &rest[end + 3..];
        }
    }
    l.trim()
}

/// Whether a (undecorated) line is part of the instruction trace or the
/// trailer rather than an error message.
fn is_trace(l: &str) -> bool {
    if l.is_empty() || l.starts_with(';') || l.starts_with("--") {
        return true;
    }
    // `12: (bf) r1 = r6`, `12: R1=ctx() ...`, `from 4 to 6: ...`
    let digits = l.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && l[digits..].starts_with(':') {
        return true;
    }
    const TRACE: &[&str] = &[
        "from ",
        "processed ",
        "verification time",
        "stack depth",
        "max_states_per_insn",
        "mark_precise",
        "last_idx",
        "regs=",
        "parent ",
        "func#",
        "Func#",
        "Validating ",
        "caller:",
        "callee:",
        "returning from callee",
        "to caller at",
        "Live regs before insn",
        "cur state:",
        "old state:",
        "propagating ",
        "BPF program load failed",
        "failed to load",
        "Error: ",
        "Processing ",
        "PROCESSING ",
        "load bpf program failed",
        "loaded",
        "static subprog",
        "global func",
        "is safe for any args",
        "changes_pkt_data",
        "sleepable",
        // Notes printed while the BTF of global functions is checked.
        "Global function",
    ];
    if TRACE.iter().any(|p| l.starts_with(p)) {
        return true;
    }
    if l.contains("size cannot be determined") {
        return true;
    }
    // `frame1: R1=...` (a callee's state), not `frame pointer is read only`.
    if l.strip_prefix("frame")
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        return true;
    }
    // A register-state line without an instruction number (`R1=ctx() R10=fp0`).
    l.starts_with('R')
        && l.split_whitespace().all(|w| {
            w.contains('=') && (w.starts_with('R') || w.starts_with("fp") || w.starts_with("refs"))
        })
}

/// The instruction index of a trace line (`12: (bf) ...`), if it is one.
fn trace_insn(l: &str) -> Option<usize> {
    let digits = l.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && l[digits..].starts_with(": (") {
        l[..digits].parse().ok()
    } else {
        None
    }
}

/// Finds the error in a kernel verifier log, as printed by libbpf
/// (`libbpf: prog 'x': -- BEGIN PROG LOAD LOG --`), bpftool, veristat `-v`
/// or the raw log buffer, at any log level: the first line after the
/// instruction trace that is a message bpfproof knows, else the first line
/// that is not part of the trace.
pub fn find_error(log: &str) -> Option<LogError> {
    let mut first_unknown: Option<LogError> = None;
    let mut insn = None;
    for (i, raw) in log.lines().enumerate() {
        let l = undecorate(raw);
        if let Some(n) = trace_insn(l) {
            insn = Some(n);
        }
        // The kernel prints some errors without a line break after the
        // instruction (`3: (15) if r0 == 0x0 goto pc-3 infinite loop detected at insn 1`).
        let l = match l.find("infinite loop detected") {
            Some(i) if i > 0 => &l[i..],
            _ => l,
        };
        if is_trace(l) {
            continue;
        }
        let code = code_for_message(l);
        let found = LogError {
            message: l.to_string(),
            code,
            insn,
            log_line: i + 1,
        };
        if code.is_some() {
            return Some(found);
        }
        if first_unknown.is_none() {
            first_unknown = Some(found);
        }
    }
    first_unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_wordings() {
        let cases = [
            (
                "invalid access to packet, off=34 size=4, R3(id=0,off=34,r=14)",
                "BPF301",
            ),
            ("R2 !read_ok", "BPF201"),
            ("R0 invalid mem access 'map_value_or_null'", "BPF305"),
            ("invalid bpf_context access off=256 size=4", "BPF304"),
            (
                "misaligned context access off (0x0; 0x0)+0+2 size 4",
                "BPF304",
            ),
            ("misaligned stack access off 0+-8+2 size 4", "BPF303"),
            (
                "R1 min value is negative, either use unsigned index or do a if (index >=0) check.",
                "BPF302",
            ),
            (
                "R2 min value is negative, either use unsigned or 'var &= const'",
                "BPF405",
            ),
            ("R11 is invalid", "BPF101"),
            ("unknown opcode 8d", "BPF101"),
            ("Unreleased reference id=2 alloc_insn=5", "BPF501"),
            ("combined stack size of 3 calls is 544. Too large", "BPF604"),
            (
                "R1 pointer arithmetic on map_value_or_null prohibited, null-check it first",
                "BPF203",
            ),
            ("R1 type=scalar expected=fp, pkt", "BPF405"),
            (
                "cannot call GPL-restricted function from non-GPL compatible program",
                "BPF403",
            ),
        ];
        for (m, c) in cases {
            assert_eq!(code_for_message(m), Some(c), "{m}");
        }
        assert_eq!(code_for_message("something new"), None);
    }

    #[test]
    fn linux_5_wordings() {
        assert_eq!(code_for_message("R1 type=inv expected=fp"), Some("BPF405"));
        assert_eq!(
            code_for_message("R0 invalid mem access 'inv'"),
            Some("BPF305")
        );
        assert_eq!(
            code_for_message("invalid stack type R1 off=-8 access_size=8"),
            Some("BPF303")
        );
    }

    #[test]
    fn finds_the_error_in_a_libbpf_log() {
        let log = "libbpf: prog 'xdp_no_bounds': BPF program load failed: Permission denied\n\
                   libbpf: prog 'xdp_no_bounds': -- BEGIN PROG LOAD LOG --\n\
                   0: R1=ctx() R10=fp0\n\
                   ; void *data = (void *)(long)ctx->data; @ bad_pkt_bounds.bpf.c:12\n\
                   0: (61) r2 = *(u32 *)(r1 +0)          ; R1=ctx() R2_w=pkt(r=0)\n\
                   1: (69) r0 = *(u16 *)(r2 +12)\n\
                   invalid access to packet, off=12 size=2, R2(id=0,off=12,r=0)\n\
                   R2 offset is outside of the packet\n\
                   processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n\
                   -- END PROG LOAD LOG --\n\
                   libbpf: prog 'xdp_no_bounds': failed to load: -13\n";
        let e = find_error(log).expect("found");
        assert_eq!(e.code, Some("BPF301"));
        assert_eq!(e.insn, Some(1));
        assert!(e.message.starts_with("invalid access to packet"));
        assert_eq!(e.log_line, 7);
    }

    #[test]
    fn finds_the_error_in_a_linux_5_log() {
        // bpftool on Linux 5.10: `inv` scalars, `_value` bounds, and state
        // lines whose words are not all `reg=value`.
        let log = "func#0 @0\n\
                   0: R1=ctx(id=0,off=0,imm=0) R10=fp0\n\
                   0: (b7) r2 = 0\n\
                   1: R1=ctx(id=0,off=0,imm=0) R2_w=inv0 R10=fp0\n\
                   1: (85) call bpf_get_prandom_u32#7\n\
                   2: R0_w=inv(id=0,umax_value=4294967295,var_off=(0x0; 0xffffffff)) R10=fp0\n\
                   2: (71) r1 = *(u8 *)(r0 +0)\n\
                   R0 invalid mem access 'inv'\n\
                   processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
        let e = find_error(log).expect("found");
        assert_eq!(e.message, "R0 invalid mem access 'inv'");
        assert_eq!(e.code, Some("BPF305"));
        assert_eq!(e.insn, Some(2));
    }

    #[test]
    fn infinite_loop_after_state_lines() {
        let log = "3: (56) if w1 != 0x7 goto pc-2\ninfinite loop detected at insn 3\ncur state: R1=scalar() R10=fp0\nold state: R1=scalar() R10=fp0\n";
        assert_eq!(find_error(log).and_then(|e| e.code), Some("BPF603"));
    }
}
