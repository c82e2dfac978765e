//! `btf_ctx_access` for the tracing programs whose context bpfproof can
//! type offline: `tp_btf` (`BPF_TRACE_RAW_TP`, arguments of the
//! `btf_trace_<name>` typedef) and `iter` (`BPF_TRACE_ITER`, arguments of
//! `bpf_iter_<target>` with the target's `ctx_arg_info`). fentry/fexit,
//! fmod_ret and LSM contexts cannot be measured on this machine's kernel
//! (EPERM) and stay unsupported.

use super::env::{Env, Stop, unsupported};
use crate::object::btf::{Btf, BtfKind, BtfTypeKind, bundled_vmlinux_btf};
use crate::platform::AttachType;
use crate::state::{BaseType, RegState, TypeFlags};

/// `MAX_BPF_FUNC_ARGS`.
const MAX_BPF_FUNC_ARGS: i32 = 12;

/// `raw_tp_null_args` (kernel/bpf/btf.c of Linux 6.12): per tracepoint, 4
/// bits per argument: 0x1 may be NULL, 0x2 may be an `ERR_PTR`.
const RAW_TP_NULL_ARGS: &[(&str, u64)] = &[
    ("sched_pi_setprio", 0x10),
    ("sched_process_wait", 0x1),
    ("sched_stick_numa", 0x100),
    ("sched_swap_numa", 0x100),
    ("afs_make_fs_call", 0x10),
    ("afs_make_fs_calli", 0x10),
    ("afs_make_fs_call1", 0x10),
    ("afs_make_fs_call2", 0x10),
    ("afs_protocol_error", 0x1),
    ("afs_flock_ev", 0x10),
    ("cachefiles_lookup", 0x1 | 0x200),
    ("cachefiles_unlink", 0x1),
    ("cachefiles_rename", 0x1),
    ("cachefiles_prep_read", 0x1),
    ("cachefiles_mark_active", 0x1),
    ("cachefiles_mark_failed", 0x1),
    ("cachefiles_mark_inactive", 0x1),
    ("cachefiles_vfs_error", 0x1),
    ("cachefiles_io_error", 0x1),
    ("cachefiles_ondemand_open", 0x1),
    ("cachefiles_ondemand_copen", 0x1),
    ("cachefiles_ondemand_close", 0x1),
    ("cachefiles_ondemand_read", 0x1),
    ("cachefiles_ondemand_cread", 0x1),
    ("cachefiles_ondemand_fd_write", 0x1),
    ("cachefiles_ondemand_fd_release", 0x1),
    ("ext4_mballoc_discard", 0x10),
    ("ext4_mballoc_free", 0x10),
    ("fib_table_lookup", 0x100),
    ("posix_lock_inode", 0x10),
    ("fcntl_setlk", 0x10),
    ("locks_remove_posix", 0x10),
    ("flock_lock_inode", 0x10),
    ("break_lease_noblock", 0x10),
    ("break_lease_block", 0x10),
    ("break_lease_unblock", 0x10),
    ("generic_delete_lease", 0x10),
    ("time_out_leases", 0x10),
    ("host1x_cdma_push_gather", 0x10000),
    ("mm_khugepaged_scan_pmd", 0x10),
    ("mm_collapse_huge_page_isolate", 0x1),
    ("mm_khugepaged_scan_file", 0x10),
    ("mm_khugepaged_collapse_file", 0x10),
    ("mm_page_alloc", 0x1),
    ("mm_page_pcpu_drain", 0x1),
    ("mm_page_alloc_zone_locked", 0x1),
    ("netfs_failure", 0x10),
    ("device_pm_callback_start", 0x10),
    ("qdisc_dequeue", 0x1000),
    ("rxrpc_recvdata", 0x1),
    ("rxrpc_resend", 0x10),
    ("signal_generate", 0x20),
    ("signal_deliver", 0x20),
    ("xs_stream_read_data", 0x1),
    ("xprt_reserve_cong", 0x10),
    ("xprt_release_cong", 0x10),
    ("xprt_get_cong", 0x10),
    ("xprt_put_cong", 0x10),
    ("tcp_send_reset", 0x11),
    ("tegra_dma_tx_status", 0x100),
    ("tmigr_update_events", 0x1),
    ("writeback_dirty_folio", 0x10),
    ("folio_wait_writeback", 0x10),
    ("mr_integ_alloc", 0x2000),
    ("bpf_testmod_test_read", 0x0),
];

