//! POST /user/password, and what a password change or reset does to the
//! tokens issued before it.

use api_tests::TestApp;
use serde_json::json;
use shared::{domain::Email, domain::Password, users};

const NEW: &str = "a brand new passphrase";

#[tokio::test]
async fn changing_the_password_answers_a_token_and_refuses_every_older_one_at_once() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let second = app.login(&user.email, &user.password).await.body["access_token"].as_str().unwrap().to_owned();

    let changed = app.change_password(&user.token, &user.password, NEW).await;
    changed.assert_status(201);
    let fresh = changed.body["access_token"].as_str().expect("a new token").to_owned();

    for (old, why) in [(&user.token, "the registration token"), (&second, "a token issued the same second")] {
        app.get_user(old, &user.id).await.assert_status(401);
        assert_eq!(app.list_payments(old, &[]).await.status, 401, "{why}");
    }
    app.get_user(&fresh, &user.id).await.assert_status(200);
    app.login(&user.email, &user.password).await.assert_status(401);
    app.login(&user.email, NEW).await.assert_status(201);
}

#[tokio::test]
async fn a_wrong_current_password_is_401_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let response = app.change_password(&user.token, "not my password", NEW).await;
    response.assert_status(401);
    assert_eq!(response.message(), "The current password is incorrect.");
    app.get_user(&user.token, &user.id).await.assert_status(200);
    app.login(&user.email, &user.password).await.assert_status(201);
}

#[tokio::test]
async fn the_new_password_follows_the_registration_rules() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    for (new, mentions) in [("short", "newPassword "), (&"x".repeat(129)[..], "newPassword ")] {
        let response = app.change_password(&user.token, &user.password, new).await;
        response.assert_status(400);
        assert!(response.message().starts_with(mentions), "{}", response.message());
    }
    let body = json!({ "currentPassword": user.password, "newPassword": NEW, "role": "admin" });
    let response =
        app.send(user_password::handle, api_tests::Event::of("user-password").token(&user.token).body(body)).await;
    response.assert_status(400);
    app.change_password("garbage", &user.password, NEW).await.assert_status(401);
}

#[tokio::test]
async fn five_wrong_current_passwords_throttle_further_guesses_even_after_an_email_change() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    for _ in 0..5 {
        app.change_password(&user.token, "not my password", NEW).await.assert_status(401);
    }
    app.change_password(&user.token, "not my password", NEW).await.assert_status(429);
    // Whoever holds the token can change the email; the limit is the user's.
    let moved = json!({ "email": format!("moved-{}", user.email) });
    app.update_user(&user.token, &user.id, moved).await.assert_status(200);
    let throttled = app.change_password(&user.token, &user.password, NEW).await;
    throttled.assert_status(429);
}

#[tokio::test]
async fn the_operators_password_reset_revokes_older_tokens() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let email = Email::parse(&user.email).unwrap();
    users::seed_admin(&app.state.users, &app.state.throttle, &email, &Password::parse(NEW).unwrap()).await.unwrap();
    app.get_user(&user.token, &user.id).await.assert_status(401);
    app.login(&user.email, NEW).await.assert_status(201);
}
