//! The layers of `shared/`, read from its source: each module imports only
//! modules of lower layers, so there are no loops and nothing below the
//! edge knows HTTP.

use std::{collections::BTreeSet, path::Path};

/// Module → layer. A module may import modules of lower layers only.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("telemetry", 0),
    ("hex", 0),
    ("config", 1),
    ("secrets", 2),
    ("store", 2),
    ("stripe", 2),
    ("auth", 3),
    ("users", 4),
    ("payments", 4),
    ("state", 5),
    ("http", 6),
    ("lambda", 7),
];

fn layer(module: &str) -> u8 {
    LAYERS.iter().find(|(name, _)| *name == module).unwrap_or_else(|| panic!("{module} has no layer")).1
}

/// The top-level modules a source file names through `crate::`.
fn imports(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::x, b, c::{y, z}}`: the names at the group's top level.
            let (mut depth, mut start) = (0, 0);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.insert(first_segment(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(first_segment(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.insert(first_segment(rest));
        }
    }
    names.remove("");
    names
}

fn first_segment(path: &str) -> String {
    path.trim().split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default().to_owned()
}

fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut upward = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_owned();
        if module == "lib" {
            continue;
        }
        for imported in imports(&std::fs::read_to_string(&file).unwrap()) {
            if imported != module && layer(&imported) >= layer(&module) {
                upward.push(format!("{} imports {imported}", relative.display()));
            }
        }
    }
    assert!(upward.is_empty(), "imports that do not point to a lower layer:\n{}", upward.join("\n"));
}

#[test]
fn grouped_and_inline_imports_are_both_read() {
    let source = "use crate::{auth::{a, b}, domain::X};\nfn f() { crate::store::g(); }";
    let expected: BTreeSet<String> = ["auth", "domain", "store"].map(String::from).into();
    assert_eq!(imports(source), expected);
}

/// `cargo test` links only the test binaries that hold tests: a crate whose
/// targets set `test = false` must not hold one, or it would never run.
#[test]
fn crates_that_skip_their_unit_tests_hold_none() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut crates: Vec<_> = std::fs::read_dir(root.join("functions")).unwrap().map(|e| e.unwrap().path()).collect();
    let functions = crates.len();
    crates.extend(["admin", "tools/bench-hello", "api-tests"].map(|dir| root.join(dir)));
    let mut skipping = 0;
    let mut unrun = Vec::new();
    for dir in crates {
        if !std::fs::read_to_string(dir.join("Cargo.toml")).unwrap().contains("test = false") {
            continue;
        }
        skipping += 1;
        let mut files = Vec::new();
        sources(&dir.join("src"), &mut files);
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            if source.contains("#[test]") || source.contains("#[tokio::test") {
                unrun.push(file.display().to_string());
            }
        }
    }
    assert_eq!(
        skipping,
        functions + 3,
        "every function, payments-admin, bench-hello and api-tests' helpers skip theirs"
    );
    assert!(unrun.is_empty(), "tests that `cargo test` would never run:\n{}", unrun.join("\n"));
}
