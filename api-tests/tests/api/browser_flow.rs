//! A front end confirming in the browser the way Stripe.js does, with the
//! `clientSecret` from `POST /payment`, and then telling the API.

use api_tests::{stripe, unique, TestApp, TestUser};
use serde_json::json;

async fn created(app: &TestApp, user: &TestUser) -> (String, String, String) {
    let cuid = unique("c")[..25].to_owned();
    let response = app.create_payment(&user.token, &cuid).await;
    response.assert_status(201);
    let id = response.body["id"].as_str().unwrap().to_owned();
    (cuid, id, response.body["clientSecret"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn confirming_after_stripe_js_reports_the_payment_and_charges_once() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id, secret) = created(&app, &user).await;

    let (status, at_stripe) = tokio::task::block_in_place(|| stripe::confirm_in_browser(&id, &secret, "pm_card_visa"));
    assert_eq!((status, &at_stripe["status"]), (200, &json!("succeeded")), "{at_stripe}");

    let same_card = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
    same_card.assert_status(201);
    assert_eq!(same_card.body["status"], json!("succeeded"));
    let other_card = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa_chargeDeclined").await;
    other_card.assert_status(201);
    assert_eq!(other_card.body, same_card.body, "another card changes nothing");

    let read = app.get_payment(&user.token, &id).await;
    assert_eq!(read.body, same_card.body);
    let listed = app.list_payments(&user.token, &[]).await;
    assert_eq!(listed.body, json!([same_card.body]));
    assert_eq!(tokio::task::block_in_place(|| stripe::successful_charges_of(&id)).len(), 1, "exactly one charge");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stripe_js_confirmation_with_the_wrong_client_secret_is_refused_at_stripe() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (_, id, _) = created(&app, &user).await;
    let (status, _) =
        tokio::task::block_in_place(|| stripe::confirm_in_browser(&id, "pi_x_secret_wrong", "pm_card_visa"));
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn three_d_secure_completed_in_the_browser_then_confirmed_is_one_charge() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id, secret) = created(&app, &user).await;
    let card = tokio::task::block_in_place(stripe::three_d_secure_card);

    let (status, at_stripe) = tokio::task::block_in_place(|| stripe::confirm_in_browser(&id, &secret, &card));
    assert_eq!((status, &at_stripe["status"]), (200, &json!("requires_action")), "{at_stripe}");
    tokio::task::block_in_place(|| stripe::authenticate(&id, &secret));

    let confirmed = app.confirm_payment(&user.token, &cuid, &id, &card).await;
    confirmed.assert_status(201);
    assert_eq!(confirmed.body["status"], json!("succeeded"));
    assert_eq!(confirmed.body["paymentMethod"], json!(card));
    let again = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
    assert_eq!(again.body, confirmed.body);
    assert_eq!(app.get_payment(&user.token, &id).await.body, confirmed.body);
    assert_eq!(app.list_payments(&user.token, &[]).await.body, json!([confirmed.body]));
    assert_eq!(tokio::task::block_in_place(|| stripe::successful_charges_of(&id)).len(), 1, "exactly one charge");
}
