//! Reading, changing and deleting users: your own record always, anyone's
//! only as an admin.

use api_tests::TestApp;
use serde_json::json;

const UNKNOWN_ID: &str = "5f9f1c9b9c9c9c9c9c9c9c9c";

#[tokio::test]
async fn a_user_reads_their_own_record_without_secrets() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let response = app.get_user(&user.token, &user.id).await;
    response.assert_status(200);
    assert_eq!(response.body, json!({ "userId": user.id, "userName": "Test User", "email": user.email }));
    for leaked in ["password", "Hash", "argon2", "role"] {
        assert!(!response.text.contains(leaked), "{leaked} leaked: {}", response.text);
    }
}

#[tokio::test]
async fn reading_another_users_record_is_403() {
    let app = TestApp::spawn().await;
    let (me, other) = (app.signed_up().await, app.signed_up().await);
    let response = app.get_user(&me.token, &other.id).await;
    response.assert_status(403);
}

#[tokio::test]
async fn an_admin_reads_any_record_and_404s_an_unknown_one() {
    let app = TestApp::spawn().await;
    let (admin, user) = (app.admin().await, app.signed_up().await);
    let response = app.get_user(&admin.token, &user.id).await;
    response.assert_status(200);
    assert_eq!(response.body["email"], json!(user.email));
    let missing = app.get_user(&admin.token, UNKNOWN_ID).await;
    missing.assert_status(404);
    assert_eq!(missing.message(), "User not found.");
}

#[tokio::test]
async fn only_an_admin_lists_users() {
    let app = TestApp::spawn().await;
    let (admin, user) = (app.admin().await, app.signed_up().await);
    app.list_users(&user.token).await.assert_status(403);
    let response = app.list_users(&admin.token).await;
    response.assert_status(200);
    let ids: Vec<&str> = response.body.as_array().unwrap().iter().map(|u| u["userId"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![admin.id.as_str(), user.id.as_str()]);
    assert!(!response.text.contains("password"), "{}", response.text);
}

#[tokio::test]
async fn the_user_list_is_paged_like_the_payment_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut everyone = vec![admin.id.clone()];
    for _ in 0..4 {
        everyone.push(app.signed_up().await.id);
    }
    let ids = |response: &api_tests::TestResponse| -> Vec<String> {
        response.body.as_array().unwrap().iter().map(|u| u["userId"].as_str().unwrap().to_owned()).collect()
    };
    let first = app.list_users_page(&admin.token, &[("limit", "2")]).await;
    first.assert_status(200);
    let cursor = first.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let second = app.list_users_page(&admin.token, &[("limit", "2"), ("cursor", &cursor)]).await;
    let cursor = second.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let last = app.list_users_page(&admin.token, &[("limit", "2"), ("cursor", &cursor)]).await;
    assert!(last.headers.get("x-next-cursor").is_none(), "the last page says so");
    assert_eq!([ids(&first), ids(&second), ids(&last)].concat(), everyone, "every user once, oldest first");
    for (query, says) in [("limit", "limit "), ("cursor", "cursor ")] {
        let bad = app.list_users_page(&admin.token, &[(query, "x")]).await;
        bad.assert_status(400);
        assert!(bad.message().starts_with(says), "{}", bad.message());
    }
}

#[tokio::test]
async fn an_admin_creates_a_user_who_can_then_log_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = json!({ "userName": "Grace Hopper", "email": "grace@example.com", "password": "cobol-forever" });
    let response = app.create_user(&admin.token, body).await;
    response.assert_status(201);
    assert_eq!(response.body["userName"], json!("Grace Hopper"));
    assert_eq!(response.body["email"], json!("grace@example.com"));
    assert_eq!(response.body["userId"].as_str().unwrap().len(), 24);
    assert!(response.body.get("customerId").is_none());
    app.login("grace@example.com", "cobol-forever").await.assert_status(201);
}

#[tokio::test]
async fn a_non_admin_may_not_create_users() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let body = json!({ "userName": "Mallory", "email": "mallory@example.com", "password": "mallory-pass" });
    app.create_user(&user.token, body).await.assert_status(403);
    app.login("mallory@example.com", "mallory-pass").await.assert_status(401);
}

