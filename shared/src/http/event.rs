//! API Gateway's event, read leniently. lambda_http reads it strictly: a
//! header value with a control byte fails the invocation before any code of
//! ours runs, and a raw `"`, `<` or `>` in the query string, a malformed
//! `Host` or `X-Forwarded-Proto`, or a body marked base64 that is not, meets
//! an `expect` and kills the process. API Gateway forwards what clients send,
//! so every such event is mended here (bytes a URI may not hold are
//! percent-encoded: the same text, read by the same rules) or refused with a
//! JSON 400, before lambda_http sees it.

use base64::Engine;
use lambda_http::{
    aws_lambda_events::apigw::ApiGatewayV2httpResponse, request::LambdaRequest, Body, Request, Response,
};
use serde_json::{Map, Value};

use super::ApiError;

/// The request an API Gateway HTTP API event describes, or why it cannot be one.
pub fn request(mut event: Value) -> Result<Request, ApiError> {
    let Some(fields) = event.as_object_mut() else { return Err(unreadable()) };
    mend_uri(fields);
    check_headers(fields)?;
    check_body(fields)?;
    let request: LambdaRequest = serde_json::from_value(event).map_err(|_| unreadable())?;
    Ok(request.into())
}

/// Our answer in the shape API Gateway's payload format 2.0 expects.
pub fn gateway_response(response: Response<Body>) -> ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let mut answer = ApiGatewayV2httpResponse::default();
    answer.status_code = i64::from(parts.status.as_u16());
    answer.headers = parts.headers;
    (answer.is_base64_encoded, answer.body) = match body {
        Body::Empty => (false, None),
        text @ Body::Text(_) => (false, Some(text)),
        binary @ Body::Binary(_) => (true, Some(binary)),
        _ => (false, None),
    };
    answer
}

fn unreadable() -> ApiError {
    ApiError::BadRequest("The request could not be read.".into())
}

/// Percent-encodes what a URI may not hold in the path and query, and drops
/// a `Host` or `X-Forwarded-Proto` no URL can be built from (API Gateway's
/// `domainName` stands in).
fn mend_uri(fields: &mut Map<String, Value>) {
    if let Some(Value::String(path)) = fields.get_mut("rawPath") {
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
    }
    for (field, allowed) in [("rawPath", PATH_BYTES), ("rawQueryString", QUERY_BYTES)] {
        if let Some(Value::String(raw)) = fields.get_mut(field) {
            *raw = percent_encoded(raw, allowed);
        }
    }
    if let Some(Value::Object(headers)) = fields.get_mut("headers") {
        headers.retain(|name, value| match name.to_ascii_lowercase().as_str() {
            "host" => value.as_str().is_some_and(is_host),
            "x-forwarded-proto" => matches!(value.as_str(), Some("http" | "https")),
            _ => true,
        });
    }
    if let Some(Value::Object(context)) = fields.get_mut("requestContext") {
        if context.get("domainName").and_then(Value::as_str).is_some_and(|host| !is_host(host)) {
            context.remove("domainName");
        }
        // API Gateway's stage names: letters, digits, `-` and `_`, at most 128.
        let stage_ok = |stage: &str| {
            stage == "$default"
                || (!stage.is_empty()
                    && stage.len() <= 128
                    && stage.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        };
        if context.get("stage").is_some_and(|stage| !stage.as_str().is_some_and(stage_ok)) {
            context.insert("stage".into(), Value::String("$default".into()));
        }
    }
}

/// RFC 3986's path and query characters (`%` kept: API Gateway passes
/// encodings through).
const PATH_BYTES: &[u8] = b"-._~!$&'()*+,;=:@/%";
const QUERY_BYTES: &[u8] = b"-._~!$&'()*+,;=:@/?%";

fn percent_encoded(raw: &str, allowed: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || allowed.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A host name or address, with an optional port, that a URL can hold
/// (lambda_http builds one from it and `unwrap`s).
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        && url::Url::parse(&format!("https://{host}/")).is_ok_and(|url| url.host().is_some())
}

/// HTTP forbids control bytes in a header value (RFC 9110 §5.5: field
/// values are visible characters, spaces and tabs). A request carrying one
/// is refused, naming the header but not echoing its value.
fn check_headers(fields: &Map<String, Value>) -> Result<(), ApiError> {
    let Some(Value::Object(headers)) = fields.get("headers") else { return Ok(()) };
    for (name, value) in headers {
        let forbidden = |text: &str| text.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f);
        if value.as_str().is_some_and(forbidden) || forbidden(name) {
            let shown: String = name.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
            return Err(ApiError::BadRequest(format!("Header {shown} holds a character HTTP does not allow.")));
        }
    }
    Ok(())
}

