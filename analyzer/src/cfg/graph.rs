//! Basic blocks, one `petgraph` graph per subprogram, and the call graph.
//!
//! Instructions are classified from their raw fields the way `visit_insn`
//! does (so an instruction with reserved fields set still has its edges).
//! Blocks end at jumps, `exit`, bpf-to-bpf calls, `ld_imm64` function
//! pointers, and before jump targets.

use super::subprogs::{bpf_pseudo_func, rel_target};
use super::{SubprogInfo, insn_len};
use crate::isa::RawInsn;
use crate::isa::raw::*;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::VecDeque;

/// The kind of an intra-procedural edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// To the next instruction (straight-line code, after a call, the
    /// not-taken side of a conditional jump).
    Fallthrough,
    /// An unconditional `goto`.
    Jump,
    /// The taken side of a conditional jump or `may_goto`.
    Taken,
}

/// What a call-graph edge is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallKindEdge {
    /// A bpf-to-bpf `call`.
    Call,
    /// A function pointer taken by `ld_imm64` (a callback).
    Callback,
}

/// A call-graph edge: the instruction that calls or takes the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallEdge {
    /// The `call` / `ld_imm64` instruction.
    pub insn: usize,
    /// Call or callback.
    pub kind: CallKindEdge,
}

/// A maximal straight-line run of instructions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicBlock {
    /// First instruction.
    pub start: usize,
    /// One past the last slot.
    pub end: usize,
    /// The last instruction (its first slot).
    pub last: usize,
    /// Subprogram index.
    pub subprog: usize,
    /// Node in `funcs[subprog].graph`.
    pub node: NodeIndex,
    /// Reachable from the entry (and the exception callback) through
    /// jumps, calls and callback pointers.
    pub reachable: bool,
    /// Ends in `exit`.
    pub exit: bool,
    /// A jump target outside the subprogram, or a fall-through past its
    /// end, as the kernel computes it (not an edge of the graph).
    pub out_of_range: Option<i64>,
    /// Subprogram called (or whose address is taken) by the last instruction.
    pub callee: Option<usize>,
}

/// The graph of one subprogram.
#[derive(Clone, Debug)]
pub struct FuncCfg {
    /// Subprogram index.
    pub subprog: usize,
    /// Node weight = index into [`super::CfgInfo::blocks`].
    pub graph: DiGraph<usize, EdgeKind>,
    /// The entry block's node (node 0).
    pub entry: NodeIndex,
    /// Immediate dominator of each node's block (`None` for the entry and
    /// for blocks not reachable from it), as block indices, by node index.
    pub idom: Vec<Option<usize>>,
    /// Natural loops, outermost first.
    pub loops: Vec<super::Loop>,
    /// Cycles with more than one entry (not natural loops).
    pub irreducible: Vec<super::IrreducibleRegion>,
}

impl FuncCfg {
    /// The block index of a node.
    pub fn block(&self, n: NodeIndex) -> Option<usize> {
        self.graph.node_weight(n).copied()
    }
}

/// How an instruction passes control on, from its raw fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Falls through to the next instruction.
    Next,
    /// `exit`.
    Exit,
    /// Unconditional jump to the target.
    Ja(i64),
    /// Conditional jump (or `may_goto`) to the target, else falls through.
    Cond(i64),
    /// A call; `Some(target)` for a bpf-to-bpf call. Falls through.
    Call(Option<i64>),
    /// `ld_imm64` of a function pointer. Falls through.
    Func(i64),
}

pub(crate) fn flow(insns: &[RawInsn], i: usize) -> Flow {
    let Some(insn) = insns.get(i) else {
        return Flow::Exit;
    };
    if bpf_pseudo_func(insn) {
        return Flow::Func(rel_target(i, insn.imm) as i64);
    }
    let class = insn.class();
    if class != BPF_JMP && class != BPF_JMP32 {
        return Flow::Next;
    }
    match insn.code & 0xf0 {
        BPF_EXIT => Flow::Exit,
        BPF_CALL if insn.src == BPF_PSEUDO_CALL => Flow::Call(Some(rel_target(i, insn.imm) as i64)),
        BPF_CALL => Flow::Call(None),
        BPF_JA if class == BPF_JMP32 => Flow::Ja(rel_target(i, insn.imm) as i64),
        BPF_JA => Flow::Ja(rel_target(i, insn.off as i32) as i64),
        _ => Flow::Cond(rel_target(i, insn.off as i32) as i64),
    }
}

type Built = (
    Vec<BasicBlock>,
    Vec<Option<usize>>,
    Vec<FuncCfg>,
    DiGraph<usize, CallEdge>,
);

