//! Verifier-log rendering of register and stack state, as Linux 6.12
//! `kernel/bpf/log.c` does it: `print_verifier_state`, `print_reg_state`,
//! `print_scalar_ranges`, `reg_type_str`, `verbose_snum` / `verbose_unum`,
//! `tnum_strn`, `print_liveness` and `print_insn_state`.
//!
//! The functions return the text instead of appending it to a log buffer.
//! Output of one frame looks like the kernel's:
//!
//! ```text
//!  R0_w=scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R1=ctx() R10=fp0 fp-8=mmmmmmmm
//! ```
//!
//! Differences from the kernel, because our state does not carry the data:
//!
//! * The kernel prints only "scratched" registers and stack slots unless
//!   `print_all`; we do not track scratching, so `print_all = false` prints
//!   every initialised register and every stack slot with a non-invalid
//!   byte, exactly like `print_all = true`.
//! * Stack slots carry no liveness in our model, so a slot never gets the
//!   `_r` / `_w` suffix (the kernel takes it from `spilled_ptr.live`).
//! * `REG_LIVE_DONE` (`D`) is not modelled; [`FuncState::live`] uses bit 0
//!   for `REG_LIVE_READ` and bit 1 for `REG_LIVE_WRITTEN`.
//! * `PTR_TO_BTF_ID` prints `ptr_` without the BTF type name, non-owning
//!   references (`non_own_ref`), `CONST_PTR_TO_DYNPTR`'s `type=`, dynptr and
//!   iterator stack slots, and `async_cb` are not modelled.
//! * References live in [`VerifierState::refs`], not in the frame: only
//!   [`print_cur_state`] prints ` refs=`.
//! * The kernel ends `print_verifier_state` with a newline; these functions
//!   return the text without it.

use bpfproof_domains::scalar::{self, Scalar};
use bpfproof_domains::tnum::Tnum;

use super::frame::{FuncState, VerifierState};
use super::reg::{BaseType, RegState};
use super::stack::{BPF_REG_SIZE, SlotType};

/// What the log shows of a map (`struct bpf_map`): its name, key and value
/// size. Indexed by [`RegState::map`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapInfo<'a> {
    /// `map->name` (printed as `map=NAME` unless empty).
    pub name: &'a str,
    /// `map->key_size` (`ks=`).
    pub key_size: u32,
    /// `map->value_size` (`vs=`).
    pub value_size: u32,
}

/// `REG_LIVE_READ` in [`FuncState::live`].
const REG_LIVE_READ: u8 = 1;
/// `REG_LIVE_WRITTEN` in [`FuncState::live`].
const REG_LIVE_WRITTEN: u8 = 2;

/// `BPF_ADD_CONST`: the id of a scalar linked to another with a constant
/// delta (held in `off`).
const BPF_ADD_CONST: u32 = 1 << 31;

/// `BPF_LOG_MIN_ALIGNMENT`.
const BPF_LOG_MIN_ALIGNMENT: usize = 8;
/// `BPF_LOG_ALIGNMENT`.
const BPF_LOG_ALIGNMENT: usize = 40;

/// `verbose_unum`: decimal up to `U16_MAX`, else `%#llx`.
pub fn verbose_unum(num: u64) -> String {
    scalar::unum(num)
}

/// `verbose_snum`: decimal in `S16_MIN..=S16_MAX`, else `%#llx` of the
/// 64-bit pattern (so `-100000` is `0xfffffffffffe7960`).
pub fn verbose_snum(num: i64) -> String {
    scalar::snum(num)
}

/// `tnum_strn`: a constant as `verbose_unum` would print it, otherwise
/// `(value; mask)` in hex.
pub fn tnum_strn(a: Tnum) -> String {
    a.strn()
}

/// `print_liveness`: `_` followed by `r` for `REG_LIVE_READ` and `w` for
/// `REG_LIVE_WRITTEN` (6.12 prints both), nothing when neither is set.
pub fn print_liveness(live: u8) -> String {
    let mut s = String::new();
    if live & (REG_LIVE_READ | REG_LIVE_WRITTEN) != 0 {
        s.push('_');
    }
    if live & REG_LIVE_READ != 0 {
        s.push('r');
    }
    if live & REG_LIVE_WRITTEN != 0 {
        s.push('w');
    }
    s
}

