//! The catch-all route: what the API answers to a request no route takes.

use api_tests::{Emulator, Event};
use http::{header::ALLOW, StatusCode};
use serde_json::{json, Value};
use shared::http::{Body, Response};

async fn ask(method: &str, path: &str) -> Response<Body> {
    let request = Event::of("route-fallback").request_line(method, path).into_request();
    match route_fallback::handle(&(), request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn body(response: &Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("expected a JSON body, got {other:?}"),
    }
}

#[tokio::test]
async fn a_deployed_path_asked_with_another_method_is_405_listing_its_methods() {
    for (method, path, allow) in [
        ("TRACE", "/user/register", "POST"),
        ("PUT", "/user", "GET, POST"),
        ("POST", "/user/6b061e65c1645f73176fe110", "GET, PATCH, DELETE"),
        ("DELETE", "/payment/pi_123/refund", "POST"),
        ("HEAD", "/config", "GET"),
    ] {
        let response = ask(method, path).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(response.headers()[ALLOW], allow, "{method} {path}");
        assert_eq!(body(&response)["statusCode"], json!(405), "{method} {path}");
    }
}

#[tokio::test]
async fn options_on_a_deployed_path_lists_its_methods() {
    let response = ask("OPTIONS", "/payment").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()[ALLOW], "GET, POST");
}

#[tokio::test]
async fn an_unknown_path_is_a_json_404() {
    for path in ["/", "/users", "/user/", "/payment/pi_1/refund/again"] {
        let response = ask("GET", path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body(&response), json!({"statusCode": 404, "message": "No such route.", "error": "Not Found"}));
    }
}

#[test]
fn the_catch_all_binary_answers_its_event_under_the_emulator() {
    let fallback = Emulator::start("route-fallback", &[]);
    let answer = fallback.invoke(Event::of("route-fallback").json());
    assert_eq!(answer["statusCode"], json!(405), "{answer}");
    assert_eq!(answer["headers"]["allow"], json!("POST"), "{answer}");
}
