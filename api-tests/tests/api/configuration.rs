//! The secret and the database as the functions meet them at cold start.

use std::time::{Duration, Instant};

use api_tests::{put_secret, TestApp};
use serde_json::json;
use shared::secrets::AppSecret;

#[tokio::test]
async fn an_unknown_secret_id_fails_naming_the_secret() {
    let err = AppSecret::fetch("no-such-secret-anywhere").await.unwrap_err();
    assert!(err.to_string().starts_with("could not read secret no-such-secret-anywhere"), "{err}");
}

#[tokio::test]
async fn a_secret_that_is_not_json_fails_without_echoing_it() {
    let id = put_secret(&json!("mongodb://user:hunter2@db")).await;
    let err = AppSecret::fetch(&id).await.unwrap_err();
    assert_eq!(err.to_string(), format!("secret {id} is not a JSON object"));
}

#[tokio::test]
async fn a_complete_secret_is_read_with_its_stripe_keys() {
    let id = put_secret(&json!({
        "mongodbUri": "mongodb://127.0.0.1:1",
        "jwtSecret": "x".repeat(40),
        "stripeSecretKey": "sk_test_123",
        "stripeWebhookSecret": "whsec_123",
    }))
    .await;
    let secret = AppSecret::fetch(&id).await.unwrap();
    assert_eq!(secret.stripe().unwrap().secret_key, "sk_test_123");
    assert!(!format!("{secret:?}").contains("sk_test"), "Debug must redact");
}

#[tokio::test]
async fn a_database_outage_answers_503_within_the_function_timeout() {
    let app = TestApp::with_database_down().await;
    let started = Instant::now();
    let response = app.login("someone@example.com", "some-password").await;
    response.assert_status(503);
    assert_eq!(response.message(), "Database is unavailable, please retry.");
    let register = app.register(json!({ "userName": "A", "email": "a@example.com", "password": "password-123" })).await;
    register.assert_status(503);
    // Two requests, each bounded by the 5 s server selection timeout; the
    // functions' timeout in template.yaml is 15 s.
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
}
