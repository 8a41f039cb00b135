use std::path::PathBuf;

use lambda_http::Request;
use serde_json::{json, Value};

/// An API Gateway HTTP API (v2) event, starting from the function's file in
/// `events/` — the same one `sam local invoke` is given.
#[derive(Clone)]
pub struct Event(Value);

impl Event {
    pub fn of(function: &str) -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events").join(format!("{function}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
        Self(serde_json::from_str(&text).unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display())))
    }

    pub fn body(self, body: Value) -> Self {
        self.raw_body(&body.to_string())
    }

    pub fn raw_body(mut self, body: &str) -> Self {
        self.0["body"] = json!(body);
        self
    }

    pub fn token(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.0["headers"][name] = json!(value);
        self
    }

    pub fn without_header(mut self, name: &str) -> Self {
        if let Some(headers) = self.0["headers"].as_object_mut() {
            headers.remove(name);
        }
        self
    }

    /// The client address API Gateway saw.
    pub fn source_ip(mut self, ip: &str) -> Self {
        self.0["requestContext"]["http"]["sourceIp"] = json!(ip);
        self
    }

    /// Sets `{id}` in the path, as API Gateway would for `/user/{id}`.
    pub fn path_id(mut self, id: &str) -> Self {
        let route = self.0["routeKey"].as_str().unwrap_or_default().to_owned();
        let path = route.split_once(' ').map(|(_, path)| path).unwrap_or_default().replace("{id}", id);
        self.0["pathParameters"] = json!({ "id": id });
        self.0["rawPath"] = json!(path);
        self.0["requestContext"]["http"]["path"] = json!(path);
        self
    }

    /// The request's method and path, as the catch-all route receives them.
    pub fn request_line(mut self, method: &str, path: &str) -> Self {
        self.0["rawPath"] = json!(path);
        self.0["requestContext"]["http"]["path"] = json!(path);
        self.0["requestContext"]["http"]["method"] = json!(method);
        self
    }

    pub fn query(mut self, query: &[(&str, &str)]) -> Self {
        let raw: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.0["rawQueryString"] = json!(raw.join("&"));
        self.0["queryStringParameters"] = query.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        self
    }

    pub fn json(&self) -> &Value {
        &self.0
    }

    pub fn into_request(self) -> Request {
        lambda_http::request::from_str(&self.0.to_string()).expect("events are valid API Gateway v2 payloads")
    }
}
