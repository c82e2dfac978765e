//! The `help:` line of each code: the usual fix, in one sentence.

/// The usual fix for a diagnostic of this code and message.
pub fn help(code: &str, message: &str) -> Option<&'static str> {
    Some(match code {
        "BPF101" => {
            "remove the instruction (hand-written assembly?) or build with an `-mcpu` the target kernel supports"
        }
        "BPF102" => {
            "make every jump land inside the function and remove code that cannot be reached"
        }
        "BPF201" => {
            "write the register before reading it; values in R1-R5 do not survive a call, keep them in R6-R9 or on the stack"
        }
        "BPF202" => "never assign R10; use stack variables",
        "BPF203" if message.contains("null-check it first") => {
            "compare the pointer with NULL before doing arithmetic on it"
        }
        "BPF203" => {
            "bound the scalar before adding it to the pointer (`if (i >= N) return ...;` or `i &= MASK`)"
        }
        "BPF204" => "compare the values the pointers point to, or load as root",
        "BPF205" => "return a value in the range the program type allows",
        "BPF206" => "store or return data, not addresses",
        "BPF301" => {
            "compare the end of the access with `data_end` before it: `if (data + off + size > data_end) return ...;`"
        }
        "BPF302" => {
            "bound the offset by the value size before the access (`if (i >= N) return ...;`, with an unsigned index)"
        }
        "BPF303" if message.contains("dynptr") => {
            "do not reuse a live dynptr's stack variable: submit or discard it first, or use another variable"
        }
        "BPF303" => {
            "initialise stack variables (`= {}`) and keep accesses within the 512-byte frame"
        }
        "BPF304" => {
            "read context fields through the program type's context struct, at constant offsets, through the unmodified context pointer"
        }
        "BPF305" if message.contains("'scalar'") => {
            "dereference only pointers: a slice or packet pointer becomes a scalar after a call that may change the packet (take the slice again after it), or after its dynptr or reference was released"
        }
        "BPF305" if message.contains("_or_null") => {
            "check the pointer against NULL before dereferencing it"
        }
        "BPF305" => {
            "dereference only pointers the verifier knows (use `bpf_probe_read_kernel()` for other addresses)"
        }
        "BPF306" => "read the key; write only the value",
        "BPF307" => "stay within the size the helper returned (reserve or request enough bytes)",
        "BPF308" => "access members of the struct as BTF describes them, reading only",
        "BPF401" => {
            "call only helpers and kfuncs the target kernel has; pass maps by reference (`&map`)"
        }
        "BPF402" => {
            "use a helper the program type allows, or a program type that allows this helper"
        }
        "BPF403" => {
            "declare a GPL-compatible license: `char LICENSE[] SEC(\"license\") = \"GPL\";`"
        }
        "BPF404" => {
            "call helpers that may sleep only from a sleepable program (`.s` section such as `lsm.s/`, `fentry.s/`)"
        }
        "BPF405"
            if message.contains("initialized dynptr") || message.contains("dynptr of type") =>
        {
            "create the dynptr first (bpf_dynptr_from_mem, bpf_ringbuf_reserve_dynptr, bpf_dynptr_from_skb/xdp) and do not use it after it was released or overwritten"
        }
        "BPF405" if message.contains("uninitialized dynptr") => {
            "construct a new dynptr in its own 16-byte stack variable, not in one that holds a live dynptr"
        }
        "BPF405" if message.contains("potential write to dynptr") => {
            "give the helper a buffer that does not overlap the dynptr's stack variable"
        }
        "BPF405" => {
            "pass the argument type the helper's prototype asks for, with a size bounded to the buffer (`if (n == 0 || n > sizeof(buf)) return ...;`)"
        }
        "BPF406" => "use a map type this helper accepts",
        "BPF407" => {
            "return values instead of pointers to locals, and keep the call depth within 8 frames"
        }
        "BPF501" => "release or submit the reference on every path before returning",
        "BPF502" => {
            "release only what this program acquired, with the pointer the acquiring call returned"
        }
        "BPF503" => {
            "between bpf_spin_lock and bpf_spin_unlock only touch the locked value: call helpers before or after"
        }
        "BPF601" => {
            "reduce the paths to explore: bpf_loop(), open-coded iterators, or fewer iterations"
        }
        "BPF602" => "replace long chains of conditions by a loop or a map lookup",
        "BPF603" => "make the loop change its condition on every iteration and bound it",
        "BPF604" => "move large buffers from the stack to a per-CPU array map",
        "BPF901" => "check the path",
        "BPF902" | "BPF904" | "BPF906" | "BPF907" | "BPF910" => {
            "rebuild the object with clang -target bpf"
        }
        "BPF903" => "compile with `clang -target bpf`",
        "BPF905" => "rebuild with a clang that libbpf supports",
        "BPF908" => {
            "declare maps with `__uint(type, ...)`, `__type(key, ...)`, `__type(value, ...)`, `__uint(max_entries, ...)`"
        }
        "BPF909" => {
            "declare optional externs `__weak` and test them with `bpf_ksym_exists()`, or pass the target kernel's BTF with --btf"
        }
        "BPF911" => "`bpfproof list OBJ` shows the program names",
        "BPF912" => "use a section name libbpf knows, or pass --type",
        "BPF913" => "pass a kernel BTF blob such as /sys/kernel/btf/vmlinux",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kernel_error_code_has_a_help_line() {
        for c in super::super::codes::CODES {
            if c.code != "BPF990" {
                assert!(
                    super::help(c.code, "").is_some(),
                    "{} has no help line",
                    c.code
                );
            }
        }
    }
}
