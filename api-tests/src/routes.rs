//! The routes, as template.yaml (their one list) declares them, read with
//! the parser the catch-all uses (`shared::http::routes`).

use std::{collections::BTreeSet, path::PathBuf};

use shared::http::routes::{template_routes as parse, DEFAULT_ROUTE};

/// The workspace's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// API Gateway's name for a route: "METHOD /path", and the catch-all is
/// plain "$default" whatever its method.
fn route_key(method: &str, path: &str) -> String {
    if path == DEFAULT_ROUTE {
        path.to_owned()
    } else {
        format!("{method} {path}")
    }
}

/// (function, route key) for every route in template.yaml, the
/// catch-all's included.
pub fn template_routes() -> BTreeSet<(String, String)> {
    let template = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    parse(&template).into_iter().map(|route| (route.function.clone(), route_key(&route.method, &route.path))).collect()
}

/// The catch-all's function: the one with the `$default` route.
pub fn catch_all() -> String {
    template_routes().into_iter().find(|(_, route)| route == DEFAULT_ROUTE).expect("a $default route").0
}

/// (function, route key) for every route a function of the API serves: the
/// template's, less the catch-all's.
pub fn api_routes() -> BTreeSet<(String, String)> {
    let catch_all = catch_all();
    template_routes().into_iter().filter(|(function, _)| *function != catch_all).collect()
}
