//! The OpenAPI 3.1 document of the whole API, kept beside the code that
//! answers it; `api-tests/tests/api/openapi.rs` holds it to the routes and to
//! the real answers.

use std::sync::OnceLock;

use http::{header::CONTENT_TYPE, HeaderValue, StatusCode};
use lambda_http::{request::RequestContext, Body, Request, RequestExt, Response};
use serde_json::Value;

use super::ApiError;

pub const DOCUMENT: &str = include_str!("openapi.json");

pub fn document() -> Response<Body> {
    let mut response = Response::new(Body::Text(DOCUMENT.to_owned()));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The documented paths and the methods each one has, read from the
/// document, so that what no route matches can be answered truthfully.
pub struct Paths(Vec<DocumentedPath>);

struct DocumentedPath {
    template: String,
    segments: Vec<String>,
    methods: String,
}

impl Paths {
    /// The paths of `DOCUMENT`, read once per container.
    pub fn documented() -> &'static Self {
        static PATHS: OnceLock<Paths> = OnceLock::new();
        PATHS.get_or_init(Self::read)
    }

    fn read() -> Self {
        let document: Value = serde_json::from_str(DOCUMENT).unwrap_or_default();
        let Some(paths) = document["paths"].as_object() else { return Self(Vec::new()) };
        let mut found: Vec<DocumentedPath> = paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<String> =
                    METHODS.iter().filter(|m| item.get(**m).is_some()).map(|m| m.to_uppercase()).collect();
                DocumentedPath {
                    template: path.clone(),
                    segments: path.split('/').map(str::to_owned).collect(),
                    methods: methods.join(", "),
                }
            })
            .collect();
        // As API Gateway chooses: a literal segment wins over a parameter.
        found.sort_by_key(|path| path.segments.iter().filter(|s| s.starts_with('{')).count());
        Self(found)
    }

    /// The methods the path has (`"GET, POST"`), or None for no such path.
    pub fn allowed_at(&self, path: &str) -> Option<&str> {
        self.matching(path).map(|documented| documented.methods.as_str())
    }

    fn matching(&self, path: &str) -> Option<&DocumentedPath> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.0.iter().find(|documented| {
            documented.segments.len() == wanted.len()
                && documented
                    .segments
                    .iter()
                    .zip(&wanted)
                    .all(|(have, want)| have == want || (have.starts_with('{') && !want.is_empty()))
        })
    }
}

/// API Gateway takes `GET /user/login` for `GET /user/{id}` with the id
/// "login"; but /user/login is a resource of its own, which has no GET.
/// Such a request is refused as the catch-all route refuses it: 405.
pub fn shadowed(req: &Request) -> Option<ApiError> {
    let Some(RequestContext::ApiGatewayV2(context)) = req.request_context_ref() else { return None };
    let (_, route) = context.route_key.as_deref()?.split_once(' ')?;
    if !route.contains('{') {
        return None;
    }
    let documented = Paths::documented().matching(req.uri().path())?;
    (documented.template != route)
        .then(|| ApiError::MethodNotAllowed { method: req.method().to_string(), allow: documented.methods.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_path_is_known_with_its_methods() {
        let paths = Paths::documented();
        assert_eq!(paths.allowed_at("/user"), Some("GET, POST"));
        assert_eq!(paths.allowed_at("/user/register"), Some("POST"));
        assert_eq!(paths.allowed_at("/user/6b063ff52c7242c9f10f3416"), Some("GET, PATCH, DELETE"));
        assert_eq!(paths.allowed_at("/payment/pi_1/refund"), Some("POST"));
    }

    #[test]
    fn an_undocumented_path_or_an_empty_parameter_is_unknown() {
        let paths = Paths::documented();
        assert_eq!(paths.allowed_at("/nowhere"), None);
        assert_eq!(paths.allowed_at("/user/"), None);
        assert_eq!(paths.allowed_at("/payment/pi_1/refund/more"), None);
    }
}
