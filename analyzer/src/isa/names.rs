//! Names for the disassembler from a loaded object: helpers, kfuncs, maps,
//! functions and ksyms, as `bpftool` and the verifier log print them.

use super::DisasmCtx;
use super::raw::*;
use crate::object::{Object, Program};
use crate::platform::helper_name;

/// Names for the disassembler, taken from the object and the program.
pub struct ObjectNames<'a> {
    /// The object (map table).
    pub obj: &'a Object,
    /// The program (subprograms, externs).
    pub prog: &'a Program,
}

impl DisasmCtx for ObjectNames<'_> {
    fn helper_name(&self, id: i32) -> Option<String> {
        helper_name(id).map(str::to_string)
    }
    fn kfunc_name(&self, btf_id: i32, _off: i16) -> Option<String> {
        self.prog
            .externs
            .iter()
            .find(|e| e.kind == "kfunc" && e.target_btf_id == Some(btf_id as u32))
            .map(|e| e.name.clone())
    }
    fn ldimm64(&self, idx: usize, pseudo: u8, imm: i32, imm_hi: i32) -> Option<String> {
        let map = |i: i32| self.obj.maps.get(i as usize).map(|m| m.name.clone());
        match pseudo {
            BPF_PSEUDO_MAP_FD | BPF_PSEUDO_MAP_IDX => Some(format!("map[{}]", map(imm)?)),
            BPF_PSEUDO_MAP_VALUE | BPF_PSEUDO_MAP_IDX_VALUE => {
                Some(format!("map[{}][0]+{}", map(imm)?, imm_hi))
            }
            BPF_PSEUDO_FUNC => {
                let target = (idx as i64 + imm as i64 + 1) as usize;
                let s = self.prog.subprogs.iter().find(|s| s.start == target)?;
                Some(format!("func[{}]", s.name))
            }
            BPF_PSEUDO_BTF_ID => {
                let e = self.prog.externs.iter().find(|e| e.insn == idx)?;
                Some(format!("ksym[{}]", e.name))
            }
            _ => None,
        }
    }
}