/// The iterator targets' `ctx_arg_info`: (target, ctx offset, may be
/// NULL, trusted, `PTR_TO_BUF`).
const ITER_CTX_ARGS: &[(&str, i32, bool, bool, bool)] = &[
    ("bpf_map", 8, true, true, false),
    ("bpf_map_elem", 16, true, false, true),
    ("bpf_map_elem", 24, true, false, true),
    ("task", 8, true, true, false),
    ("task_file", 8, true, false, false),
    ("task_file", 24, true, false, false),
    ("task_vma", 8, true, false, false),
    ("task_vma", 16, true, false, false),
    ("bpf_link", 8, true, false, false),
    ("bpf_prog", 8, true, false, false),
    ("cgroup", 8, true, true, false),
    ("sockmap", 16, true, false, true),
    ("sockmap", 24, true, false, false),
];

/// What a ctx load gives, or why it is refused.
pub enum CtxArg {
    /// A scalar.
    Scalar,
    /// A BTF pointer.
    Ptr(RegState),
    /// `is_valid_access` refused it (`invalid bpf_context access`).
    Invalid,
}

/// Whether `btf_ctx_access` is modelled for this program.
pub fn modelled(env: &Env<'_>) -> bool {
    env.prog_type == crate::platform::ProgType::Tracing
        && matches!(
            env.prog.attach_type,
            Some(AttachType::TraceRawTp | AttachType::TraceIter)
        )
}

/// The attach target's name from the section (`tp_btf/NAME`,
/// `iter/NAME`, `iter.s/NAME`).
fn target_name(section: &str) -> Option<&str> {
    let (_, name) = section.split_once('/')?;
    (!name.is_empty()).then_some(name)
}

fn skip_modifiers(btf: &Btf, mut id: u32) -> u32 {
    for _ in 0..32 {
        match btf.type_by_id(id).map(|t| &t.kind) {
            Some(
                BtfTypeKind::Typedef { target }
                | BtfTypeKind::Volatile { target }
                | BtfTypeKind::Const { target }
                | BtfTypeKind::Restrict { target }
                | BtfTypeKind::TypeTag { target },
            ) => id = *target,
            _ => break,
        }
    }
    id
}