/// `reg_type_str`: the type name with flag prefixes and `_or_null`.
pub fn reg_type_str(r: &RegState) -> String {
    r.type_str()
}

/// `print_scalar_ranges`: the non-trivial bounds among smin, smax, umin,
/// umax, smin32, smax32, umin32, umax32, each preceded by `*sep` (then `,`).
///
/// A bound absorbs the later bounds of the same kind (min or max) with the
/// same value (`smax=umax=smax32=umax32=255`), except that a negative signed
/// value never merges with an unsigned one. 32-bit signed bounds are
/// sign-extended only when they print in decimal.
pub fn print_scalar_ranges(out: &mut String, s: &Scalar, sep: &mut &'static str) {
    let ranges = s.render_ranges();
    if !ranges.is_empty() {
        verbose_a(out, sep, &ranges);
    }
}

/// `type_is_map_ptr`.
fn type_is_map_ptr(t: BaseType) -> bool {
    matches!(t, BaseType::MapPtr | BaseType::MapKey | BaseType::MapValue)
}

/// `verbose_a`: append `sep` then the attribute, and make `sep` a comma.
fn verbose_a(out: &mut String, sep: &mut &'static str, attr: &str) {
    out.push_str(sep);
    out.push_str(attr);
    *sep = ",";
}

