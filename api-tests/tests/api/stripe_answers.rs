//! Every kind of answer Stripe documents, made by the Stripe emulator on
//! demand, and what the API answers to each: never a 500.

use api_tests::{
    stripe::{self, answer_next},
    unique, TestApp, TestUser,
};
use serde_json::json;

fn cuid() -> String {
    unique("c")[..25].to_owned()
}

async fn payment(app: &TestApp, user: &TestUser) -> (String, String) {
    let cuid = cuid();
    let created = app.create_payment(&user.token, &cuid).await;
    created.assert_status(201);
    (cuid, created.body["id"].as_str().unwrap().to_owned())
}

/// (why, status Stripe answers, its error, how often, our status, our message starts with)
type Case = (&'static str, u16, &'static [(&'static str, &'static str)], u32, u16, &'static str);

const CONFIRM_CASES: &[Case] = &[
    (
        "card declined",
        402,
        &[("type", "card_error"), ("code", "card_declined"), ("message", "Your card was declined.")],
        1,
        402,
        "Your card was declined.",
    ),
    (
        "insufficient funds",
        402,
        &[
            ("type", "card_error"),
            ("code", "card_declined"),
            ("decline_code", "insufficient_funds"),
            ("message", "Your card has insufficient funds."),
        ],
        1,
        402,
        "Your card has insufficient funds.",
    ),
    (
        "unknown payment method",
        400,
        &[
            ("type", "invalid_request_error"),
            ("code", "resource_missing"),
            ("param", "payment_method"),
            ("message", "No such PaymentMethod"),
        ],
        1,
        404,
        "Payment method not found",
    ),
    (
        "rate limited past the backoff",
        429,
        &[("type", "invalid_request_error"), ("code", "rate_limit"), ("message", "Too many requests")],
        5,
        503,
        "Stripe is busy",
    ),
    (
        "lock timeout past the backoff",
        429,
        &[
            ("type", "invalid_request_error"),
            ("code", "lock_timeout"),
            ("message", "This object cannot be accessed right now"),
        ],
        5,
        503,
        "Stripe is busy",
    ),
    (
        "idempotency key in flight past the backoff",
        409,
        &[("type", "invalid_request_error"), ("code", "idempotency_key_in_use"), ("message", "In progress")],
        5,
        503,
        "Stripe is busy",
    ),
    (
        // Our keys name one request each, so a reused key is our fault,
        // never the client's: cuid reuse is settled before Stripe is called.
        "idempotency key reused with other parameters",
        400,
        &[
            ("type", "idempotency_error"),
            ("message", "Keys for idempotent requests can only be used with the same parameters"),
        ],
        1,
        502,
        "Stripe refused the request.",
    ),
    (
        "Stripe failing",
        500,
        &[("type", "api_error"), ("message", "Something went wrong")],
        1,
        502,
        "Stripe is unavailable",
    ),
    ("Stripe overloaded", 503, &[("type", "api_error"), ("message", "Unavailable")], 1, 502, "Stripe is unavailable"),
    (
        "an invalid request we built",
        400,
        &[("type", "invalid_request_error"), ("param", "expand"), ("message", "Invalid expand")],
        1,
        502,
        "Stripe refused the request.",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_stripe_answer_to_a_confirmation_is_mapped_deliberately() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    for (why, status, error, times, ours, message) in CONFIRM_CASES {
        let (cuid, id) = payment(&app, &user).await;
        tokio::task::block_in_place(|| answer_next(&format!("{id}/confirm"), *times, *status, error));
        let response = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
        assert_eq!(response.status, *ours, "{why}: {}", response.text);
        response.assert_status(*ours);
        assert!(response.message().starts_with(message), "{why}: {}", response.message());
        if *ours == 503 {
            assert_eq!(response.headers["retry-after"], "1", "{why}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_rate_limit_is_retried_away() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id) = payment(&app, &user).await;
    let rate_limit = [("type", "invalid_request_error"), ("code", "rate_limit"), ("message", "Too many requests")];
    tokio::task::block_in_place(|| answer_next(&format!("{id}/confirm"), 2, 429, &rate_limit));
    let response = app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await;
    response.assert_status(201);
    assert_eq!(response.body["status"], json!("succeeded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn stripe_failing_to_create_the_intent_is_502_and_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let cuid = cuid();
    let failing = [("type", "api_error"), ("message", "Something went wrong")];
    tokio::task::block_in_place(|| answer_next(&format!("payment-{}-{cuid}", user.id), 1, 500, &failing));
    app.create_payment(&user.token, &cuid).await.assert_status(502);
    assert_eq!(app.list_payments(&user.token, &[]).await.body, json!([]));
    app.create_payment(&user.token, &cuid).await.assert_status(201);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_deleted_at_stripe_is_replaced_once_and_saved() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    payment(&app, &user).await;
    let old = app.get_user(&user.token, &user.id).await.body["customerId"].as_str().unwrap().to_owned();
    tokio::task::block_in_place(|| stripe::delete_customer(&old));

    let (_, id) = payment(&app, &user).await;
    let new = app.get_user(&user.token, &user.id).await.body["customerId"].as_str().unwrap().to_owned();
    assert_ne!(new, old, "a new customer is saved");
    assert_eq!(stripe::intent(&id)["customer"], json!(new), "the payment is the new customer's");
    payment(&app, &user).await;
    let live: Vec<_> = stripe::customers_of(&user.id).into_iter().filter(|c| c["deleted"] != true).collect();
    assert_eq!(live.len(), 1, "one replacement, not one per payment: {live:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_method_id_of_255_characters_is_stripes_to_refuse() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let (cuid, id) = payment(&app, &user).await;
    let long = format!("pm_{}", "a".repeat(252));
    let response = app.confirm_payment(&user.token, &cuid, &id, &long).await;
    response.assert_status(404);
    assert_eq!(response.message(), "Payment method not found or not usable.");
}
