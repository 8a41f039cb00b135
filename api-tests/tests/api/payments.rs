//! Creating, confirming, reading and listing payments against the Stripe
//! emulator, nx-27017 and moto.

use api_tests::{stripe, unique, TestApp, TestUser};
use futures_util::future::join_all;
use serde_json::json;

/// A fresh cuid-shaped key.
fn cuid() -> String {
    unique("c")[..25].to_owned()
}

async fn created_payment(app: &TestApp, user: &TestUser) -> (String, String, String) {
    let cuid = cuid();
    let response = app.create_payment(&user.token, &cuid).await;
    response.assert_status(201);
    let id = response.body["id"].as_str().unwrap().to_owned();
    let secret = response.body["clientSecret"].as_str().unwrap().to_owned();
    (cuid, id, secret)
}

#[tokio::test]
async fn creating_a_payment_is_201_with_the_configured_price_and_a_client_secret() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let response = app.create_payment(&user.token, &cuid()).await;
    response.assert_status(201);
    assert!(response.body["id"].as_str().unwrap().starts_with("pi_"), "{}", response.text);
    assert_eq!(response.body["amount"], json!(2000));
    assert_eq!(response.body["currency"], json!("usd"));
    assert_eq!(response.body["status"], json!("requires_payment_method"));
    assert_eq!(response.body["paymentMethod"], json!(null));
    assert!(response.body["clientSecret"].as_str().unwrap().contains("_secret_"));
}

#[tokio::test]
async fn the_first_payment_gives_the_user_a_stripe_customer() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    created_payment(&app, &user).await;
    let me = app.get_user(&user.token, &user.id).await;
    let customer = me.body["customerId"].as_str().expect("a customerId after paying");
    assert!(customer.starts_with("cus_"));
    created_payment(&app, &user).await;
    let customers = stripe::customers_of(&user.id);
    assert_eq!(customers.len(), 1, "{customers:?}");
    assert_eq!(customers[0]["id"], json!(customer));
    assert_eq!(customers[0]["email"], json!(user.email));
}

#[tokio::test]
async fn the_same_cuid_sent_again_returns_the_same_intent_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id, secret) = created_payment(&app, &user).await;
    let again = app.create_payment(&user.token, &cuid).await;
    again.assert_status(201);
    assert_eq!(again.body["id"], json!(id));
    assert_eq!(again.body["clientSecret"], json!(secret));
    assert_eq!(stripe::intents_of(&user.id).len(), 1);
    assert_eq!(app.list_payments(&user.token, &[]).await.body.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_with_one_cuid_make_one_intent_and_one_record() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let cuid = cuid();
    let attempts = (0..20).map(|_| {
        let (token, cuid) = (user.token.clone(), cuid.clone());
        tokio::spawn(async move { app.create_payment(&token, &cuid).await })
    });
    let answers: Vec<_> = join_all(attempts).await.into_iter().map(|r| r.expect("task ran")).collect();
    let ids: std::collections::HashSet<_> = answers.iter().map(|r| (r.status, r.body["id"].clone())).collect();
    assert_eq!(ids.len(), 1, "every answer is the same 201: {ids:?}");
    assert_eq!(answers[0].status, 201, "{}", answers[0].text);
    assert_eq!(stripe::intents_of(&user.id).len(), 1, "one intent at Stripe");
    assert_eq!(stripe::customers_of(&user.id).len(), 1, "one customer at Stripe");
    assert_eq!(app.list_payments(&user.token, &[]).await.body.as_array().unwrap().len(), 1, "one record");
}

#[tokio::test]
async fn two_users_may_use_the_same_cuid() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.signed_up().await, app.signed_up().await);
    let cuid = cuid();
    let first = app.create_payment(&alice.token, &cuid).await;
    let second = app.create_payment(&bob.token, &cuid).await;
    first.assert_status(201);
    second.assert_status(201);
    assert_ne!(first.body["id"], second.body["id"]);
}

#[tokio::test]
async fn confirming_with_a_good_card_succeeds() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id, _) = created_payment(&app, &user).await;
    let response = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
    response.assert_status(201);
    assert_eq!(
        response.body,
        json!({
            "id": id, "amount": 2000, "currency": "usd", "status": "succeeded", "paymentMethod": "pm_card_visa",
            "amountRefunded": 0
        })
    );
    let listed = app.list_payments(&user.token, &[]).await;
    assert_eq!(listed.body[0]["status"], json!("succeeded"));
    let again = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
    again.assert_status(201);
    assert_eq!(again.body["status"], json!("succeeded"), "confirming twice charges once and reports the state");
}

#[tokio::test]
async fn a_declined_card_is_402_and_the_payment_can_be_retried() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id, _) = created_payment(&app, &user).await;
    let declined = app.confirm_payment(&user.token, &cuid, &id, "pm_card_chargeCustomerFail").await;
    declined.assert_status(402);
    assert_eq!(declined.message(), "Your card was declined.");
    let seen = app.get_payment(&user.token, &id).await;
    assert_eq!(seen.body["status"], json!("requires_payment_method"));
    let retried = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
    retried.assert_status(201);
    assert_eq!(retried.body["status"], json!("succeeded"));
}

#[tokio::test]
async fn a_card_needing_authentication_answers_requires_action_then_succeeds() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id, secret) = created_payment(&app, &user).await;
    let card = stripe::three_d_secure_card();
    let response = app.confirm_payment(&user.token, &cuid, &id, &card).await;
    response.assert_status(201);
    assert_eq!(response.body["status"], json!("requires_action"));
    stripe::authenticate(&id, &secret);
    let after = app.get_payment(&user.token, &id).await;
    after.assert_status(200);
    assert_eq!(after.body["status"], json!("succeeded"));
}

