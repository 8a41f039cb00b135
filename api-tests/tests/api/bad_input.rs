//! Every malformed request gets a 400 (or 413) in the error shape, naming
//! what is wrong; none gets a 500.

use api_tests::{Event, TestApp};
use serde_json::json;

const VALID_NAME: &str = "Alan Turing";
const VALID_PASSWORD: &str = "enigma-machine";

/// (raw body, why it is invalid, what the message must mention)
fn invalid_registrations() -> Vec<(String, &'static str, &'static str)> {
    let body = |name: serde_json::Value, email: serde_json::Value, password: serde_json::Value| {
        let mut object = serde_json::Map::new();
        for (key, value) in [("userName", name), ("email", email), ("password", password)] {
            if !value.is_null() {
                object.insert(key.into(), value);
            }
        }
        serde_json::Value::Object(object).to_string()
    };
    let ok_email = json!("valid@example.com");
    vec![
        ("{\"userName\": ".into(), "truncated JSON", "not valid JSON"),
        ("not json at all".into(), "not JSON", "not valid JSON"),
        ("".into(), "empty body", "JSON object"),
        ("[1, 2]".into(), "an array", "JSON object"),
        (body(json!(null), ok_email.clone(), json!(VALID_PASSWORD)), "missing userName", "userName is required"),
        (body(json!(VALID_NAME), json!(null), json!(VALID_PASSWORD)), "missing email", "email is required"),
        (body(json!(VALID_NAME), ok_email.clone(), json!(null)), "missing password", "password is required"),
        (body(json!(42), ok_email.clone(), json!(VALID_PASSWORD)), "numeric userName", "userName must be a string"),
        (body(json!(VALID_NAME), json!(["a@b.co"]), json!(VALID_PASSWORD)), "array email", "email must be a string"),
        (body(json!(VALID_NAME), ok_email.clone(), json!(12345678)), "numeric password", "password must be a string"),
        (
            body(json!(VALID_NAME), json!("not-an-email"), json!(VALID_PASSWORD)),
            "email without @",
            "email must be a valid email",
        ),
        (body(json!(VALID_NAME), ok_email.clone(), json!("short")), "password under 8", "password must be at least 8"),
        (
            body(json!(VALID_NAME), ok_email.clone(), json!("p".repeat(129))),
            "password over 128",
            "password must be at most 128",
        ),
        (
            body(json!("n".repeat(101)), ok_email.clone(), json!(VALID_PASSWORD)),
            "userName over 100",
            "userName must be at most 100",
        ),
        (body(json!("   "), ok_email.clone(), json!(VALID_PASSWORD)), "blank userName", "userName must not be empty"),
        (
            body(json!(VALID_NAME), json!(format!("{}@example.com", "a".repeat(250))), json!(VALID_PASSWORD)),
            "email over 254",
            "email must be at most 254",
        ),
        (
            r#"{"userName": "A", "email": "a@example.com", "password": "enigma-machine", "role": "admin"}"#.into(),
            "an attempt to set the role",
            "property role should not exist",
        ),
    ]
}

#[tokio::test]
async fn invalid_registrations_are_400_naming_the_problem() {
    let app = TestApp::spawn().await;
    for (body, why, mentions) in invalid_registrations() {
        let response = app.send(user_register::handle, Event::of("user-register").raw_body(&body)).await;
        assert_eq!(response.status, 400, "{why}: expected 400, got {} {}", response.status, response.text);
        response.assert_status(400);
        assert!(
            response.message().contains(mentions),
            "{why}: message {:?} should mention {mentions:?}",
            response.message()
        );
    }
}

#[tokio::test]
async fn admin_create_refuses_the_same_invalid_bodies() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (body, why, mentions) in invalid_registrations() {
        let event = Event::of("user-create").token(&admin.token).raw_body(&body);
        let response = app.send(user_create::handle, event).await;
        assert_eq!(response.status, 400, "{why}: expected 400, got {} {}", response.status, response.text);
        assert!(response.message().contains(mentions), "{why}: {:?}", response.message());
    }
}

#[tokio::test]
async fn invalid_logins_are_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (r#"{"password": "enigma-machine"}"#, "email is required"),
        (r#"{"email": "a@example.com"}"#, "password is required"),
        (r#"{"email": true, "password": "enigma-machine"}"#, "email must be a string"),
        (r#"{"email": "a@example.com", "password": "short"}"#, "password must be at least 8"),
        (r#"{"email": "a@example.com", "password": "enigma-machine""#, "not valid JSON"),
    ];
    for (body, mentions) in cases {
        let response = app.send(user_login::handle, Event::of("user-login").raw_body(body)).await;
        response.assert_status(400);
        assert!(response.message().contains(mentions), "{body}: {:?}", response.message());
    }
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = TestApp::spawn().await;
    let body = json!({ "userName": "x".repeat(20_000), "email": "a@example.com", "password": VALID_PASSWORD });
    let response = app.register(body).await;
    response.assert_status(413);
}

#[tokio::test]
async fn ids_that_are_not_24_hex_digits_are_400() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for id in ["123", "zzzzzzzzzzzzzzzzzzzzzzzz", "5f9f1c9b9c9c9c9c9c9c9c9c0", "%7B%24ne%7D"] {
        for response in [
            app.get_user(&admin.token, id).await,
            app.update_user(&admin.token, id, json!({ "userName": "X" })).await,
            app.delete_user(&admin.token, id).await,
        ] {
            response.assert_status(400);
            assert!(response.message().starts_with("id "), "{id}: {:?}", response.message());
        }
    }
}

#[tokio::test]
async fn invalid_updates_are_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let cases = [
        (json!({ "email": "nope" }), "email must be a valid email"),
        (json!({ "userName": "" }), "userName must not be empty"),
        (json!({ "userName": 7 }), "userName must be a string"),
        (json!({ "password": "new-password" }), "property password should not exist"),
        (json!({ "role": "admin" }), "property role should not exist"),
    ];
    for (body, mentions) in cases {
        let response = app.update_user(&user.token, &user.id, body.clone()).await;
        response.assert_status(400);
        assert!(response.message().contains(mentions), "{body}: {:?}", response.message());
    }
}
