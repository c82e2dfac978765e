//! Dominators (Cooper–Harvey–Kennedy, `petgraph::algo::dominators`) and
//! natural loops per subprogram: headers, bodies, back-edges, exits and
//! nesting. A cycle entered other than through a dominating header (a
//! retreating edge that is not a back-edge) is flagged as an irreducible
//! region: the kernel verifies such code all the same (it has no notion of
//! loops), but nothing can be said about it as a loop.

use super::graph::FuncCfg;
use petgraph::Direction;
use petgraph::algo::dominators::{Dominators, simple_fast};
use petgraph::algo::tarjan_scc;
use petgraph::graph::NodeIndex;
use std::collections::{BTreeSet, HashSet};

/// A natural loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loop {
    /// Header block (dominates the whole body).
    pub header: usize,
    /// Blocks of the body (header included), sorted.
    pub body: Vec<usize>,
    /// Back-edges (latch block, header block).
    pub back_edges: Vec<(usize, usize)>,
    /// Edges leaving the loop (block in the body, block outside).
    pub exits: Vec<(usize, usize)>,
    /// The innermost enclosing loop (index in the same `loops` vector).
    pub parent: Option<usize>,
    /// Nesting depth: 1 for an outermost loop.
    pub depth: usize,
}

/// A strongly connected region entered at more than one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IrreducibleRegion {
    /// Blocks of the region, sorted.
    pub blocks: Vec<usize>,
    /// Blocks of the region entered from outside it (or the entry).
    pub entries: Vec<usize>,
    /// Retreating edges that are not back-edges (from block, to block).
    pub edges: Vec<(usize, usize)>,
}

/// Constant-time dominance queries: pre/post numbers of the dominator tree.
struct DomTree {
    tin: Vec<usize>,
    tout: Vec<usize>,
}

impl DomTree {
    fn new(doms: &Dominators<NodeIndex>, n: usize) -> DomTree {
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for i in 0..n {
            if let Some(d) = doms.immediate_dominator(NodeIndex::new(i))
                && let Some(c) = children.get_mut(d.index())
            {
                c.push(i);
            }
        }
        let mut tin = vec![usize::MAX; n];
        let mut tout = vec![0; n];
        let mut clock = 0;
        let root = doms.root().index();
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        if let Some(t) = tin.get_mut(root) {
            *t = clock;
        }
        clock += 1;
        while let Some((v, k)) = stack.last_mut() {
            let v = *v;
            match children.get(v).and_then(|c| c.get(*k)).copied() {
                Some(c) => {
                    *k += 1;
                    if let Some(t) = tin.get_mut(c) {
                        *t = clock;
                    }
                    clock += 1;
                    stack.push((c, 0));
                }
                None => {
                    if let Some(t) = tout.get_mut(v) {
                        *t = clock;
                    }
                    clock += 1;
                    stack.pop();
                }
            }
        }
        DomTree { tin, tout }
    }

    /// Does `a` dominate `b`? (false when either is unreachable)
    fn dominates(&self, a: NodeIndex, b: NodeIndex) -> bool {
        let (Some(&ia), Some(&ib), Some(&oa), Some(&ob)) = (
            self.tin.get(a.index()),
            self.tin.get(b.index()),
            self.tout.get(a.index()),
            self.tout.get(b.index()),
        ) else {
            return false;
        };
        ia != usize::MAX && ib != usize::MAX && ia <= ib && ob <= oa
    }
}

