//! A user's Stripe customer stays in step with the user: a new email or name
//! reaches it, and deleting the user deletes it.

use api_tests::{
    stripe::{self, answer_next},
    unique, TestApp, TestUser,
};
use serde_json::json;

/// A user who has paid once, and so has a Stripe customer.
async fn customer_of(app: &TestApp, user: &TestUser) -> String {
    app.create_payment(&user.token, &unique("c")[..25]).await.assert_status(201);
    app.get_user(&user.token, &user.id).await.body["customerId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_email_or_name_reaches_the_stripe_customer() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let customer = customer_of(&app, &user).await;
    let email = format!("{}@example.com", unique("renamed"));
    let updated = app.update_user(&user.token, &user.id, json!({ "email": email, "userName": "Grace Hopper" })).await;
    updated.assert_status(200);
    let at_stripe = tokio::task::block_in_place(|| stripe::customer(&customer));
    assert_eq!((&at_stripe["email"], &at_stripe["name"]), (&json!(email), &json!("Grace Hopper")), "{at_stripe}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_user_deletes_their_stripe_customer() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let customer = customer_of(&app, &user).await;
    app.delete_user(&user.token, &user.id).await.assert_status(200);
    let at_stripe = tokio::task::block_in_place(|| stripe::customer(&customer));
    assert_eq!(at_stripe["error"]["code"], json!("resource_missing"), "{at_stripe}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stripe_failure_while_deleting_keeps_the_user_and_the_same_request_completes_it() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let customer = customer_of(&app, &user).await;
    tokio::task::block_in_place(|| answer_next(&customer, 1, 500, &[("type", "api_error"), ("message", "Down")]));
    app.delete_user(&user.token, &user.id).await.assert_status(502);
    app.get_user(&user.token, &user.id).await.assert_status(200);
    assert_eq!(tokio::task::block_in_place(|| stripe::customer(&customer))["id"], json!(customer));

    app.delete_user(&user.token, &user.id).await.assert_status(200);
    let at_stripe = tokio::task::block_in_place(|| stripe::customer(&customer));
    assert_eq!(at_stripe["error"]["code"], json!("resource_missing"), "{at_stripe}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_whose_customer_is_already_gone_at_stripe_is_deleted() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let customer = customer_of(&app, &user).await;
    tokio::task::block_in_place(|| stripe::delete_customer(&customer));
    app.update_user(&user.token, &user.id, json!({ "userName": "Still Here" })).await.assert_status(200);
    app.delete_user(&user.token, &user.id).await.assert_status(200);
}