#[tokio::test]
async fn another_users_payment_is_invisible_everywhere() {
    let app = TestApp::spawn().await;
    let (owner, other) = (app.signed_up().await, app.signed_up().await);
    let (cuid, id, _) = created_payment(&app, &owner).await;
    let read = app.get_payment(&other.token, &id).await;
    read.assert_status(404);
    assert_eq!(read.message(), "Payment not found.");
    app.confirm_payment(&other.token, &cuid, &id, "pm_card_visa").await.assert_status(404);
    assert_eq!(app.list_payments(&other.token, &[]).await.body, json!([]));
    let still = app.get_payment(&owner.token, &id).await;
    assert_eq!(still.body["status"], json!("requires_payment_method"), "the intruder confirmed nothing");
}

#[tokio::test]
async fn an_unknown_payment_is_404() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    app.get_payment(&user.token, "pi_doesNotExist123").await.assert_status(404);
}

#[tokio::test]
async fn listing_pages_newest_first_with_a_cursor() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(created_payment(&app, &user).await.1);
    }
    ids.reverse();
    let first = app.list_payments(&user.token, &[("limit", "2")]).await;
    first.assert_status(200);
    let page_ids = |r: &api_tests::TestResponse| -> Vec<String> {
        r.body.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(page_ids(&first), ids[..2]);
    let mut seen = page_ids(&first);
    let mut cursor = first.headers.get("x-next-cursor").map(|v| v.to_str().unwrap().to_owned());
    while let Some(next) = cursor {
        let page = app.list_payments(&user.token, &[("limit", "2"), ("cursor", &next)]).await;
        page.assert_status(200);
        seen.extend(page_ids(&page));
        cursor = page.headers.get("x-next-cursor").map(|v| v.to_str().unwrap().to_owned());
    }
    assert_eq!(seen, ids, "every payment once, newest first");
    assert_eq!(app.list_payments(&user.token, &[]).await.body.as_array().unwrap().len(), 5, "default limit 20");
}

#[tokio::test]
async fn bad_payment_input_is_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    for bad in ["", "short", "Cjld2cjxh0000qzrmn831i7rn", "cjld2-cjxh0000", &"c".repeat(40)] {
        let response = app.create_payment(&user.token, bad).await;
        response.assert_status(400);
        assert!(response.message().starts_with("cuid "), "{bad:?}: {}", response.message());
    }
    let (cuid, id, _) = created_payment(&app, &user).await;
    let cases = [
        (cuid.as_str(), "not-a-pi", "pm_card_visa", "paymentId "),
        (cuid.as_str(), id.as_str(), "card_visa", "paymentMethodId "),
        ("othercuid1234", id.as_str(), "pm_card_visa", "cuid does not match"),
    ];
    for (cuid, payment, method, mentions) in cases {
        let response = app.confirm_payment(&user.token, cuid, payment, method).await;
        response.assert_status(400);
        assert!(response.message().starts_with(mentions), "{payment} {method}: {}", response.message());
    }
    // Well formed, but naming nothing: like an unknown payment, 404.
    let unknown = app.confirm_payment(&user.token, &cuid, &id, "pm_doesNotExist").await;
    unknown.assert_status(404);
    assert_eq!(unknown.message(), "Payment method not found or not usable.");
    for (key, value) in [("limit", "0"), ("limit", "101"), ("limit", "ten"), ("cursor", "nope")] {
        let response = app.list_payments(&user.token, &[(key, value)]).await;
        response.assert_status(400);
        assert!(response.message().starts_with(key), "{key}={value}: {}", response.message());
    }
    app.get_payment(&user.token, "not-an-intent").await.assert_status(400);
}

#[tokio::test]
async fn payments_need_a_valid_token() {
    let app = TestApp::spawn().await;
    app.create_payment("garbage", &cuid()).await.assert_status(401);
    app.list_payments("garbage", &[]).await.assert_status(401);
    app.get_payment("garbage", "pi_123").await.assert_status(401);
    app.confirm_payment("garbage", &cuid(), "pi_123", "pm_card_visa").await.assert_status(401);
}

#[tokio::test]
async fn deleting_a_user_keeps_their_payment_records() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (_, id, _) = created_payment(&app, &user).await;
    app.delete_user(&user.token, &user.id).await.assert_status(200);
    let owner = shared::domain::UserId::parse(&user.id).unwrap();
    let kept = app.payments.payments.owned(owner, &shared::domain::PaymentIntentId::parse(&id).unwrap()).await.unwrap();
    assert!(kept.is_some(), "the payment record outlives the user");
}

#[tokio::test]
async fn stripe_unreachable_is_502_and_the_same_cuid_works_once_it_is_back() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let down = app.with_stripe_down().await;
    let cuid = cuid();
    let failed = down.create_payment(&user.token, &cuid).await;
    failed.assert_status(502);
    assert_eq!(failed.message(), "Stripe is unavailable, please retry.");
    assert_eq!(app.list_payments(&user.token, &[]).await.body, json!([]), "no half-written record");
    let retried = app.create_payment(&user.token, &cuid).await;
    retried.assert_status(201);
    assert_eq!(stripe::intents_of(&user.id).len(), 1);
}