/// `print_reg_state`: one register as it appears after `R3=`, for a
/// register of the frame numbered `frameno` (a stack pointer into another
/// frame prints as `fp[N]-8`).
pub fn print_reg_state(frameno: u8, r: &RegState, maps: &[MapInfo<'_>]) -> String {
    let mut out = String::new();
    let t = r.base;
    let var_off = r.var.var_off;
    if t == BaseType::Scalar && r.precise {
        out.push('P');
    }
    if t == BaseType::Scalar && var_off.is_const() {
        out.push_str(&verbose_snum(var_off.value as i64));
        return out;
    }

    out.push_str(&reg_type_str(r));
    if t == BaseType::Arena {
        return out;
    }
    if t == BaseType::Stack {
        if frameno != r.frameno {
            out.push_str(&format!("[{}]", r.frameno));
        }
        if var_off.is_const() {
            out.push_str(&verbose_snum(
                var_off.value.wrapping_add(r.off as i64 as u64) as i64,
            ));
            return out;
        }
    }
    // PTR_TO_BTF_ID: the BTF type name would follow; not modelled.
    out.push('(');
    let mut sep = "";
    if r.id != 0 {
        verbose_a(
            &mut out,
            &mut sep,
            &format!("id={}", (r.id & !BPF_ADD_CONST) as i32),
        );
    }
    if r.id & BPF_ADD_CONST != 0 {
        out.push_str(&format!("{:+}", r.off));
    }
    if r.ref_obj_id != 0 {
        verbose_a(
            &mut out,
            &mut sep,
            &format!("ref_obj_id={}", r.ref_obj_id as i32),
        );
    }
    if type_is_map_ptr(t)
        && let Some(m) = r.map.and_then(|i| maps.get(i as usize))
    {
        if !m.name.is_empty() {
            verbose_a(&mut out, &mut sep, &format!("map={}", m.name));
        }
        verbose_a(
            &mut out,
            &mut sep,
            &format!("ks={},vs={}", m.key_size as i32, m.value_size as i32),
        );
    }
    if t != BaseType::Scalar && r.off != 0 {
        verbose_a(&mut out, &mut sep, "off=");
        out.push_str(&verbose_snum(r.off as i64));
    }
    if t.is_pkt_pointer() {
        verbose_a(&mut out, &mut sep, "r=");
        // `range` is an int printed through a u64 argument.
        out.push_str(&verbose_unum(r.range as i64 as u64));
    }
    if t == BaseType::Mem {
        verbose_a(&mut out, &mut sep, "sz=");
        out.push_str(&verbose_unum(r.mem_size as u64));
    }
    if var_off.is_const() {
        // a pointer register with fixed offset
        if var_off.value != 0 {
            verbose_a(&mut out, &mut sep, "imm=");
            out.push_str(&verbose_snum(var_off.value as i64));
        }
    } else {
        print_scalar_ranges(&mut out, &r.var, &mut sep);
        if !var_off.is_unknown() {
            verbose_a(
                &mut out,
                &mut sep,
                &format!("var_off={}", tnum_strn(var_off)),
            );
        }
    }
    out.push(')');
    out
}

/// One register value as the log prints it after `R3=`, e.g. `0`, `-1`,
/// `scalar()`, `ctx()`, `fp-8`, `map_value_or_null(id=1,map=m,ks=4,vs=8)`,
/// `pkt(r=14)`, `P5`. The register is taken to belong to frame
/// `r.frameno`, so stack pointers never get the `[N]` frame marker; use
/// [`print_reg_state`] to render one in another frame.
pub fn fmt_reg(r: &RegState, maps: &[MapInfo<'_>]) -> String {
    print_reg_state(r.frameno, r, maps)
}

/// `slot_type_char`.
fn slot_type_char(t: SlotType) -> char {
    match t {
        SlotType::Invalid => '?',
        SlotType::Spill => 'r',
        SlotType::Misc => 'm',
        SlotType::Zero => '0',
        SlotType::Iter => 'i',
        SlotType::Dynptr => 'd',
    }
}

/// `print_verifier_state` with the frame's references (`refs=`) given.
fn print_func_state(f: &FuncState, refs: &[u32], maps: &[MapInfo<'_>]) -> String {
    let mut out = String::new();
    if f.frameno != 0 {
        out.push_str(&format!(" frame{}:", f.frameno));
    }
    for (i, reg) in f.regs.iter().enumerate() {
        if reg.base == BaseType::NotInit {
            continue;
        }
        // No scratch tracking: every initialised register is printed.
        out.push_str(&format!(" R{i}"));
        out.push_str(&print_liveness(f.live[i]));
        out.push('=');
        out.push_str(&print_reg_state(f.frameno, reg, maps));
    }
    // Slots past `allocated_stack` are all invalid and skipped like the
    // kernel's unallocated ones.
    let mut skip_to = 0;
    for (i, slot) in f.stack.iter().enumerate() {
        if i < skip_to || slot.slot_type.iter().all(|&t| t == SlotType::Invalid) {
            continue;
        }
        if slot.slot_type[0] == SlotType::Dynptr {
            // Both slots print once, at the first (higher) one.
            let first = if slot.spilled.dynptr_first_slot {
                i
            } else {
                i + 1
            };
            skip_to = first + 1;
            let reg = &f.stack.get(first).unwrap_or(slot).spilled;
            let off = (-(first as i64) - 1) * BPF_REG_SIZE as i64;
            let mut parts = Vec::new();
            if reg.id != 0 {
                parts.push(format!("id={}", reg.id));
            }
            if reg.ref_obj_id != 0 {
                parts.push(format!("ref_id={}", reg.ref_obj_id));
            }
            // The kernel prints the union word `dynptr_id` shares with
            // `dynptr.first_slot`: 1 at the first slot.
            parts.push("dynptr_id=1".to_string());
            out.push_str(&format!(
                " fp{off}=dynptr_{}({})",
                reg.dynptr_type.name(),
                parts.join(",")
            ));
            continue;
        }
        let mut types_buf: String = slot.slot_type.iter().map(|&t| slot_type_char(t)).collect();
        let off = (-(i as i64) - 1) * BPF_REG_SIZE as i64;
        let reg = &slot.spilled;
        match slot.slot_type[BPF_REG_SIZE - 1] {
            SlotType::Spill => {
                // print MISC/ZERO/INVALID slots above subreg spill
                let j = slot
                    .slot_type
                    .iter()
                    .position(|&t| t == SlotType::Spill)
                    .unwrap_or(BPF_REG_SIZE);
                types_buf.truncate(j);
                // Stack liveness is not modelled: no `_r` / `_w` suffix.
                out.push_str(&format!(" fp{off}={types_buf}"));
                out.push_str(&print_reg_state(f.frameno, reg, maps));
            }
            SlotType::Misc
            | SlotType::Zero
            | SlotType::Invalid
            | SlotType::Iter
            | SlotType::Dynptr => {
                out.push_str(&format!(" fp{off}={types_buf}"));
            }
        }
    }
    if let Some((&first, rest)) = refs.split_first()
        && first != 0
    {
        out.push_str(&format!(" refs={}", first as i32));
        for &id in rest {
            if id != 0 {
                out.push_str(&format!(",{}", id as i32));
            }
        }
    }
    if f.in_callback_fn {
        out.push_str(" cb");
    }
    out
}

/// `print_verifier_state` for one frame: ` frameN:` when the frame number
/// is not 0, then ` R<i><liveness>=<reg>` for each initialised register and
/// ` fp-<off>=<slot>` for each stack slot with a non-invalid byte, then
/// ` cb` for a callback frame. No trailing newline.
///
/// `print_all` selects the kernel's "everything" mode; without scratch
/// tracking both modes print everything. References are not part of
/// [`FuncState`]; see [`print_cur_state`].
pub fn print_verifier_state(f: &FuncState, print_all: bool, maps: &[MapInfo<'_>]) -> String {
    let _ = print_all;
    print_func_state(f, &[], maps)
}

/// [`print_verifier_state`] of the current frame of `st`, with the path's
/// acquired references as ` refs=1,2` (in 6.12 the current frame's
/// `refs` hold every reference of the path).
pub fn print_cur_state(st: &VerifierState, print_all: bool, maps: &[MapInfo<'_>]) -> String {
    let _ = print_all;
    let refs: Vec<u32> = st.refs.iter().map(|&(id, _)| id).collect();
    print_func_state(st.cur(), &refs, maps)
}

/// `vlog_alignment`: padding before the `;` that puts the state after an
/// instruction line of `pos` bytes (newline included) in a column that is
/// a multiple of 8, at least 40.
fn vlog_alignment(pos: usize) -> usize {
    (pos + BPF_LOG_MIN_ALIGNMENT / 2)
        .max(BPF_LOG_ALIGNMENT)
        .next_multiple_of(BPF_LOG_MIN_ALIGNMENT)
        - pos
        - 1
}

/// `print_insn_state`: the state after instruction `insn_idx`.
///
/// When the log's last output is the line of that instruction
/// (`insn_line`, without its newline, e.g. `0: (b7) r0 = 0`), the kernel
/// removes the newline and appends the state to it after padding and
/// `;`; the returned text is then the whole line, e.g.
/// `0: (b7) r0 = 0                        ; R0_w=0`. Otherwise it is
/// `<insn_idx>:` followed by the state. No trailing newline.
pub fn print_insn_state(
    insn_idx: usize,
    insn_line: Option<&str>,
    f: &FuncState,
    maps: &[MapInfo<'_>],
) -> String {
    let state = print_verifier_state(f, false, maps);
    match insn_line {
        Some(line) => {
            let pad = vlog_alignment(line.len() + 1);
            format!("{line}{:pad$};{state}", ' ')
        }
        None => format!("{insn_idx}:{state}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{StackSlot, TypeFlags};

    fn scalar(
        smin: i64,
        smax: i64,
        umin: u64,
        umax: u64,
        s32: (i32, i32),
        u32_: (u32, u32),
        var_off: (u64, u64),
    ) -> Scalar {
        Scalar {
            var_off: Tnum {
                value: var_off.0,
                mask: var_off.1,
            },
            smin,
            smax,
            umin,
            umax,
            s32_min: s32.0,
            s32_max: s32.1,
            u32_min: u32_.0,
            u32_max: u32_.1,
        }
    }

    fn unknown_var() -> (u64, u64) {
        (0, u64::MAX)
    }

    #[test]
    fn numbers() {
        assert_eq!(verbose_unum(65535), "65535");
        assert_eq!(verbose_unum(65536), "0x10000");
        assert_eq!(verbose_snum(32767), "32767");
        assert_eq!(verbose_snum(-32768), "-32768");
        assert_eq!(verbose_snum(32768), "0x8000");
        assert_eq!(verbose_snum(-100000), "0xfffffffffffe7960");
        assert_eq!(
            tnum_strn(Tnum {
                value: 0,
                mask: 0xff
            }),
            "(0x0; 0xff)"
        );
        assert_eq!(tnum_strn(Tnum { value: 7, mask: 0 }), "7");
        assert_eq!(
            tnum_strn(Tnum {
                value: 0x10000,
                mask: 0
            }),
            "0x10000"
        );
    }

    #[test]
    fn liveness() {
        assert_eq!(print_liveness(0), "");
        assert_eq!(print_liveness(REG_LIVE_WRITTEN), "_w");
        assert_eq!(print_liveness(REG_LIVE_READ), "_r");
        assert_eq!(print_liveness(REG_LIVE_READ | REG_LIVE_WRITTEN), "_rw");
    }

    #[test]
    fn constant_scalars() {
        assert_eq!(fmt_reg(&RegState::known(0), &[]), "0");
        assert_eq!(fmt_reg(&RegState::known(u64::MAX), &[]), "-1");
        assert_eq!(fmt_reg(&RegState::known(1 << 32), &[]), "0x100000000");
        let mut p = RegState::known(4);
        p.precise = true;
        assert_eq!(fmt_reg(&p, &[]), "P4");
    }

    #[test]
    fn unknown_scalar() {
        assert_eq!(fmt_reg(&RegState::unknown_scalar(), &[]), "scalar()");
        let mut r = RegState::unknown_scalar();
        r.id = 2;
        assert_eq!(fmt_reg(&r, &[]), "scalar(id=2)");
        r.precise = true;
        assert_eq!(fmt_reg(&r, &[]), "Pscalar(id=2)");
    }

    #[test]
    fn scalar_ranges_merge() {
        // umax=255, var_off=(0x0; 0xff), as in verifier_bounds.c's messages.
        let s = scalar(0, 255, 0, 255, (0, 255), (0, 255), (0, 0xff));
        let mut r = RegState::scalar(s);
        assert_eq!(
            fmt_reg(&r, &[]),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
        );
        r.id = 1;
        assert_eq!(
            fmt_reg(&r, &[]),
            "scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
        );
        // Signed range around zero, nothing known of the bits.
        let s = scalar(-5, 5, 0, u64::MAX, (-5, 5), (0, u32::MAX), unknown_var());
        assert_eq!(
            fmt_reg(&RegState::scalar(s), &[]),
            "scalar(smin=smin32=-5,smax=smax32=5)"
        );
        // A negative signed bound does not merge with the equal unsigned one.
        let s = scalar(
            -16,
            -1,
            0xffff_ffff_ffff_fff0,
            u64::MAX,
            (-16, -1),
            (0xffff_fff0, u32::MAX),
            (0xffff_ffff_ffff_fff0, 0xf),
        );
        assert_eq!(
            fmt_reg(&RegState::scalar(s), &[]),
            "scalar(smin=smin32=-16,smax=smax32=-1,umin=0xfffffffffffffff0,\
             umin32=0xfffffff0,var_off=(0xfffffffffffffff0; 0xf))"
        );
        // 32-bit signed bounds in hex are not sign-extended.
        let s = scalar(
            -100000,
            100000,
            0,
            u64::MAX,
            (-100000, 100000),
            (0, u32::MAX),
            unknown_var(),
        );
        assert_eq!(
            fmt_reg(&RegState::scalar(s), &[]),
            "scalar(smin=0xfffffffffffe7960,smax=smax32=0x186a0,smin32=0xfffe7960)"
        );
    }

    #[test]
    fn scalar_ranges_agree_with_domains_rendering() {
        for s in [
            scalar(0, 255, 0, 255, (0, 255), (0, 255), (0, 0xff)),
            scalar(
                -100000,
                100000,
                0,
                u64::MAX,
                (-100000, 100000),
                (0, u32::MAX),
                unknown_var(),
            ),
            Scalar::unknown(),
            Scalar::constant(u64::MAX),
        ] {
            assert_eq!(fmt_reg(&RegState::scalar(s), &[]), s.to_string());
        }
    }

    #[test]
    fn pointers() {
        assert_eq!(fmt_reg(&RegState::pointer(BaseType::Ctx), &[]), "ctx()");
        let mut fp = RegState::pointer(BaseType::Stack);
        assert_eq!(fmt_reg(&fp, &[]), "fp0");
        fp.off = -8;
        assert_eq!(fmt_reg(&fp, &[]), "fp-8");
        // A pointer into frame 0 seen from frame 1.
        assert_eq!(print_reg_state(1, &fp, &[]), "fp[0]-8");

        let maps = [
            MapInfo {
                name: "my_map",
                key_size: 4,
                value_size: 8,
            },
            MapInfo {
                name: "",
                key_size: 4,
                value_size: 16,
            },
        ];
        let mut mv = RegState::pointer(BaseType::MapValue);
        mv.flags = TypeFlags(TypeFlags::MAYBE_NULL);
        mv.id = 1;
        mv.map = Some(0);
        assert_eq!(
            fmt_reg(&mv, &maps),
            "map_value_or_null(id=1,map=my_map,ks=4,vs=8)"
        );
        // Unknown map index: the map part is left out.
        assert_eq!(fmt_reg(&mv, &[]), "map_value_or_null(id=1)");
        mv.map = Some(1);
        mv.flags = TypeFlags::default();
        mv.id = 0;
        mv.off = 2;
        assert_eq!(fmt_reg(&mv, &maps), "map_value(ks=4,vs=16,off=2)");
        let mut mp = RegState::pointer(BaseType::MapPtr);
        mp.map = Some(0);
        assert_eq!(fmt_reg(&mp, &maps), "map_ptr(map=my_map,ks=4,vs=8)");

        // Variable offset of a pointer: ranges and var_off, as for scalars.
        let mut mv = RegState::pointer(BaseType::MapValue);
        mv.map = Some(0);
        mv.var = scalar(0, 255, 0, 255, (0, 255), (0, 255), (0, 0xff));
        assert_eq!(
            fmt_reg(&mv, &maps),
            "map_value(map=my_map,ks=4,vs=8,smin=smin32=0,smax=umax=smax32=umax32=255,\
             var_off=(0x0; 0xff))"
        );
        // Constant non-zero variable part.
        mv.var = Scalar::constant(8);
        assert_eq!(fmt_reg(&mv, &maps), "map_value(map=my_map,ks=4,vs=8,imm=8)");

        let mut pkt = RegState::pointer(BaseType::Packet);
        pkt.range = 14;
        assert_eq!(fmt_reg(&pkt, &[]), "pkt(r=14)");
        pkt.off = 64;
        pkt.range = 64;
        assert_eq!(fmt_reg(&pkt, &[]), "pkt(off=64,r=64)");
        assert_eq!(
            fmt_reg(&RegState::pointer(BaseType::PacketEnd), &[]),
            "pkt_end()"
        );
        let mut mem = RegState::pointer(BaseType::Mem);
        mem.flags = TypeFlags(TypeFlags::RDONLY);
        mem.mem_size = 16;
        mem.ref_obj_id = 3;
        assert_eq!(fmt_reg(&mem, &[]), "rdonly_mem(ref_obj_id=3,sz=16)");
        assert_eq!(fmt_reg(&RegState::pointer(BaseType::Arena), &[]), "arena");
    }

    #[test]
    fn add_const_id() {
        let mut r = RegState::unknown_scalar();
        r.id = 3 | BPF_ADD_CONST;
        r.off = 10;
        assert_eq!(fmt_reg(&r, &[]), "scalar(id=3+10)");
    }

    fn slot(types: [SlotType; BPF_REG_SIZE], spilled: RegState) -> StackSlot {
        StackSlot {
            spilled,
            slot_type: types,
        }
    }

    #[test]
    fn frame_registers_and_stack() {
        use SlotType::{Invalid as I, Misc as M, Spill as S, Zero as Z};
        let mut f = FuncState::new(0);
        f.regs[1] = RegState::pointer(BaseType::Ctx);
        assert_eq!(print_verifier_state(&f, false, &[]), " R1=ctx() R10=fp0");

        f.regs[0] = RegState::known(0);
        f.live[0] = REG_LIVE_WRITTEN;
        f.stack[0] = slot([M; 8], RegState::not_init());
        f.stack[1] = slot([S; 8], RegState::known(0));
        f.stack[2] = slot([I, I, I, I, S, S, S, S], {
            let mut r = RegState::known(1);
            r.precise = true;
            r
        });
        f.stack[3] = slot([Z, Z, Z, Z, I, I, I, I], RegState::not_init());
        f.stack[4] = slot([Z, M, I, I, S, S, S, S], RegState::unknown_scalar());
        f.stack[5] = slot([S; 8], RegState::pointer(BaseType::Ctx));
        assert_eq!(
            print_verifier_state(&f, true, &[]),
            " R0_w=0 R1=ctx() R10=fp0 fp-8=mmmmmmmm fp-16=0 fp-24=????P1 \
             fp-32=0000???? fp-40=0m??scalar() fp-48=ctx()"
        );
        // print_all makes no difference without scratch tracking.
        assert_eq!(
            print_verifier_state(&f, false, &[]),
            print_verifier_state(&f, true, &[])
        );
    }

    #[test]
    fn callee_frame_refs_and_cb() {
        let mut caller = FuncState::new(0);
        caller.regs[1] = RegState::pointer(BaseType::Ctx);
        let mut callee = FuncState::new(1);
        let mut p = RegState::pointer(BaseType::Stack);
        p.off = -8;
        callee.regs[1] = p;
        callee.live[1] = REG_LIVE_READ | REG_LIVE_WRITTEN;
        callee.in_callback_fn = true;
        assert_eq!(
            print_verifier_state(&callee, true, &[]),
            " frame1: R1_rw=fp[0]-8 R10=fp0 cb"
        );
        let mut st = VerifierState::with_frame(caller);
        st.frames.push(callee);
        st.refs = vec![(2, 5), (4, 9)];
        assert_eq!(
            print_cur_state(&st, false, &[]),
            " frame1: R1_rw=fp[0]-8 R10=fp0 refs=2,4 cb"
        );
        st.frames.pop();
        assert_eq!(
            print_cur_state(&st, false, &[]),
            " R1=ctx() R10=fp0 refs=2,4"
        );
    }

    #[test]
    fn insn_state_alignment() {
        // Expected lines from tools/testing/selftests/bpf/progs (6.12).
        let mut f = FuncState::new(0);
        f.regs[0] = RegState::known(6);
        f.live[0] = REG_LIVE_WRITTEN;
        f.regs[10] = RegState::not_init();
        assert_eq!(
            print_insn_state(2, Some("2: (07) r0 += 1"), &f, &[]),
            "2: (07) r0 += 1                       ; R0_w=6"
        );
        assert_eq!(
            print_insn_state(5, Some("5: (af) r0 ^= r6"), &f, &[]),
            "5: (af) r0 ^= r6                      ; R0_w=6"
        );
        assert_eq!(
            print_insn_state(10, Some("10: (71) r2 = *(u8 *)(r10 -9)"), &f, &[]),
            "10: (71) r2 = *(u8 *)(r10 -9)         ; R0_w=6"
        );
        assert_eq!(print_insn_state(10, None, &f, &[]), "10: R0_w=6");
        // Lines longer than the 40-column alignment go to the next multiple of 8.
        let long = "12: (85) call bpf_map_lookup_elem#1234567";
        let out = print_insn_state(12, Some(long), &f, &[]);
        assert_eq!(out.find(';'), Some(46));
    }
}
