//! The API's routes, read from template.yaml: the one list of them, which
//! API Gateway deploys. The catch-all answers from it what no route takes.

use std::sync::OnceLock;

/// The SAM template, compiled in: a changed route rebuilds the catch-all.
const TEMPLATE: &str = include_str!("../../../template.yaml");
/// API Gateway's name for the route that takes what no other route does.
pub const DEFAULT_ROUTE: &str = "$default";

/// One route of the template: `method path` served by `function`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub function: String,
    pub method: String,
    pub path: String,
}

/// Every route of a SAM template, in the layout ours keeps: each
/// function's `Binary:` (its Metadata), then each HttpApi event's
/// `Method:` and `Path:`.
pub fn template_routes(template: &str) -> Vec<Route> {
    let (mut routes, mut function, mut method) = (Vec::new(), None::<&str>, None::<&str>);
    for line in template.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("Binary: ") {
            function = Some(name);
        } else if let Some(m) = line.strip_prefix("Method: ") {
            method = Some(m);
        } else if let (Some(path), Some(function), Some(m)) = (line.strip_prefix("Path: "), function, method.take()) {
            routes.push(Route { function: function.to_owned(), method: m.to_owned(), path: path.to_owned() });
        }
    }
    routes
}

/// The deployed paths and the methods each one serves.
pub struct Routes(Vec<ServedPath>);

struct ServedPath {
    segments: Vec<String>,
    methods: String,
}

impl Routes {
    /// The routes of the template, read once per container.
    pub fn deployed() -> &'static Self {
        static ROUTES: OnceLock<Routes> = OnceLock::new();
        ROUTES.get_or_init(|| Self::from_template(TEMPLATE))
    }

    /// The paths of `template`; the catch-all's own routes (the methods of a
    /// parameter route that a literal path would otherwise fall into, such
    /// as `GET /user/login`) serve nothing.
    fn from_template(template: &str) -> Self {
        let routes = template_routes(template);
        let catch_all = routes.iter().find(|route| route.path == DEFAULT_ROUTE).map(|route| route.function.as_str());
        let mut served: Vec<(String, Vec<&str>)> = Vec::new();
        for route in routes.iter().filter(|route| Some(route.function.as_str()) != catch_all) {
            match served.iter_mut().find(|(path, _)| *path == route.path) {
                Some((_, methods)) => methods.push(&route.method),
                None => served.push((route.path.clone(), vec![&route.method])),
            }
        }
        let mut paths: Vec<ServedPath> = served
            .into_iter()
            .map(|(path, mut methods)| {
                methods.sort_by_key(|method| METHOD_ORDER.iter().position(|m| m == method));
                ServedPath { segments: path.split('/').map(str::to_owned).collect(), methods: methods.join(", ") }
            })
            .collect();
        // As API Gateway chooses: a literal segment wins over a parameter.
        paths.sort_by_key(|path| path.segments.iter().filter(|s| s.starts_with('{')).count());
        Self(paths)
    }

    /// The methods the path serves (`"GET, POST"`), or None for no such path.
    pub fn allowed_at(&self, path: &str) -> Option<&str> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|served| {
                served.segments.len() == wanted.len()
                    && served
                        .segments
                        .iter()
                        .zip(&wanted)
                        .all(|(have, want)| have == want || (have.starts_with('{') && !want.is_empty()))
            })
            .map(|served| served.methods.as_str())
    }
}

/// The order `Allow` lists methods in.
const METHOD_ORDER: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deployed_path_is_known_with_its_methods() {
        let routes = Routes::deployed();
        assert_eq!(routes.allowed_at("/user"), Some("GET, POST"));
        assert_eq!(routes.allowed_at("/user/register"), Some("POST"));
        assert_eq!(routes.allowed_at("/user/login"), Some("POST"), "the catch-all's GET /user/login serves nothing");
        assert_eq!(routes.allowed_at("/user/6b063ff52c7242c9f10f3416"), Some("GET, PATCH, DELETE"));
        assert_eq!(routes.allowed_at("/payment/pi_1/refund"), Some("POST"));
    }

    #[test]
    fn an_unknown_path_or_an_empty_parameter_is_unknown() {
        let routes = Routes::deployed();
        assert_eq!(routes.allowed_at("/nowhere"), None);
        assert_eq!(routes.allowed_at("/user/"), None);
        assert_eq!(routes.allowed_at("/payment/pi_1/refund/more"), None);
    }
}
