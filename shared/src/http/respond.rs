use http::{header::CONTENT_TYPE, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use super::ApiError;

/// A JSON answer with the given status.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    // Serialising our own DTOs cannot fail (no maps with non-string keys).
    let text = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

pub fn ok(value: &impl Serialize) -> Result<Response<Body>, ApiError> {
    Ok(json(StatusCode::OK, value))
}

pub fn created(value: &impl Serialize) -> Result<Response<Body>, ApiError> {
    Ok(json(StatusCode::CREATED, value))
}

/// What a documented path answers to a method it does not have: OPTIONS
/// learns the methods it has (204), any other method is refused (405).
pub fn allowed_methods(method: &http::Method, allow: &str) -> Result<Response<Body>, ApiError> {
    if method != http::Method::OPTIONS {
        return Err(ApiError::MethodNotAllowed { method: method.to_string(), allow: allow.to_owned() });
    }
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Ok(value) = http::HeaderValue::from_str(allow) {
        response.headers_mut().insert(http::header::ALLOW, value);
    }
    Ok(response)
}
