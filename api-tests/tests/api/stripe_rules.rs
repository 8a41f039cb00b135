//! Our payment flows under the rules Stripe documents and the emulator now
//! enforces: automatic payment methods, confirm attempts, refunds that fail
//! later, refusals that keep their meaning, and idempotency past 24 hours.

use api_tests::{
    stripe::{self, WebhookEndpoint},
    unique, TestApp, TestUser,
};
use serde_json::json;
use shared::domain::{Cuid, PaymentIntentId, RefundAmount, UserId};

fn cuid() -> String {
    unique("c")[..25].to_owned()
}

async fn created(app: &TestApp, user: &TestUser) -> (String, String) {
    let cuid = cuid();
    let response = app.create_payment(&user.token, &cuid).await;
    response.assert_status(201);
    (cuid, response.body["id"].as_str().unwrap().to_owned())
}

async fn paid_with(app: &TestApp, user: &TestUser, method: &str) -> String {
    let (cuid, id) = created(app, user).await;
    app.confirm_payment(&user.token, &cuid, &id, method).await.assert_status(201);
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_confirmed_by_the_server_succeeds_on_an_intent_without_redirects() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id) = created(&app, &user).await;
    let at_stripe = tokio::task::block_in_place(|| stripe::intent(&id));
    assert_eq!(
        at_stripe["automatic_payment_methods"],
        json!({ "enabled": true, "allow_redirects": "never" }),
        "Stripe wants a return_url for a server-side confirm otherwise"
    );
    let confirmed = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
    confirmed.assert_status(201);
    assert_eq!(confirmed.body["status"], json!("succeeded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_confirmation_after_a_decline_is_a_new_attempt_at_stripe() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id) = created(&app, &user).await;
    for attempt in 1..=2 {
        let declined = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa_chargeDeclined").await;
        declined.assert_status(402);
        let charges = tokio::task::block_in_place(|| stripe::charges_of(&id));
        assert_eq!(charges.len(), attempt, "attempt {attempt} reached Stripe, not a replay of the first");
    }
    let paid = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
    paid.assert_status(201);
    assert_eq!(paid.body["status"], json!("succeeded"));
    assert_eq!(tokio::task::block_in_place(|| stripe::successful_charges_of(&id)).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_canceled_payment_cannot_be_confirmed() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id) = created(&app, &user).await;
    app.cancel_payment(&user.token, &id).await.assert_status(201);
    let response = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
    response.assert_status(409);
    assert_eq!(response.message(), "The payment has been canceled.");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_that_fails_later_is_not_counted_and_the_payment_can_be_refunded_again() {
    let app = TestApp::spawn().await;
    let endpoint = WebhookEndpoint::register(&app.payments.webhook_secret);
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid_with(&app, &user, &stripe::refund_failing_card()).await;
    let first_cuid = cuid();
    let refunded = app.refund_payment(&admin.token, &id, json!({ "cuid": first_cuid })).await;
    refunded.assert_status(201);
    assert_eq!(refunded.body["status"], json!("succeeded"), "Stripe first reports it succeeded");
    assert_eq!(app.list_payments(&user.token, &[]).await.body[0]["amountRefunded"], json!(2000));

    let failed = tokio::task::block_in_place(|| endpoint.next("refund.failed", &id));
    app.webhook(&failed.payload, &failed.signature).await.assert_status(200);
    let listed = app.list_payments(&user.token, &[]).await;
    assert_eq!(listed.body[0]["amountRefunded"], json!(0), "a failed refund gave nothing back: {}", listed.text);
    let same = app.refund_payment(&admin.token, &id, json!({ "cuid": first_cuid })).await;
    same.assert_status(201);
    assert_eq!((&same.body["id"], &same.body["status"]), (&refunded.body["id"], &json!("failed")));

    let again = app.refund_payment(&admin.token, &id, json!({ "cuid": cuid(), "amount": 500 })).await;
    again.assert_status(201);
    assert_ne!(again.body["id"], refunded.body["id"]);
    assert_eq!(app.list_payments(&user.token, &[]).await.body[0]["amountRefunded"], json!(500));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_cuid_used_again_with_another_amount_is_409() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid_with(&app, &user, "pm_card_visa").await;
    let cuid = cuid();
    app.refund_payment(&admin.token, &id, json!({ "cuid": cuid, "amount": 500 })).await.assert_status(201);
    for body in [json!({ "cuid": cuid, "amount": 600 }), json!({ "cuid": cuid })] {
        let response = app.refund_payment(&admin.token, &id, body.clone()).await;
        response.assert_status(409);
        assert_eq!(response.message(), "This cuid was already used for a refund of another amount.", "{body}");
    }
    app.refund_payment(&admin.token, &id, json!({ "cuid": cuid, "amount": 500 })).await.assert_status(201);
    assert_eq!(tokio::task::block_in_place(|| stripe::refunds_of(&id)).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn stripes_refund_refusals_keep_their_meaning() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    for (code, status, message) in [
        ("charge_already_refunded", 409, "The refund exceeds what is left to refund."),
        ("amount_too_large", 409, "The refund exceeds what is left to refund."),
        ("charge_disputed", 409, "The payment is disputed; the dispute settles it."),
        ("parameter_invalid_integer", 502, "Stripe refused the request."),
    ] {
        let id = paid_with(&app, &user, "pm_card_visa").await;
        let error = [("type", "invalid_request_error"), ("code", code), ("message", "Refused")];
        tokio::task::block_in_place(|| stripe::answer_next(&format!("refund-{id}"), 1, 400, &error));
        let cuid = cuid();
        let response = app.refund_payment(&admin.token, &id, json!({ "cuid": cuid })).await;
        assert_eq!((response.status, response.message()), (status, message), "{code}");
        // Nothing was made, so nothing holds the cuid: another amount under it
        // is a new request (Stripe keeps the refusal under the first one's key).
        let other = app.refund_payment(&admin.token, &id, json!({ "cuid": cuid, "amount": 300 })).await;
        other.assert_status(201);
        assert_eq!(tokio::task::block_in_place(|| stripe::refunds_of(&id)).len(), 1, "{code}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disputed_payment_is_not_refunded() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid_with(&app, &user, &stripe::disputed_card()).await;
    let response = app.refund_payment(&admin.token, &id, json!({ "cuid": cuid() })).await;
    response.assert_status(409);
    assert_eq!(response.message(), "The payment is disputed; the dispute settles it.");
    assert!(tokio::task::block_in_place(|| stripe::refunds_of(&id)).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_whose_answer_was_lost_is_found_at_stripe_even_after_its_key_expired() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid_with(&app, &user, "pm_card_visa").await;
    let (intent, raw_cuid) = (PaymentIntentId::parse(&id).unwrap(), cuid());
    let refund_cuid = Cuid::parse(&raw_cuid).unwrap();
    let amount = RefundAmount::of(700).unwrap();
    // Where a function killed after Stripe refunded leaves things: the
    // reservation, and Stripe's refund, but not Stripe's answer.
    assert!(app.payments.refunds.reserve(&intent, &refund_cuid, amount).await.unwrap().is_none());
    let made = app.payments.stripe.refund(&intent, &refund_cuid, amount).await.unwrap();
    tokio::task::block_in_place(|| stripe::expire_keys(&id));

    let retried = app.refund_payment(&admin.token, &id, json!({ "cuid": raw_cuid, "amount": 700 })).await;
    retried.assert_status(201);
    assert_eq!(retried.body["id"], json!(made.id.as_str()), "the refund Stripe made, not a second one");
    assert_eq!(tokio::task::block_in_place(|| stripe::refunds_of(&id)).len(), 1);
    assert_eq!(app.list_payments(&user.token, &[]).await.body[0]["amountRefunded"], json!(700));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_answer_was_lost_is_found_at_stripe_even_after_its_key_expired() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    created(&app, &user).await; // the user's Stripe customer
    let id = UserId::parse(&user.id).unwrap();
    let customer = app.state.users.get(id).await.unwrap().unwrap().customer_id.expect("a customer");
    let raw_cuid = cuid();
    let payment_cuid = Cuid::parse(&raw_cuid).unwrap();
    // Where a create killed after Stripe answered leaves things: its claim
    // and Stripe's PaymentIntent, but no record.
    assert!(app.payments.claims.claim(id, &payment_cuid).await.unwrap().is_none());
    let made = app.payments.stripe.create_intent(id, &payment_cuid, &customer).await.unwrap();
    tokio::task::block_in_place(|| stripe::expire_keys(&raw_cuid));

    let retried = app.create_payment(&user.token, &raw_cuid).await;
    retried.assert_status(201);
    assert_eq!(retried.body["id"], json!(made.id.as_str()), "the intent Stripe made, not a second one");
    let with_cuid = |pi: &&serde_json::Value| pi["metadata"]["cuid"] == raw_cuid.as_str();
    let at_stripe = tokio::task::block_in_place(|| stripe::intents_of(&user.id));
    assert_eq!(at_stripe.iter().filter(with_cuid).count(), 1);
    let again = app.create_payment(&user.token, &raw_cuid).await;
    assert_eq!(again.body["id"], json!(made.id.as_str()), "and it is recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_read_that_lands_later_never_overwrites_a_newer_one() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.signed_up().await, app.admin().await);
    let id = paid_with(&app, &user, "pm_card_visa").await;
    app.refund_payment(&admin.token, &id, json!({ "cuid": cuid(), "amount": 500 })).await.assert_status(201);
    let newest = app.payments.stripe.retrieve(&PaymentIntentId::parse(&id).unwrap()).await.unwrap();
    let listed = || async { app.list_payments(&user.token, &[]).await.body[0].clone() };

    let mut older = newest.clone();
    (older.amount_refunded, older.read_at) = (0, newest.read_at - std::time::Duration::from_secs(10));
    older.status = shared::domain::PaymentStatus::RequiresPaymentMethod;
    app.payments.payments.record(&older).await.unwrap();
    assert_eq!(
        (listed().await["amountRefunded"].clone(), listed().await["status"].clone()),
        (json!(500), json!("succeeded"))
    );

    let mut later = newest.clone();
    (later.amount_refunded, later.read_at) = (0, newest.read_at + std::time::Duration::from_millis(5));
    later.status = shared::domain::PaymentStatus::RequiresPaymentMethod;
    app.payments.payments.record(&later).await.unwrap();
    let now = listed().await;
    assert_eq!(now["amountRefunded"], json!(0), "a later read lowers it (a refund failed)");
    assert_eq!(now["status"], json!("succeeded"), "but the status never moves back");
}
