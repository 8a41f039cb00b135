//! POST /payment/{id}/cancel (the owner) and POST /payment/{id}/refund
//! (admins), against the Stripe emulator.

use api_tests::{stripe, unique, TestApp, TestUser};
use futures_util::future::join_all;
use serde_json::json;

fn cuid() -> String {
    unique("c")[..25].to_owned()
}

async fn created(app: &TestApp, user: &TestUser) -> String {
    let response = app.create_payment(&user.token, &cuid()).await;
    response.assert_status(201);
    response.body["id"].as_str().unwrap().to_owned()
}

async fn paid(app: &TestApp, user: &TestUser) -> String {
    let cuid = cuid();
    let id = app.create_payment(&user.token, &cuid).await.body["id"].as_str().unwrap().to_owned();
    app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await.assert_status(201);
    id
}

#[tokio::test]
async fn the_owner_cancels_an_unpaid_payment() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let id = created(&app, &user).await;
    let canceled = app.cancel_payment(&user.token, &id).await;
    canceled.assert_status(201);
    assert_eq!(canceled.body["status"], json!("canceled"));
    assert_eq!(canceled.body["id"], json!(id));
    assert_eq!(app.list_payments(&user.token, &[]).await.body[0]["status"], json!("canceled"));
    let again = app.cancel_payment(&user.token, &id).await;
    again.assert_status(409);
    assert_eq!(again.message(), "The payment has been canceled.");
}

#[tokio::test]
async fn a_succeeded_payment_cannot_be_canceled() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let id = paid(&app, &user).await;
    let response = app.cancel_payment(&user.token, &id).await;
    response.assert_status(409);
    assert_eq!(response.message(), "The payment has already succeeded.");
}

#[tokio::test]
async fn someone_elses_payment_cannot_be_canceled_and_looks_missing() {
    let app = TestApp::spawn().await;
    let (owner, other) = (app.signed_up().await, app.signed_up().await);
    let id = created(&app, &owner).await;
    app.cancel_payment(&other.token, &id).await.assert_status(404);
    app.cancel_payment(&other.token, "pi_doesNotExist123").await.assert_status(404);
    app.cancel_payment(&owner.token, "not-an-intent").await.assert_status(400);
    app.cancel_payment("garbage", &id).await.assert_status(401);
    assert_eq!(app.get_payment(&owner.token, &id).await.body["status"], json!("requires_payment_method"));
}

#[tokio::test]
async fn only_admins_refund_and_an_unknown_payment_is_404() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid(&app, &user).await;
    app.refund_payment(&user.token, &id, json!({ "cuid": cuid() })).await.assert_status(403);
    app.refund_payment(&admin.token, "pi_doesNotExist123", json!({ "cuid": cuid() })).await.assert_status(404);
    app.refund_payment("garbage", &id, json!({ "cuid": cuid() })).await.assert_status(401);
    for (body, mentions) in [
        (json!({}), "cuid "),
        (json!({ "cuid": "Not A Cuid" }), "cuid "),
        (json!({ "cuid": cuid(), "amount": 0 }), "amount "),
        (json!({ "cuid": cuid(), "amount": "500" }), "amount "),
        (json!({ "cuid": cuid(), "amount": 5.5 }), "amount "),
        (json!({ "cuid": cuid(), "reason": "x" }), "property reason"),
    ] {
        let response = app.refund_payment(&admin.token, &id, body.clone()).await;
        response.assert_status(400);
        assert!(response.message().starts_with(mentions), "{body}: {}", response.message());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_refund_then_the_rest_then_nothing_more() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid(&app, &user).await;

    let first_cuid = cuid();
    let part = app.refund_payment(&admin.token, &id, json!({ "cuid": first_cuid, "amount": 500 })).await;
    part.assert_status(201);
    assert!(part.body["id"].as_str().unwrap().starts_with("re_"), "{}", part.text);
    assert_eq!((&part.body["amount"], &part.body["status"]), (&json!(500), &json!("succeeded")));
    assert_eq!(app.get_payment(&user.token, &id).await.body["amountRefunded"], json!(500));

    let repeated = app.refund_payment(&admin.token, &id, json!({ "cuid": first_cuid, "amount": 500 })).await;
    assert_eq!((repeated.status, &repeated.body), (201, &part.body), "the same cuid is the same refund");

    let rest = app.refund_payment(&admin.token, &id, json!({ "cuid": cuid() })).await;
    rest.assert_status(201);
    assert_eq!(rest.body["amount"], json!(1500), "the default is what is left");
    assert_eq!(app.list_payments(&user.token, &[]).await.body[0]["amountRefunded"], json!(2000));

    let more = app.refund_payment(&admin.token, &id, json!({ "cuid": cuid(), "amount": 1 })).await;
    more.assert_status(409);
    assert_eq!(tokio::task::block_in_place(|| stripe::refunds_of(&id)).len(), 2);
}

#[tokio::test]
async fn a_refund_larger_than_what_is_left_is_409() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid(&app, &user).await;
    let response = app.refund_payment(&admin.token, &id, json!({ "cuid": cuid(), "amount": 2001 })).await;
    response.assert_status(409);
    assert_eq!(response.message(), "The refund exceeds what is left to refund.");
}

#[tokio::test]
async fn an_unpaid_payment_cannot_be_refunded() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = created(&app, &user).await;
    let response = app.refund_payment(&admin.token, &id, json!({ "cuid": cuid() })).await;
    response.assert_status(409);
    assert_eq!(response.message(), "The payment has not succeeded.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_full_refunds_with_different_cuids_refund_once() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid(&app, &user).await;
    let attempts = (0..6).map(|_| {
        let (token, id) = (admin.token.clone(), id.clone());
        tokio::spawn(async move { app.refund_payment(&token, &id, json!({ "cuid": cuid() })).await })
    });
    let statuses: Vec<u16> = join_all(attempts).await.into_iter().map(|r| r.expect("task ran").status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| [201, 409].contains(s)), "{statuses:?}");
    let refunded: i64 =
        tokio::task::block_in_place(|| stripe::refunds_of(&id)).iter().map(|r| r["amount"].as_i64().unwrap()).sum();
    assert_eq!(refunded, 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refunds_with_one_cuid_are_one_refund() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid(&app, &user).await;
    let cuid = cuid();
    let attempts = (0..6).map(|_| {
        let (token, id, cuid) = (admin.token.clone(), id.clone(), cuid.clone());
        tokio::spawn(async move { app.refund_payment(&token, &id, json!({ "cuid": cuid, "amount": 300 })).await })
    });
    let answers: Vec<_> = join_all(attempts).await.into_iter().map(|r| r.expect("task ran")).collect();
    let distinct: std::collections::HashSet<_> = answers.iter().map(|r| (r.status, r.body["id"].clone())).collect();
    assert_eq!(distinct.len(), 1, "{distinct:?}");
    assert_eq!(answers[0].status, 201, "{}", answers[0].text);
    assert_eq!(tokio::task::block_in_place(|| stripe::refunds_of(&id)).len(), 1);
}