/// `tracing_prog_is_valid_access` + `btf_ctx_access`.
pub fn btf_ctx_access(
    env: &mut Env<'_>,
    idx: usize,
    off: i32,
    size: i32,
    write: bool,
) -> Result<CtxArg, Stop> {
    if write || !(0..8 * MAX_BPF_FUNC_ARGS).contains(&off) || off % size != 0 {
        return Ok(CtxArg::Invalid);
    }
    let btf = bundled_vmlinux_btf().map_err(|e| unsupported(idx, format!("kernel BTF: {e}")))?;
    let raw_tp = env.prog.attach_type == Some(AttachType::TraceRawTp);
    let Some(tname) = target_name(&env.prog.section) else {
        return Err(unsupported(idx, "tracing program without an attach target"));
    };
    let proto = if raw_tp {
        btf.find_by_name_kind(&format!("btf_trace_{tname}"), BtfKind::Typedef)
            .and_then(
                |td| match btf.type_by_id(skip_modifiers(btf, td)).map(|t| &t.kind) {
                    Some(BtfTypeKind::Ptr { target }) => Some(skip_modifiers(btf, *target)),
                    _ => None,
                },
            )
    } else {
        btf.find_by_name_kind(&format!("bpf_iter_{tname}"), BtfKind::Func)
            .and_then(|f| match btf.type_by_id(f).map(|t| &t.kind) {
                Some(BtfTypeKind::Func { proto, .. }) => Some(*proto),
                _ => None,
            })
    };
    let Some(Some(BtfTypeKind::FuncProto { params, .. })) =
        proto.map(|p| btf.type_by_id(p).map(|t| &t.kind))
    else {
        return Err(unsupported(
            idx,
            format!("attach target {tname} not found in the kernel BTF"),
        ));
    };
    if off % 8 != 0 {
        return Ok(CtxArg::Invalid);
    }
    // get_ctx_arg_idx over every parameter (the raw tracepoint's __data
    // included); every parameter we model is one u64.
    for p in params.iter() {
        let t = skip_modifiers(btf, p.type_id);
        let big = match btf.type_by_id(t).map(|x| &x.kind) {
            Some(BtfTypeKind::Ptr { .. }) => false,
            Some(k) => btf.type_by_id(t).and_then(|x| x.size()).unwrap_or(0) > 8 || !k_is_sized(k),
            None => true,
        };
        if big {
            return Err(unsupported(idx, "ctx arguments wider than 8 bytes"));
        }
    }
    // get_ctx_arg_idx counts the raw tracepoint's `__data` too, and
    // btf_ctx_access then indexes the parameters after it: argument `off /
    // 8`; at or past the last one is the return value (fexit, fmod_ret and
    // LSM only).
    let arg = (off / 8) as usize;
    let args: &[crate::object::btf::BtfParam] = if raw_tp {
        params.get(1..).unwrap_or(&[])
    } else {
        params
    };
    if arg >= args.len() {
        return Ok(CtxArg::Invalid);
    }
    let t = skip_modifiers(btf, args[arg].type_id);
    let kind = btf.type_by_id(t).map(|x| &x.kind);
    match kind {
        Some(BtfTypeKind::Int { size: s, .. }) if *s <= 8 => return Ok(CtxArg::Scalar),
        Some(
            BtfTypeKind::Enum { .. } | BtfTypeKind::Enum64 { .. } | BtfTypeKind::Struct { .. },
        ) => {
            return Ok(CtxArg::Scalar);
        }
        Some(BtfTypeKind::Ptr { .. }) => {}
        _ => return Ok(CtxArg::Invalid),
    }
    let Some(BtfTypeKind::Ptr { target: pointee }) = kind else {
        return Ok(CtxArg::Invalid);
    };
    if size != 8 {
        return Ok(CtxArg::Invalid);
    }
    let info = if raw_tp {
        None
    } else {
        ITER_CTX_ARGS
            .iter()
            .find(|(n, o, ..)| *n == tname && *o == off)
            .copied()
    };
    if let Some((_, _, _, _, true)) = info {
        return Err(unsupported(idx, "iterator ctx buffers (PTR_TO_BUF)"));
    }
    if *pointee == 0 {
        return Ok(CtxArg::Scalar);
    }
    let pt = skip_modifiers(btf, *pointee);
    if matches!(
        btf.type_by_id(pt).map(|x| &x.kind),
        Some(BtfTypeKind::Int { .. })
    ) {
        return Ok(CtxArg::Scalar);
    }
    let mut flags = 0;
    if let Some((_, _, null, trusted, _)) = info {
        if null {
            flags |= TypeFlags::MAYBE_NULL;
        }
        if trusted {
            flags |= TypeFlags::TRUSTED;
        }
    } else {
        // prog_args_trusted: raw_tp and iter programs.
        flags |= TypeFlags::TRUSTED;
        if btf
            .str_at(args[arg].name_off)
            .is_some_and(|n| n.ends_with("__nullable"))
        {
            flags |= TypeFlags::MAYBE_NULL;
        }
        if raw_tp && let Some((_, mask)) = RAW_TP_NULL_ARGS.iter().find(|(n, _)| *n == tname) {
            if mask & (0x1u64 << (arg * 4)) != 0 {
                flags |= TypeFlags::MAYBE_NULL;
            }
            if mask & (0x2u64 << (arg * 4)) != 0 {
                return Ok(CtxArg::Scalar);
            }
        }
        if matches!(
            btf.type_by_id(*pointee).map(|x| &x.kind),
            Some(BtfTypeKind::TypeTag { .. })
        ) {
            return Err(unsupported(idx, "__user/__percpu tagged ctx arguments"));
        }
    }
    if !matches!(
        btf.type_by_id(pt).map(|x| &x.kind),
        Some(BtfTypeKind::Struct { .. })
    ) {
        return Ok(CtxArg::Invalid);
    }
    let mut r = RegState::pointer(BaseType::BtfId);
    r.btf_id = pt;
    r.flags.0 |= flags;
    if flags & TypeFlags::MAYBE_NULL != 0 {
        r.id = env.new_id();
    }
    Ok(CtxArg::Ptr(r))
}

fn k_is_sized(k: &BtfTypeKind) -> bool {
    matches!(
        k,
        BtfTypeKind::Int { .. }
            | BtfTypeKind::Enum { .. }
            | BtfTypeKind::Enum64 { .. }
            | BtfTypeKind::Struct { .. }
            | BtfTypeKind::Union { .. }
    )
}