#[tokio::test]
async fn creating_a_user_with_a_taken_email_is_409() {
    let app = TestApp::spawn().await;
    let (admin, user) = (app.admin().await, app.signed_up().await);
    let body = json!({ "userName": "Copy", "email": user.email, "password": "password-123" });
    app.create_user(&admin.token, body).await.assert_status(409);
}

#[tokio::test]
async fn a_user_renames_themselves_and_changes_their_email() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let response =
        app.update_user(&user.token, &user.id, json!({ "userName": "New Name", "email": "NEW@Example.com" })).await;
    response.assert_status(200);
    assert_eq!(response.body, json!({ "userId": user.id, "userName": "New Name", "email": "new@example.com" }));
    app.login("new@example.com", &user.password).await.assert_status(201);
    app.login(&user.email, &user.password).await.assert_status(401);
}

#[tokio::test]
async fn an_empty_update_changes_nothing_and_answers_the_user() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let response = app.update_user(&user.token, &user.id, json!({})).await;
    response.assert_status(200);
    assert_eq!(response.body["email"], json!(user.email));
}

#[tokio::test]
async fn changing_email_to_a_taken_one_is_409() {
    let app = TestApp::spawn().await;
    let (me, other) = (app.signed_up().await, app.signed_up().await);
    let response = app.update_user(&me.token, &me.id, json!({ "email": other.email })).await;
    response.assert_status(409);
    let unchanged = app.get_user(&me.token, &me.id).await;
    assert_eq!(unchanged.body["email"], json!(me.email));
}

#[tokio::test]
async fn updating_another_users_record_is_403() {
    let app = TestApp::spawn().await;
    let (me, other) = (app.signed_up().await, app.signed_up().await);
    app.update_user(&me.token, &other.id, json!({ "userName": "Hijacked" })).await.assert_status(403);
    let admin = app.admin().await;
    let still = app.get_user(&admin.token, &other.id).await;
    assert_eq!(still.body["userName"], json!("Test User"));
}

#[tokio::test]
async fn only_an_admin_sets_a_customer_id() {
    let app = TestApp::spawn().await;
    let (admin, user) = (app.admin().await, app.signed_up().await);
    let own = app.update_user(&user.token, &user.id, json!({ "customerId": "cus_Mine123" })).await;
    own.assert_status(403);
    let by_admin = app.update_user(&admin.token, &user.id, json!({ "customerId": "cus_Assigned123" })).await;
    by_admin.assert_status(200);
    assert_eq!(by_admin.body["customerId"], json!("cus_Assigned123"));
    let seen = app.get_user(&user.token, &user.id).await;
    assert_eq!(seen.body["customerId"], json!("cus_Assigned123"));
}

#[tokio::test]
async fn an_admin_updating_an_unknown_user_gets_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.update_user(&admin.token, UNKNOWN_ID, json!({ "userName": "Ghost" })).await.assert_status(404);
}

#[tokio::test]
async fn a_user_deletes_their_own_account_and_gets_it_back() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let response = app.delete_user(&user.token, &user.id).await;
    response.assert_status(200);
    assert_eq!(response.body["userId"], json!(user.id));
    let admin = app.admin().await;
    app.get_user(&admin.token, &user.id).await.assert_status(404);
}

#[tokio::test]
async fn deleting_another_users_account_is_403_and_leaves_it() {
    let app = TestApp::spawn().await;
    let (me, other) = (app.signed_up().await, app.signed_up().await);
    app.delete_user(&me.token, &other.id).await.assert_status(403);
    app.get_user(&other.token, &other.id).await.assert_status(200);
}

#[tokio::test]
async fn an_admin_deletes_any_account_then_gets_404() {
    let app = TestApp::spawn().await;
    let (admin, user) = (app.admin().await, app.signed_up().await);
    app.delete_user(&admin.token, &user.id).await.assert_status(200);
    app.delete_user(&admin.token, &user.id).await.assert_status(404);
}