/// A body marked base64 must be base64.
fn check_body(fields: &Map<String, Value>) -> Result<(), ApiError> {
    let encoded = fields.get("isBase64Encoded").and_then(Value::as_bool).unwrap_or(false);
    match fields.get("body").and_then(Value::as_str) {
        Some(body) if encoded && base64::engine::general_purpose::STANDARD.decode(body).is_err() => {
            Err(ApiError::BadRequest("The request body is not valid base64.".into()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(query: &str, headers: Value) -> Value {
        json!({
            "version": "2.0", "routeKey": "GET /config", "rawPath": "/config", "rawQueryString": query,
            "headers": headers, "isBase64Encoded": false,
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
                "domainPrefix": "api", "requestId": "r", "routeKey": "GET /config", "stage": "$default",
                "time": "06/Dec/2026:10:00:00 +0000", "timeEpoch": 0,
                "http": { "method": "GET", "path": "/config", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                          "userAgent": "curl" }
            }
        })
    }

    #[test]
    fn raw_quotes_and_angle_brackets_in_the_query_are_read_as_their_encoding() {
        let request = request(event("x=\"<a>&y= b", json!({ "host": "api.example.com" }))).unwrap();
        assert_eq!(request.uri().query(), Some("x=%22%3Ca%3E&y=%20b"));
    }

    #[test]
    fn a_control_byte_in_a_header_is_a_400_naming_the_header() {
        for value in ["a\u{1}b", "a\u{0}", "\u{7f}", "line\nbreak"] {
            let err = request(event("", json!({ "x-probe": value }))).unwrap_err();
            assert_eq!(err.status(), 400, "{value:?}");
            assert_eq!(err.to_string(), "Header x-probe holds a character HTTP does not allow.");
        }
        assert!(request(event("", json!({ "x-probe": "tab\tis fine" }))).is_ok());
    }

    #[test]
    fn a_host_or_scheme_no_url_can_hold_is_dropped() {
        let request = request(event("", json!({ "host": "a b<>", "x-forwarded-proto": "gopher:/" }))).unwrap();
        assert_eq!(request.uri().host(), Some("api.example.com"));
    }

    #[test]
    fn a_body_marked_base64_that_is_not_is_a_400() {
        let mut bad = event("", json!({}));
        bad["isBase64Encoded"] = json!(true);
        bad["body"] = json!("not base64 !!");
        assert_eq!(request(bad).unwrap_err().status(), 400);
    }

    #[test]
    fn anything_but_an_http_api_event_is_a_400() {
        for odd in [json!(null), json!([]), json!("x"), json!({ "rawPath": 5 })] {
            assert_eq!(request(odd.clone()).unwrap_err().status(), 400, "{odd}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever a client puts in the path, query string, headers,
        /// cookies and body, reading the event answers a request or a 400,
        /// and never panics (which, with `panic = "abort"`, kills the
        /// function).
        #[test]
        fn no_event_api_gateway_can_send_panics(
            path in ".{0,40}",
            query in ".{0,60}",
            names in proptest::collection::vec("[ -~\\x00-\\x1f]{0,12}", 0..4),
            values in proptest::collection::vec(".{0,24}", 0..4),
            host in ".{0,20}",
            proto in ".{0,8}",
            cookies in proptest::collection::vec(".{0,16}", 0..3),
            body in ".{0,40}",
            base64 in proptest::bool::ANY,
            method in "[A-Z]{0,8}|.{0,4}",
        ) {
            let mut headers = Map::new();
            for (name, value) in names.iter().zip(values) {
                headers.insert(name.clone(), json!(value));
            }
            headers.insert("host".into(), json!(host));
            headers.insert("x-forwarded-proto".into(), json!(proto));
            let mut raw = event(&query, Value::Object(headers));
            raw["rawPath"] = json!(path);
            raw["cookies"] = json!(cookies);
            raw["body"] = json!(body);
            raw["isBase64Encoded"] = json!(base64);
            raw["requestContext"]["http"]["method"] = json!(method);
            match request(raw) {
                Ok(request) => {
                    let _ = (request.uri().to_string(), request.headers().len(), request.body().len());
                    let _ = lambda_http::RequestExt::query_string_parameters(&request).first("x").map(str::len);
                }
                Err(refused) => proptest::prop_assert_eq!(refused.status(), 400),
            }
        }
    }
}