/// Fills `f.idom`, `f.loops` and `f.irreducible`.
pub(crate) fn analyze(f: &mut FuncCfg) {
    let g = &f.graph;
    if g.node_count() == 0 {
        return;
    }
    let doms = simple_fast(g, f.entry);
    f.idom = g
        .node_indices()
        .map(|n| {
            doms.immediate_dominator(n)
                .and_then(|d| g.node_weight(d).copied())
        })
        .collect();
    let dt = DomTree::new(&doms, g.node_count());
    let reachable = |n: NodeIndex| dt.tin.get(n.index()).is_some_and(|&t| t != usize::MAX);

    // Retreating edges by an iterative DFS from the entry.
    let nn = g.node_count();
    let mut on_stack = vec![false; nn];
    let mut visited = vec![false; nn];
    let mut retreating: HashSet<(NodeIndex, NodeIndex)> = HashSet::new();
    let mut stack: Vec<(NodeIndex, Vec<NodeIndex>)> = Vec::new();
    let succs = |n: NodeIndex| -> Vec<NodeIndex> {
        let mut v: Vec<NodeIndex> = g.neighbors(n).collect();
        v.reverse();
        v
    };
    visited[f.entry.index()] = true;
    on_stack[f.entry.index()] = true;
    stack.push((f.entry, succs(f.entry)));
    while let Some((n, rest)) = stack.last_mut() {
        let n = *n;
        match rest.pop() {
            Some(w) => {
                let wi = w.index();
                if on_stack.get(wi).copied().unwrap_or(false) {
                    retreating.insert((n, w));
                } else if !visited.get(wi).copied().unwrap_or(true) {
                    visited[wi] = true;
                    on_stack[wi] = true;
                    let s = succs(w);
                    stack.push((w, s));
                }
            }
            None => {
                if let Some(x) = on_stack.get_mut(n.index()) {
                    *x = false;
                }
                stack.pop();
            }
        }
    }

    let bw = |n: NodeIndex| g.node_weight(n).copied().unwrap_or(usize::MAX);

    // Natural loops: one per header, the union over its back-edges.
    let mut headers: Vec<NodeIndex> = Vec::new();
    let mut latches: Vec<Vec<NodeIndex>> = Vec::new();
    let mut irreducible_edges: Vec<(NodeIndex, NodeIndex)> = Vec::new();
    for e in g.edge_indices() {
        let Some((u, v)) = g.edge_endpoints(e) else {
            continue;
        };
        if !reachable(u) {
            continue;
        }
        if dt.dominates(v, u) {
            match headers.iter().position(|&h| h == v) {
                Some(p) => latches[p].push(u),
                None => {
                    headers.push(v);
                    latches.push(vec![u]);
                }
            }
        } else if retreating.contains(&(u, v)) {
            irreducible_edges.push((u, v));
        }
    }
    let mut loops: Vec<(NodeIndex, BTreeSet<NodeIndex>, Vec<NodeIndex>)> = Vec::new();
    for (h, ls) in headers.into_iter().zip(latches) {
        let mut body = BTreeSet::new();
        body.insert(h);
        let mut work: Vec<NodeIndex> = Vec::new();
        for &l in &ls {
            if body.insert(l) {
                work.push(l);
            }
        }
        while let Some(x) = work.pop() {
            for p in g.neighbors_directed(x, Direction::Incoming) {
                if reachable(p) && body.insert(p) {
                    work.push(p);
                }
            }
        }
        loops.push((h, body, ls));
    }
    // Outermost first: larger bodies first, then by header position.
    loops.sort_by_key(|(h, body, _)| (usize::MAX - body.len(), bw(*h)));
    let mut out: Vec<Loop> = Vec::with_capacity(loops.len());
    for (i, (h, body, ls)) in loops.iter().enumerate() {
        // Innermost enclosing: the smallest earlier loop containing the header.
        let parent = (0..i).rev().find(|&j| {
            loops
                .get(j)
                .is_some_and(|(_, b, _)| b.contains(h) && b.len() > body.len())
        });
        let depth = parent
            .and_then(|p| out.get(p))
            .map(|p| p.depth + 1)
            .unwrap_or(1);
        let mut exits = Vec::new();
        for &x in body {
            for y in g.neighbors(x) {
                if !body.contains(&y) {
                    exits.push((bw(x), bw(y)));
                }
            }
        }
        exits.sort_unstable();
        exits.dedup();
        let mut back_edges: Vec<(usize, usize)> = ls.iter().map(|&l| (bw(l), bw(*h))).collect();
        back_edges.sort_unstable();
        back_edges.dedup();
        out.push(Loop {
            header: bw(*h),
            body: body.iter().map(|&n| bw(n)).collect(),
            back_edges,
            exits,
            parent,
            depth,
        });
    }
    // Order by depth then header, remapping parents.
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by_key(|&i| out.get(i).map(|l| (l.depth, l.header)));
    let mut pos = vec![0; out.len()];
    for (new, &old) in order.iter().enumerate() {
        if let Some(p) = pos.get_mut(old) {
            *p = new;
        }
    }
    let mut sorted: Vec<Loop> = order.iter().filter_map(|&i| out.get(i).cloned()).collect();
    for l in &mut sorted {
        l.parent = l.parent.and_then(|p| pos.get(p).copied());
    }
    f.loops = sorted;

    // Irreducible regions: the SCCs holding a retreating non-back edge.
    if !irreducible_edges.is_empty() {
        for scc in tarjan_scc(g) {
            let set: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let edges: Vec<(usize, usize)> = irreducible_edges
                .iter()
                .filter(|(u, v)| set.contains(u) && set.contains(v))
                .map(|&(u, v)| (bw(u), bw(v)))
                .collect();
            if edges.is_empty() {
                continue;
            }
            let mut entries: Vec<usize> = set
                .iter()
                .filter(|&&x| {
                    x == f.entry
                        || g.neighbors_directed(x, Direction::Incoming)
                            .any(|p| !set.contains(&p) && reachable(p))
                })
                .map(|&x| bw(x))
                .collect();
            entries.sort_unstable();
            let mut blocks: Vec<usize> = set.iter().map(|&x| bw(x)).collect();
            blocks.sort_unstable();
            f.irreducible.push(IrreducibleRegion {
                blocks,
                entries,
                edges,
            });
        }
        f.irreducible.sort_by(|a, b| a.blocks.cmp(&b.blocks));
    }
}
