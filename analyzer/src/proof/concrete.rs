//! A Z3 model in the user's terms: the inputs that matter and what the
//! failing access does with them.

use super::Counterexample;
use super::replay::{Base, Replayed, Val};
use crate::object::{Object, Program};
use std::collections::HashSet;
use z3::Model;
use z3::ast::{Ast, BV, Dynamic};

/// The failing access, as the words need it.
pub struct Access<'a> {
    /// The program.
    pub prog: &'a Program,
    /// Its object (map names).
    pub obj: &'a Object,
    /// The failing instruction.
    pub at: usize,
    /// `read`, `write`, `helper access`.
    pub kind: &'static str,
    /// The pointer register.
    pub regno: usize,
    /// The instruction's offset.
    pub insn_off: i64,
    /// Bytes accessed.
    pub size: u64,
    /// The access is invalid on every input reaching it.
    pub goal_rule: bool,
    /// The question is whether the pointer is NULL.
    pub null: bool,
    /// The kernel's message.
    pub message: &'a str,
    /// The pointer is a `pkt_meta` one: the bound is the metadata area.
    pub meta: bool,
}

/// Names of the constants a term mentions (bounded walk of the DAG).
fn consts_in(t: &Dynamic, out: &mut HashSet<String>) {
    let mut seen: HashSet<Dynamic> = HashSet::new();
    let mut todo = vec![t.clone()];
    while let Some(x) = todo.pop() {
        if seen.len() > 20_000 || !seen.insert(x.clone()) {
            continue;
        }
        if x.is_const() {
            out.insert(x.decl().name());
        } else if x.is_app() {
            todo.extend(x.children());
        }
    }
}

fn eval_u64(model: &Model, t: &BV) -> Option<u64> {
    model.eval(t, true).and_then(|v| v.as_u64())
}

fn number(v: u64) -> String {
    if (v as i64) < 0 && (v as i64) > -(1 << 40) {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn signed(v: u64) -> i64 {
    v as i64
}

/// The counterexample of a satisfiable query.
pub fn counterexample(a: &Access<'_>, rp: &Replayed, val: &Val, model: &Model) -> Counterexample {
    // Inputs the access depends on; packet lengths always.
    let mut mentioned = HashSet::new();
    if let Val::Ptr(p) = val {
        consts_in(&Dynamic::from_ast(&p.off), &mut mentioned);
        if let (true, Some(n)) = (a.null, &p.null) {
            consts_in(&Dynamic::from_ast(n), &mut mentioned);
        }
    }
    let mut inputs: Vec<(String, String)> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let pkt_base = match val {
        Val::Ptr(p) => match p.base {
            Base::Pkt(g) => Some(g),
            _ => None,
        },
        _ => None,
    };
    for i in rp.inputs.iter().filter(|i| i.is_len) {
        let relevant = pkt_base.is_some() || mentioned.contains(&i.sym);
        if !relevant {
            continue;
        }
        if let Some(v) = eval_u64(model, &i.term) {
            inputs.push((i.name.clone(), v.to_string()));
            if i.name == "packet length" {
                words.push(format!("a {v}-byte packet"));
            } else {
                words.push(format!("{} = {v}", i.name));
            }
        }
    }
    for i in rp
        .inputs
        .iter()
        .filter(|i| !i.is_len && mentioned.contains(&i.sym))
        .take(6)
    {
        if let Some(v) = eval_u64(model, &i.term) {
            if i.name.contains("NULL") {
                if v == 1 {
                    let what = i.name.replace(" returns NULL", " returning NULL");
                    words.push(what.replace(" is NULL", " being NULL"));
                    inputs.push((i.name.clone(), "true".to_string()));
                }
                continue;
            }
            inputs.push((i.name.clone(), number(v)));
            words.push(format!("{} = {}", i.name, number(v)));
        }
    }
    let line = match a.prog.line_for(a.at) {
        Some(l) => format!("line {} (insn {})", l.line, a.at),
        None => format!("insn {}", a.at),
    };
    let what = format!("the {}-byte {} at {line}", a.size, a.kind);
    let access = match val {
        Val::Ptr(p) if a.null => {
            let _ = p;
            format!("{what} dereferences r{} = NULL", a.regno)
        }
        Val::Ptr(p) if !a.goal_rule => {
            let off = p.off.bvadd(BV::from_i64(a.insn_off, 64));
            let o = eval_u64(model, &off).map_or(0, signed);
            let end = o + a.size as i64;
            match p.base {
                Base::Pkt(g) => {
                    let len = rp
                        .pkt_len
                        .get(&g)
                        .and_then(|l| eval_u64(model, l))
                        .unwrap_or(0);
                    let meta = rp
                        .pkt_meta
                        .get(&g)
                        .and_then(|l| eval_u64(model, l))
                        .unwrap_or(0);
                    if a.meta && meta == 0 {
                        format!(
                            "{what} reaches bytes {o}..{end} relative to data, but the metadata area before data is empty"
                        )
                    } else if a.meta {
                        format!(
                            "{what} reaches bytes {o}..{end} relative to data, outside the {meta}-byte metadata area (bytes -{meta}..0)"
                        )
                    } else if o < 0 {
                        format!("{what} reaches bytes {o}..{end}, before the packet start")
                    } else {
                        format!(
                            "{what} reaches bytes {o}..{end} of the packet, past data_end ({len})"
                        )
                    }
                }
                Base::Map { map, size, .. } => {
                    let name = a
                        .obj
                        .maps
                        .get(map as usize)
                        .map_or("?".to_string(), |m| m.name.clone());
                    format!(
                        "{what} reaches bytes {o}..{end} of the {size}-byte value of map `{name}`"
                    )
                }
                Base::Mem { size, .. } => {
                    format!("{what} reaches bytes {o}..{end} of a {size}-byte memory region")
                }
                Base::Stack(_) => format!(
                    "{what} reaches stack bytes fp{o:+}..fp{end:+}, outside the 512-byte stack"
                ),
                _ => format!("{what} at offset {o}: {}", a.message),
            }
        }
        _ => format!("{what} is reached, and fails on every input: {}", a.message),
    };
    let text = if words.is_empty() {
        if a.goal_rule {
            format!("on any input that takes this path, {access}")
        } else {
            access.clone()
        }
    } else {
        format!("with {}, {access}", join_words(&words))
    };
    Counterexample {
        inputs,
        access,
        text,
        reach_only: a.goal_rule,
    }
}

fn join_words(w: &[String]) -> String {
    match w.len() {
        0 => String::new(),
        1 => w[0].clone(),
        n => format!("{} and {}", w[..n - 1].join(", "), w[n - 1]),
    }
}