/// Builds the blocks, the per-subprogram graphs and the call graph.
pub(crate) fn build(insns: &[RawInsn], subs: &[SubprogInfo], exception_cb: Option<usize>) -> Built {
    let n = insns.len();
    let mut blocks: Vec<BasicBlock> = Vec::new();
    let mut insn_block: Vec<Option<usize>> = vec![None; n];
    let mut funcs = Vec::with_capacity(subs.len());
    let sub_at = |t: i64| -> Option<usize> {
        let t = usize::try_from(t).ok()?;
        subs.iter().position(|s| s.start == t)
    };
    // Per subprogram: instruction starts and leaders.
    for (k, s) in subs.iter().enumerate() {
        let (start, end) = (s.start.min(n), s.end.min(n));
        let mut starts = Vec::new();
        let mut i = start;
        while i < end {
            starts.push(i);
            i += insn_len(insns, i).min(end - i);
        }
        let in_range = |t: i64| t >= start as i64 && t < end as i64;
        let mut leader = vec![false; end.saturating_sub(start)];
        if let Some(l) = leader.first_mut() {
            *l = true;
        }
        let mut set_leader = |t: i64| {
            if in_range(t)
                && let Some(l) = leader.get_mut(t as usize - start)
            {
                *l = true;
            }
        };
        for (idx, &i) in starts.iter().enumerate() {
            let next = starts.get(idx + 1).map(|&x| x as i64);
            match flow(insns, i) {
                Flow::Ja(t) | Flow::Cond(t) => {
                    set_leader(t);
                    if let Some(nx) = next {
                        set_leader(nx);
                    }
                }
                Flow::Exit | Flow::Call(Some(_)) | Flow::Func(_) => {
                    if let Some(nx) = next {
                        set_leader(nx);
                    }
                }
                _ => {}
            }
        }
        // Only instruction starts can begin a block; a jump into the middle
        // of an ld_imm64 gets no edge.
        let is_leader = |i: usize| leader.get(i.wrapping_sub(start)).copied().unwrap_or(false);
        let mut graph: DiGraph<usize, EdgeKind> = DiGraph::new();
        let first_block = blocks.len();
        let mut cur: Option<usize> = None;
        for &i in &starts {
            if cur.is_none() || is_leader(i) {
                let b = blocks.len();
                let node = graph.add_node(b);
                blocks.push(BasicBlock {
                    start: i,
                    end: i,
                    last: i,
                    subprog: k,
                    node,
                    reachable: false,
                    exit: false,
                    out_of_range: None,
                    callee: None,
                });
                cur = Some(b);
            }
            if let Some(b) = cur.and_then(|b| blocks.get_mut(b)) {
                b.last = i;
                b.end = (i + insn_len(insns, i)).min(end);
                for slot in i..b.end {
                    if let Some(x) = insn_block.get_mut(slot) {
                        *x = Some(blocks.len() - 1);
                    }
                }
            }
        }
        let block_at = |blocks: &[BasicBlock], t: i64| -> Option<usize> {
            let t = usize::try_from(t).ok()?;
            let b = (*insn_block.get(t)?)?;
            (b >= first_block && blocks.get(b)?.start == t).then_some(b)
        };
        for b in first_block..blocks.len() {
            let Some(bb) = blocks.get(b) else { continue };
            let (last, bend, node) = (bb.last, bb.end, bb.node);
            let mut edges: Vec<(i64, EdgeKind)> = Vec::new();
            let mut oor = None;
            let mut callee = None;
            let mut exit = false;
            let fl = flow(insns, last);
            match fl {
                Flow::Exit => exit = true,
                Flow::Ja(t) => edges.push((t, EdgeKind::Jump)),
                Flow::Cond(t) => {
                    edges.push((bend as i64, EdgeKind::Fallthrough));
                    edges.push((t, EdgeKind::Taken));
                }
                Flow::Call(t) => {
                    callee = t.and_then(sub_at);
                    edges.push((bend as i64, EdgeKind::Fallthrough));
                }
                Flow::Func(t) => {
                    callee = sub_at(t);
                    edges.push((bend as i64, EdgeKind::Fallthrough));
                }
                Flow::Next => edges.push((bend as i64, EdgeKind::Fallthrough)),
            }
            for (t, kind) in edges {
                if !in_range(t) {
                    oor = Some(t);
                    continue;
                }
                if let Some(tb) = block_at(&blocks, t)
                    && let Some(tn) = blocks.get(tb).map(|x| x.node)
                {
                    graph.add_edge(node, tn, kind);
                }
            }
            if let Some(bb) = blocks.get_mut(b) {
                bb.out_of_range = oor;
                bb.callee = callee;
                bb.exit = exit;
            }
        }
        funcs.push(FuncCfg {
            subprog: k,
            entry: NodeIndex::new(0),
            idom: vec![None; graph.node_count()],
            graph,
            loops: Vec::new(),
            irreducible: Vec::new(),
        });
    }
    // Call graph.
    let mut call_graph: DiGraph<usize, CallEdge> = DiGraph::new();
    for k in 0..subs.len() {
        call_graph.add_node(k);
    }
    for b in &blocks {
        if let Some(c) = b.callee {
            let kind = if matches!(flow(insns, b.last), Flow::Func(_)) {
                CallKindEdge::Callback
            } else {
                CallKindEdge::Call
            };
            call_graph.add_edge(
                NodeIndex::new(b.subprog),
                NodeIndex::new(c),
                CallEdge { insn: b.last, kind },
            );
        }
    }
    // Reachability from the entry and the exception callback.
    let entry_block = |k: usize| blocks.iter().position(|b| b.subprog == k);
    let mut queue: VecDeque<usize> = VecDeque::new();
    let mut seen = vec![false; blocks.len()];
    for k in std::iter::once(0).chain(exception_cb) {
        if let Some(b) = entry_block(k) {
            queue.push_back(b);
        }
    }
    while let Some(b) = queue.pop_front() {
        if seen.get(b).copied().unwrap_or(true) {
            continue;
        }
        if let Some(s) = seen.get_mut(b) {
            *s = true;
        }
        let Some(bb) = blocks.get(b) else { continue };
        if let Some(f) = funcs.get(bb.subprog) {
            for nb in f.graph.neighbors(bb.node) {
                if let Some(&w) = f.graph.node_weight(nb) {
                    queue.push_back(w);
                }
            }
        }
        if let Some(e) = bb.callee.and_then(entry_block) {
            queue.push_back(e);
        }
    }
    for (b, s) in blocks.iter_mut().zip(seen) {
        b.reachable = s;
    }
    (blocks, insn_block, funcs, call_graph)
}
