//! Every secured endpoint refuses a request without a valid token, with 401.

use std::{
    collections::BTreeSet,
    time::{SystemTime, UNIX_EPOCH},
};

use api_tests::{routes::template_routes, Event, TestApp};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn signed(secret: &str, algorithm: Algorithm, claims: serde_json::Value) -> String {
    encode(&Header::new(algorithm), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// Calls every secured endpoint with the given Authorization header (or
/// none) and returns each answer's status and message.
async fn each_secured_endpoint(
    app: &TestApp,
    authorization: Option<&str>,
    id: &str,
) -> Vec<(&'static str, u16, String)> {
    let with_auth = |event: Event| match authorization {
        Some(value) => event.header("authorization", value),
        None => event.without_header("authorization"),
    };
    let body = json!({ "userName": "X", "email": "x@example.com", "password": "password-123" });
    let mut answers = Vec::new();
    macro_rules! call {
        ($name:literal, $send:ident, $handler:path, $event:expr) => {{
            let response = app.$send($handler, with_auth($event)).await;
            answers.push(($name, response.status, response.text.clone()));
        }};
    }
    call!("user-create", send, user_create::handle, Event::of("user-create").body(body.clone()));
    call!("user-list", send, user_list::handle, Event::of("user-list"));
    call!("user-get", send, user_get::handle, Event::of("user-get").path_id(id));
    call!(
        "user-update",
        send_payment,
        user_update::handle,
        Event::of("user-update").path_id(id).body(json!({"userName": "Y"}))
    );
    call!("user-delete", send_payment, user_delete::handle, Event::of("user-delete").path_id(id));
    call!("user-password", send, user_password::handle, Event::of("user-password"));
    call!("payment-create", send_payment, payment_create::handle, Event::of("payment-create"));
    call!("payment-confirm", send_payment, payment_confirm::handle, Event::of("payment-confirm"));
    call!("payment-list", send_payment, payment_list::handle, Event::of("payment-list"));
    call!("payment-get", send_payment, payment_get::handle, Event::of("payment-get"));
    call!("payment-cancel", send_payment, payment_cancel::handle, Event::of("payment-cancel"));
    call!("payment-refund", send_payment, payment_refund::handle, Event::of("payment-refund"));
    answers
}

async fn assert_all_401(app: &TestApp, authorization: Option<&str>, id: &str, why: &str) {
    for (function, status, body) in each_secured_endpoint(app, authorization, id).await {
        assert_eq!(status, 401, "{why}: {function} answered {status} {body}");
        assert!(body.contains("\"statusCode\":401"), "{why}: {function}: {body}");
    }
}

/// The routes anyone may call; every other one needs a token.
const PUBLIC: [&str; 6] =
    ["user-register", "user-login", "config-get", "openapi-get", "payment-webhook", "route-fallback"];

#[tokio::test]
async fn the_endpoints_checked_here_are_every_route_of_the_template_but_the_public_ones() {
    let app = TestApp::spawn().await;
    let user = app.admin().await;
    let checked: BTreeSet<String> =
        each_secured_endpoint(&app, None, &user.id).await.into_iter().map(|(name, ..)| name.to_owned()).collect();
    let secured: BTreeSet<String> =
        template_routes().into_iter().map(|(function, _)| function).filter(|f| !PUBLIC.contains(&f.as_str())).collect();
    assert_eq!(checked, secured);
}

#[tokio::test]
async fn a_missing_token_is_401_everywhere() {
    let app = TestApp::spawn().await;
    let user = app.admin().await;
    assert_all_401(&app, None, &user.id, "no Authorization header").await;
}

#[tokio::test]
async fn malformed_authorization_headers_are_401_everywhere() {
    let app = TestApp::spawn().await;
    let user = app.admin().await;
    let headers = [
        user.token.clone(),
        format!("Basic {}", user.token),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Bearer not.a.jwt".to_owned(),
        format!("Bearer {}x", user.token),
    ];
    for header in headers {
        assert_all_401(&app, Some(&header), &user.id, &format!("header {header:?}")).await;
    }
}

#[tokio::test]
async fn an_expired_token_is_401_everywhere() {
    let app = TestApp::spawn().await;
    let user = app.admin().await;
    let token = signed(
        &app.secret.core().jwt_secret,
        Algorithm::HS256,
        json!({ "sub": user.id, "iat": now() - 7300, "exp": now() - 100 }),
    );
    assert_all_401(&app, Some(&format!("Bearer {token}")), &user.id, "expired").await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_401_everywhere() {
    let app = TestApp::spawn().await;
    let user = app.admin().await;
    let token = signed(
        "some-other-secret-some-other-secret",
        Algorithm::HS256,
        json!({ "sub": user.id, "iat": now(), "exp": now() + 600 }),
    );
    assert_all_401(&app, Some(&format!("Bearer {token}")), &user.id, "wrong secret").await;
}

#[tokio::test]
async fn a_token_with_another_algorithm_is_401_everywhere() {
    let app = TestApp::spawn().await;
    let user = app.admin().await;
    let token = signed(
        &app.secret.core().jwt_secret,
        Algorithm::HS512,
        json!({ "sub": user.id, "iat": now(), "exp": now() + 600 }),
    );
    assert_all_401(&app, Some(&format!("Bearer {token}")), &user.id, "HS512").await;
}

#[tokio::test]
async fn an_alg_none_token_is_401_everywhere() {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let app = TestApp::spawn().await;
    let user = app.admin().await;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({ "sub": user.id, "iat": now(), "exp": now() + 600 }).to_string());
    assert_all_401(&app, Some(&format!("Bearer {header}.{claims}.")), &user.id, "alg none").await;
}

#[tokio::test]
async fn a_token_without_exp_is_401() {
    let app = TestApp::spawn().await;
    let user = app.admin().await;
    let token = signed(&app.secret.core().jwt_secret, Algorithm::HS256, json!({ "sub": user.id, "iat": now() }));
    assert_all_401(&app, Some(&format!("Bearer {token}")), &user.id, "no exp").await;
}

#[tokio::test]
async fn a_deleted_users_token_is_401_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.delete_user(&admin.token, &admin.id).await.assert_status(200);
    assert_all_401(&app, Some(&format!("Bearer {}", admin.token)), &admin.id, "deleted user").await;
}
