//! The modules of `src/` import each other without a cycle, test code
//! included: a module's code can be read knowing only the modules below it.
//!
//! The graph is built from the source text: every `crate::` / `super::` /
//! `self::` path outside comments (in `use` trees, grouped or not, and inline
//! in code) is an edge from the file it is written in to the deepest module
//! file it names. Items re-exported at the crate root (`crate::Feeder`) count
//! as imports of the module that defines them (the root's `pub use` lines).
//! Nodes are files: `src/a.rs` is `a`, `src/a/mod.rs` is `a`, `src/a/b.rs`
//! is `a::b`; the crate root only declares modules and is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/format/json.rs` -> ["format", "json"]; `src/format/mod.rs` -> ["format"].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a line without its `//` comment (strings holding `//` are
/// rare enough in this crate's `use` lines not to matter) and `""` for a
/// doc or comment line.
fn code(line: &str) -> &str {
    let t = line.trim_start();
    if t.starts_with("//") || t.starts_with("*") || t.starts_with("/*") {
        return "";
    }
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Expands a `use` tree (`crate::{a::b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |e| format!("{prefix}{e}")))
        .collect()
}

/// Paths starting `crate::`, `super::` or `self::` in a chunk of code: whole
/// `use` trees, and inline paths (`crate::a::b(..)`).
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let i = from + i;
            from = i + start.len();
            // Only at the start of a path (not `foo::crate::`, not `xcrate::`).
            if i > 0
                && (bytes[i - 1].is_ascii_alphanumeric()
                    || bytes[i - 1] == b'_'
                    || bytes[i - 1] == b':')
            {
                continue;
            }
            let mut end = i;
            let mut depth = 0;
            while end < bytes.len() {
                let c = bytes[end];
                if c == b'{' {
                    depth += 1;
                } else if c == b'}' {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                } else if !(c.is_ascii_alphanumeric() || c == b'_' || c == b':')
                    && !(depth > 0 && (c == b',' || c.is_ascii_whitespace() || c == b'*'))
                {
                    break;
                }
                end += 1;
            }
            out.extend(expand(&code[i..end]));
        }
    }
    out
}

struct Graph {
    /// Module files, by path.
    modules: BTreeSet<Vec<String>>,
    /// Crate-root names re-exported from a module (`Feeder` -> feeder).
    root_names: BTreeMap<String, Vec<String>>,
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

impl Graph {
    /// The module file a path written in module `at` (inside `inline` inline
    /// modules of that file) names, if any.
    fn target(&self, at: &[String], inline: usize, path: &str) -> Option<Vec<String>> {
        let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let (mut base, rest): (Vec<String>, &[&str]) = match *segs.first()? {
            "crate" => (Vec::new(), &segs[1..]),
            "self" => (at.to_vec(), &segs[1..]),
            "super" => {
                let supers = segs.iter().take_while(|s| **s == "super").count();
                // `super` first leaves the inline modules, then the file's.
                let out_of_file = supers.saturating_sub(inline);
                if out_of_file > at.len() {
                    return None;
                }
                (at[..at.len() - out_of_file].to_vec(), &segs[supers..])
            }
            _ => return None,
        };
        if base.is_empty() {
            if let Some(first) = rest.first() {
                if let Some(m) = self.root_names.get(*first) {
                    return Some(m.clone());
                }
            }
        }
        for s in rest {
            let mut next = base.clone();
            next.push(s.to_string());
            if self.modules.contains(&next) {
                base = next;
            } else {
                break;
            }
        }
        (!base.is_empty()).then_some(base)
    }
}

fn build(src: &Path) -> Graph {
    let mut all = Vec::new();
    files(src, &mut all);
    all.sort();
    let mut g = Graph {
        modules: all
            .iter()
            .map(|f| module_of(src, f))
            .filter(|m| !m.is_empty())
            .collect(),
        root_names: BTreeMap::new(),
        edges: BTreeMap::new(),
    };
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut stmt = String::new();
    for line in lib.lines() {
        let c = code(line).trim();
        if stmt.is_empty() && !c.starts_with("pub use ") {
            continue;
        }
        stmt.push_str(c);
        if !c.ends_with(';') {
            continue;
        }
        let tree = stmt.trim_start_matches("pub use ").trim_end_matches(';');
        for p in expand(tree) {
            let segs: Vec<&str> = p.split("::").collect();
            let name = segs.last().unwrap();
            let name = name.rsplit(" as ").next().unwrap_or(name);
            let name = name.split("as").last().unwrap_or(name);
            let module = vec![segs[0].to_string()];
            if g.modules.contains(&module) {
                g.root_names.insert(name.to_string(), module);
            }
        }
        stmt.clear();
    }
    for f in &all {
        let at = module_of(src, f);
        if at.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        // Inline modules (`mod tests {`), by the indentation rustfmt gives
        // their opening line and their closing brace.
        let mut inline: Vec<usize> = Vec::new();
        let mut pending = String::new();
        for line in text.lines() {
            let indent = line.len() - line.trim_start().len();
            let c = code(line);
            while inline
                .last()
                .is_some_and(|&i| indent <= i && !c.trim().is_empty())
            {
                if c.trim() == "}" && Some(&indent) == inline.last() {
                    inline.pop();
                    break;
                }
                if indent < *inline.last().unwrap() {
                    inline.pop();
                } else {
                    break;
                }
            }
            let t = c.trim();
            let is_mod = (t.starts_with("mod ")
                || t.starts_with("pub mod ")
                || t.starts_with("pub(crate) mod "))
                && t.ends_with('{');
            // `use` trees that span lines are read whole.
            if !pending.is_empty()
                || t.starts_with("use ")
                || t.starts_with("pub use ")
                || t.starts_with("pub(crate) use ")
            {
                pending.push_str(t);
                if !t.ends_with(';') {
                    continue;
                }
            }
            let chunk = if pending.is_empty() {
                c.to_string()
            } else {
                std::mem::take(&mut pending)
            };
            let mut found = paths(&chunk);
            // `use child::x;` in a module with child modules.
            let tree = chunk
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            if let Some(tree) = tree.strip_prefix("use ") {
                let tree = tree.trim_end_matches(';');
                found.extend(expand(tree).into_iter().map(|p| format!("self::{p}")));
            }
            for p in found {
                if let Some(to) = g.target(&at, inline.len(), &p) {
                    if to != at {
                        g.edges.entry(at.clone()).or_default().insert(to);
                    }
                }
            }
            if is_mod {
                inline.push(indent);
            }
        }
    }
    g
}

/// A cycle in the graph, as the list of modules on it.
fn find_cycle(g: &Graph) -> Option<Vec<Vec<String>>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        g: &Graph,
        m: &Vec<String>,
        marks: &mut BTreeMap<Vec<String>, Mark>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        marks.insert(m.clone(), Mark::Open);
        stack.push(m.clone());
        for n in g.edges.get(m).into_iter().flatten() {
            match marks.get(n).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let i = stack.iter().position(|s| s == n).unwrap();
                    let mut cycle = stack[i..].to_vec();
                    cycle.push(n.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(g, n, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(m.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for m in &g.modules {
        if marks.get(m).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(c) = visit(g, m, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn show(cycle: &[Vec<String>]) -> String {
    cycle
        .iter()
        .map(|m| m.join("::"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[test]
fn src_modules_import_each_other_without_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = build(&src);
    // The reader sees the edges it found: a parser that found none would
    // pass vacuously.
    let n: usize = g.edges.values().map(BTreeSet::len).sum();
    assert!(
        n >= 20,
        "only {n} import edges found in src/: the scan is broken"
    );
    for (from, to) in &g.edges {
        let to: Vec<String> = to.iter().map(|m| m.join("::")).collect();
        eprintln!("{} -> {}", from.join("::"), to.join(", "));
    }
    if let Some(c) = find_cycle(&g) {
        panic!("import cycle in src/: {}", show(&c));
    }
}

/// The scan itself: a cycle written into a scratch tree is found, through
/// a grouped `use`, an inline path, a root re-export and `super::` out of a
/// test module.
#[test]
fn the_scan_finds_a_planted_cycle() {
    let dir = std::env::temp_dir().join(format!("auparse-import-graph-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("b")).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "mod a;\nmod b;\npub use a::{Thing, other};\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a.rs"),
        "pub struct Thing;\nfn f() { crate::b::c::g() }\n",
    )
    .unwrap();
    std::fs::write(src.join("b/mod.rs"), "pub mod c;\n").unwrap();
    std::fs::write(
        src.join("b/c.rs"),
        "pub fn g() {}\n#[cfg(test)]\nmod tests {\n    use super::super::{x, y::z};\n    fn h() -> crate::Thing { todo!() }\n}\n",
    )
    .unwrap();
    let g = build(&src);
    let cycle = find_cycle(&g).map(|c| show(&c));
    std::fs::remove_dir_all(&dir).unwrap();
    let cycle = cycle.expect("the planted cycle a -> b::c -> a");
    assert!(
        cycle.contains("a -> b::c") || cycle.contains("b::c -> a"),
        "{cycle}"
    );
}
