//! The OpenAPI 3.1 document of the whole API, kept beside the code that
//! answers it and served by `openapi-get`; `api-tests/tests/api/openapi.rs`
//! holds it to the template's routes and to the real answers. Nothing
//! routes by it.

use http::{header::CONTENT_TYPE, HeaderValue, StatusCode};
use lambda_http::{Body, Response};

pub const DOCUMENT: &str = include_str!("openapi.json");

pub fn document() -> Response<Body> {
    let mut response = Response::new(Body::Text(DOCUMENT.to_owned()));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
