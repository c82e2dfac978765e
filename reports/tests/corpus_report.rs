//! Snapshots of the corpus report renderings (text table, Markdown, HTML)
//! for a small fixed run: one corpus, one program of each outcome.

use bpfproof_reports::corpus_report::{
    CorpusSummary, ProgramResult, RunReport, render_html, render_markdown, render_table,
};

fn result(
    program: &str,
    prog_type: &str,
    kernel: &str,
    ours: &str,
    msgs: (Option<&str>, Option<&str>),
    insns: (Option<u64>, Option<u64>),
    times: (Option<u64>, u64),
) -> ProgramResult {
    ProgramResult {
        corpus: "programs".into(),
        object: format!("{program}.bpf.o"),
        program: program.into(),
        prog_type: Some(prog_type.into()),
        kernel: kernel.into(),
        expected: None,
        bpfproof: ours.into(),
        kernel_message: msgs.0.map(String::from),
        bpfproof_message: msgs.1.map(String::from),
        bpfproof_code: None,
        expected_messages: Vec::new(),
        msg_match: None,
        kernel_insns_processed: insns.0,
        bpfproof_insns_processed: insns.1,
        kernel_time_us: times.0,
        bpfproof_time_us: times.1,
    }
}

fn report() -> RunReport {
    let results = vec![
        result(
            "xdp_fw",
            "xdp",
            "accept",
            "accept",
            (None, None),
            (Some(324), Some(328)),
            (Some(410), 95),
        ),
        result(
            "pkt_ok_on_6_18",
            "xdp",
            "accept",
            "reject",
            (
                None,
                Some("invalid access to packet, off=34 size=4, R1(id=0,off=34,r=14)"),
            ),
            (Some(40), Some(22)),
            (Some(30), 12),
        ),
        result(
            "leak_missed",
            "sched_cls",
            "reject",
            "accept",
            (Some("Unreleased reference id=4 alloc_insn=33"), None),
            (Some(44), Some(51)),
            (Some(55), 20),
        ),
        result(
            "timer_in_map",
            "tracepoint",
            "accept",
            "unsupported",
            (None, Some("unsupported: bpf_timer in map values (insn 7)")),
            (Some(18), None),
            (Some(25), 3),
        ),
        result(
            "needs_cap",
            "lsm",
            "not-run",
            "reject",
            (Some("EPERM"), Some("R0 invalid mem access 'scalar'")),
            (None, Some(9)),
            (None, 2),
        ),
    ];
    let corpora = vec![CorpusSummary {
        name: "programs".into(),
        programs: 6,
        agree: 2,
        false_accepts: 1,
        false_rejects: 1,
        unsupported: 1,
        errors: 0,
        not_run: 1,
        msg_expected: 1,
        msg_match: 0,
        bpfproof_time_us: 130,
        kernel_time_us: 520,
    }];
    let mut results = results;
    // A rejection both sides agree on, with the wrong message.
    let mut wrong_msg = result(
        "bad_ctx",
        "socket_filter",
        "reject",
        "reject",
        (
            Some("invalid bpf_context access off=256 size=4"),
            Some("R1 invalid mem access 'ctx'"),
        ),
        (Some(2), Some(2)),
        (Some(5), 1),
    );
    wrong_msg.expected_messages = vec!["invalid bpf_context access off=256 size=4".into()];
    wrong_msg.msg_match = Some(false);
    results.push(wrong_msg);
    RunReport { corpora, results }
}

#[test]
fn text_table() {
    insta::assert_snapshot!(render_table(&report(), false));
}

#[test]
fn markdown_page() {
    insta::assert_snapshot!(render_markdown(&report()));
}

#[test]
fn html_page() {
    let html = render_html(&report());
    insta::assert_snapshot!(html.replace(bpfproof_reports::VERSION, "[VERSION]"));
}
