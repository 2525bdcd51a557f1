//! The core's modules form layers: no import cycle among them (issue #10).
//!
//! Reads every `.rs` file under `src/` except `src/ffi/` (the C skin over everything)
//! and `src/lib.rs` (the root), takes each `crate::name` path (in `use` lines, grouped
//! `use crate::{a, b}` imports and inline paths; comments skipped) as an edge from the
//! file's top-level module (`src/transport/http.rs` is `transport`) to `name`, and fails
//! on any strongly connected group of two or more modules, printing one cycle of each.
//! No build or network needed: it runs in milliseconds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The code of a line without its `//` comment (a `//` inside a string literal is rare
/// in `use` positions; a crate path after it in a string would only add an edge).
fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    let b = line.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && b[i + 1] == b'/' => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

fn ident_at(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// Every module named right after `crate::` in `code` (with `crate::{a, b::c}` giving
/// `a` and `b`).
fn targets(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(pos) = rest.find("crate::") {
        let before = rest[..pos].chars().next_back();
        rest = &rest[pos + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `mycrate::`, not `crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            // A grouped import: top-level names at brace depth 0.
            let mut depth = 0usize;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_ascii_alphanumeric() || c == '_') => {
                        out.push(ident_at(&group[i..]).to_string());
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let id = ident_at(rest);
            if !id.is_empty() {
                out.push(id.to_string());
            }
        }
    }
    out
}

/// module -> modules it names, for the core (src/ minus src/ffi and lib.rs).
fn core_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rs_files(src, &mut files);
    let mut modules = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if top != "ffi" && top != "lib" {
            modules.insert(top);
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if !modules.contains(&top) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let mut in_block_comment = false;
        for line in text.lines() {
            let t = line.trim_start();
            if in_block_comment {
                in_block_comment = !t.contains("*/");
                continue;
            }
            if t.starts_with("/*") {
                in_block_comment = !t.contains("*/");
                continue;
            }
            for m in targets(strip_comment(line)) {
                // Only core modules count: crate-root re-exports (`crate::Error`,
                // `crate::Result`) and `crate::ffi` are not modules of the core.
                if m != top && modules.contains(&m) {
                    graph.get_mut(&top).unwrap().insert(m);
                }
            }
        }
    }
    graph
}

/// Strongly connected components of two or more modules (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.g[v] {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// One concrete cycle inside a component, starting at its first module: a shortest
/// path back to it (breadth-first within the component).
fn one_cycle(graph: &BTreeMap<String, BTreeSet<String>>, comp: &[String]) -> Vec<String> {
    let inside: BTreeSet<&str> = comp.iter().map(String::as_str).collect();
    let start = comp[0].as_str();
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in &graph[v] {
            let w = w.as_str();
            if !inside.contains(w) {
                continue;
            }
            if w == start {
                let mut back = Vec::new();
                let mut cur = v;
                while cur != start {
                    back.push(cur.to_string());
                    cur = prev[cur];
                }
                back.reverse();
                let mut path = vec![start.to_string()];
                path.extend(back);
                path.push(start.to_string());
                return path;
            }
            if !prev.contains_key(w) && w != start {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    comp.to_vec()
}

#[test]
fn no_import_cycle_among_core_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = core_graph(&src);
    assert!(graph.len() > 10, "found too few core modules in {}: {:?}", src.display(), graph.keys());
    let found = cycles(&graph);
    if !found.is_empty() {
        let mut msg = String::from("import cycles among core modules (src/ minus src/ffi):\n");
        for comp in &found {
            msg.push_str(&format!(
                "  group {{{}}}\n    e.g. {}\n",
                comp.join(", "),
                one_cycle(&graph, comp).join(" -> ")
            ));
            for m in comp {
                let inside: Vec<&str> = graph[m].iter().filter(|w| comp.contains(w)).map(String::as_str).collect();
                msg.push_str(&format!("    {m} -> {}\n", inside.join(", ")));
            }
        }
        panic!("{msg}");
    }
}

#[test]
fn the_parser_sees_grouped_inline_and_commented_paths() {
    assert_eq!(targets("use crate::config::{HeadLimits, Timeouts};"), ["config"]);
    assert_eq!(targets("use crate::{auth::Auth, request::{Body, Request}, urls};"), ["auth", "request", "urls"]);
    assert_eq!(targets("let x = crate::netrc::locate(crate::proxy::env::f());"), ["netrc", "proxy"]);
    assert_eq!(targets("use mycrate::x;"), Vec::<String>::new());
    assert_eq!(strip_comment("f(); // see crate::client"), "f(); ");
    assert_eq!(strip_comment("let s = \"a//b\"; crate::x"), "let s = \"a//b\"; crate::x");
    let mut g = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(a.to_string()).or_insert_with(BTreeSet::new).insert(b.to_string());
        g.entry(b.to_string()).or_insert_with(BTreeSet::new);
    }
    let c = cycles(&g);
    assert_eq!(c, vec![vec!["a".to_string(), "b".into(), "c".into()]]);
    assert_eq!(one_cycle(&g, &c[0]), ["a", "b", "c", "a"]);
}
