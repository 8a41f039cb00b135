use api_tests::{unique, TestApp};
use futures_util::future::join_all;
use serde_json::json;

fn fresh_email() -> String {
    format!("{}@example.com", unique("reg"))
}

#[tokio::test]
async fn register_answers_201_with_a_token_for_the_new_user() {
    let app = TestApp::spawn().await;
    let email = fresh_email();
    let response =
        app.register(json!({ "userName": "Alan Turing", "email": email, "password": "enigma-machine" })).await;
    response.assert_status(201);
    let token = response.body["access_token"].as_str().expect("access_token");
    let user_id = app.state.tokens.verify(token).expect("the token verifies").to_string();
    let me = app.get_user(token, &user_id).await;
    me.assert_status(200);
    assert_eq!(me.body, json!({ "userId": user_id, "userName": "Alan Turing", "email": email }));
}

#[tokio::test]
async fn register_stores_the_email_trimmed_and_lower_cased() {
    let app = TestApp::spawn().await;
    let email = fresh_email();
    let shouted = format!("  {}  ", email.to_uppercase());
    let response = app.register(json!({ "userName": "Alan", "email": shouted, "password": "enigma-machine" })).await;
    response.assert_status(201);
    app.login(&email, "enigma-machine").await.assert_status(201);
}

#[tokio::test]
async fn registering_a_taken_email_is_409_whatever_its_case() {
    let app = TestApp::spawn().await;
    let email = fresh_email();
    app.register(json!({ "userName": "First", "email": email, "password": "enigma-machine" })).await.assert_status(201);
    let again = app
        .register(json!({ "userName": "Second", "email": email.to_uppercase(), "password": "other-password" }))
        .await;
    again.assert_status(409);
    assert_eq!(again.message(), "Email is already registered.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_email_give_one_201_and_the_rest_409() {
    let app = TestApp::spawn().await;
    let email = fresh_email();
    let body = json!({ "userName": "Racer", "email": email, "password": "enigma-machine" });
    let attempts = (0..4).map(|_| {
        let body = body.clone();
        tokio::spawn(async move { app.register(body).await.status })
    });
    let statuses: Vec<u16> = join_all(attempts).await.into_iter().map(|s| s.expect("task ran")).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 3, "{statuses:?}");
    let admin = app.admin().await;
    let listed = app.list_users(&admin.token).await;
    let same_email = listed.body.as_array().unwrap().iter().filter(|u| u["email"] == json!(email)).count();
    assert_eq!(same_email, 1);
}
