use lambda_http::{Body, Request};
use serde_json::{Map, Value};

use super::ApiError;
use crate::domain::Invalid;

/// API Gateway accepts up to 10 MB; none of our bodies is near 1 KiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A request body that is a JSON object, read field by field so that every
/// refusal names the field it is about.
#[derive(Debug)]
pub struct JsonObject(Map<String, Value>);

impl JsonObject {
    /// Parses the body. `allowed` lists the fields the endpoint knows; any
    /// other field is refused rather than silently ignored.
    pub fn from_request(req: &Request, allowed: &[&str]) -> Result<Self, ApiError> {
        let bytes: &[u8] = match req.body() {
            Body::Empty => b"",
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => b"",
        };
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest("Request body must be a JSON object.".into()));
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|_| ApiError::BadRequest("Request body is not valid JSON.".into()))?;
        let Value::Object(map) = value else {
            return Err(ApiError::BadRequest("Request body must be a JSON object.".into()));
        };
        if let Some(unknown) = map.keys().find(|key| !allowed.contains(&key.as_str())) {
            let shown: String = unknown.chars().take(40).collect();
            return Err(ApiError::BadRequest(format!("property {shown} should not exist")));
        }
        Ok(Self(map))
    }

    /// A field that must be present and a string, parsed into a domain type.
    pub fn required<T>(&self, name: &str, parse: impl FnOnce(&str) -> Result<T, Invalid>) -> Result<T, ApiError> {
        self.optional(name, parse)?.ok_or_else(|| ApiError::field(name, "is required"))
    }

    /// A field that may be absent; if present it must be a string.
    pub fn optional<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Result<Option<T>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(raw)) => parse(raw).map(Some).map_err(|why| ApiError::field(name, why)),
            Some(_) => Err(ApiError::field(name, "must be a string")),
        }
    }
}

impl JsonObject {
    /// A field that may be absent; if present it must be an integer, then
    /// parsed into a domain type.
    pub fn optional_integer<T>(
        &self,
        name: &str,
        parse: impl FnOnce(i64) -> Result<T, Invalid>,
    ) -> Result<Option<T>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Number(number)) => match number.as_i64() {
                Some(value) => parse(value).map(Some).map_err(|why| ApiError::field(name, why)),
                None => Err(ApiError::field(name, "must be an integer")),
            },
            Some(_) => Err(ApiError::field(name, "must be an integer")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Email;

    fn request(body: &str) -> Request {
        let mut req = Request::new(Body::Text(body.to_owned()));
        *req.method_mut() = http::Method::POST;
        req
    }

    fn message(err: ApiError) -> String {
        match err {
            ApiError::BadRequest(message) => message,
            other => panic!("expected 400, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_refused() {
        let err = JsonObject::from_request(&request("{\"email\": "), &["email"]).unwrap_err();
        assert_eq!(message(err), "Request body is not valid JSON.");
    }

    #[test]
    fn non_object_bodies_are_refused() {
        for body in ["[]", "\"x\"", "42", "null", ""] {
            let err = JsonObject::from_request(&request(body), &["email"]).unwrap_err();
            assert!(matches!(err, ApiError::BadRequest(_)), "{body:?}");
        }
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = JsonObject::from_request(&request(r#"{"role": "admin"}"#), &["email"]).unwrap_err();
        assert_eq!(message(err), "property role should not exist");
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let body = JsonObject::from_request(&request(r#"{"email": 5}"#), &["email", "name"]).unwrap();
        assert_eq!(message(body.required("email", Email::parse).unwrap_err()), "email must be a string");
        assert_eq!(message(body.required("name", Email::parse).unwrap_err()), "name is required");
    }

    #[test]
    fn oversized_bodies_are_413() {
        let big = format!("{{\"email\": \"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        let err = JsonObject::from_request(&request(&big), &["email"]).unwrap_err();
        assert!(matches!(err, ApiError::PayloadTooLarge(_)));
    }
}
