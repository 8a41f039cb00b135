//! The routes, as template.yaml (their one list) declares them.

use std::{collections::BTreeSet, path::PathBuf};

/// The workspace's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// API Gateway's name for a route: "METHOD /path", and the catch-all is
/// plain "$default" whatever its method.
fn route_key(method: &str, path: &str) -> String {
    if path == "$default" {
        path.to_owned()
    } else {
        format!("{method} {path}")
    }
}

/// (function, route key) for every function in template.yaml.
pub fn template_routes() -> BTreeSet<(String, String)> {
    let template = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let mut routes = BTreeSet::new();
    let (mut binary, mut method) = (None, None);
    for line in template.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("Binary: ") {
            binary = Some(name.to_owned());
        } else if let Some(m) = line.strip_prefix("Method: ") {
            method = Some(m.to_owned());
        } else if let Some(path) = line.strip_prefix("Path: ") {
            let function = binary.take().expect("every route belongs to a function with a Binary");
            routes.insert((function, route_key(&method.take().expect("a Method before the Path"), path)));
        }
    }
    routes
}
