//! Stripe's signed events, delivered by the Stripe emulator to a loopback
//! endpoint and handed to the webhook function as API Gateway would.

use api_tests::{
    stripe::{self, WebhookEndpoint},
    unique, TestApp,
};
use serde_json::json;

async fn payment_waiting_for_3ds(app: &TestApp) -> (api_tests::TestUser, String, String) {
    let user = app.signed_up().await;
    let cuid = unique("c")[..25].to_owned();
    let created = app.create_payment(&user.token, &cuid).await;
    let (id, secret) =
        (created.body["id"].as_str().unwrap().to_owned(), created.body["clientSecret"].as_str().unwrap().to_owned());
    let confirmed = app.confirm_payment(&user.token, &cuid, &id, &stripe::three_d_secure_card()).await;
    assert_eq!(confirmed.body["status"], json!("requires_action"), "{}", confirmed.text);
    (user, id, secret)
}

async fn listed_status(app: &TestApp, token: &str) -> serde_json::Value {
    app.list_payments(token, &[]).await.body[0]["status"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_succeeded_event_updates_the_payment_once() {
    let app = TestApp::spawn().await;
    let endpoint = WebhookEndpoint::register(&app.payments.webhook_secret);
    let (user, id, secret) = payment_waiting_for_3ds(&app).await;
    stripe::authenticate(&id, &secret);
    let delivery = tokio::task::block_in_place(|| endpoint.next("payment_intent.succeeded", &id));
    assert_eq!(listed_status(&app, &user.token).await, json!("requires_action"), "nothing changes before delivery");

    let response = app.webhook(&delivery.payload, &delivery.signature).await;
    response.assert_status(200);
    assert_eq!(response.body, json!({ "received": true, "handled": true }));
    assert_eq!(listed_status(&app, &user.token).await, json!("succeeded"));

    let replay = app.webhook(&delivery.payload, &delivery.signature).await;
    replay.assert_status(200);
    assert_eq!(replay.body, json!({ "received": true, "handled": false }), "a replay changes nothing");
    assert_eq!(listed_status(&app, &user.token).await, json!("succeeded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_or_missing_signature_is_401_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let endpoint = WebhookEndpoint::register(&app.payments.webhook_secret);
    let (user, id, secret) = payment_waiting_for_3ds(&app).await;
    stripe::authenticate(&id, &secret);
    let delivery = tokio::task::block_in_place(|| endpoint.next("payment_intent.succeeded", &id));

    let tampered = delivery.payload.replace("\"succeeded\"", "\"canceled\"");
    let forged = WebhookEndpoint::sign(&delivery.payload, "whsec_not_the_secret");
    for (payload, signature, why) in [
        (tampered.as_str(), delivery.signature.as_str(), "tampered body"),
        (delivery.payload.as_str(), forged.as_str(), "wrong secret"),
        (delivery.payload.as_str(), "t=1,v1=00", "garbage signature"),
        (delivery.payload.as_str(), "", "empty signature"),
    ] {
        let response = app.webhook(payload, signature).await;
        assert_eq!(response.status, 401, "{why}: {}", response.text);
        assert_eq!(response.message(), "Invalid Stripe signature.", "{why}");
    }
    let unsigned = app
        .send_payment(
            payment_webhook::handle,
            api_tests::Event::of("payment-webhook").without_header("stripe-signature"),
        )
        .await;
    unsigned.assert_status(401);
    assert_eq!(listed_status(&app, &user.token).await, json!("requires_action"));
}

#[tokio::test(flavor = "multi_thread")]
async fn events_for_unknown_intents_and_other_types_are_acknowledged() {
    let app = TestApp::spawn().await;
    let other = TestApp::spawn().await;
    let endpoint = WebhookEndpoint::register(&app.payments.webhook_secret);
    // A payment in another database: for this app's webhook it is unknown.
    let (_, id, secret) = payment_waiting_for_3ds(&other).await;
    stripe::authenticate(&id, &secret);
    let delivery = tokio::task::block_in_place(|| endpoint.next("payment_intent.succeeded", &id));
    let response = app.webhook(&delivery.payload, &delivery.signature).await;
    response.assert_status(200);
    assert_eq!(response.body["handled"], json!(false));

    let customer_event = json!({
        "id": "evt_customer_created", "object": "event", "created": 1795521600, "livemode": false,
        "pending_webhooks": 1, "request": { "id": null, "idempotency_key": null }, "type": "customer.created",
        "data": { "object": stripe::new_customer() }
    })
    .to_string();
    let signature = WebhookEndpoint::sign(&customer_event, &app.payments.webhook_secret);
    let ignored = app.webhook(&customer_event, &signature).await;
    ignored.assert_status(200);
    assert_eq!(ignored.body, json!({ "received": true, "handled": false }));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_older_than_the_known_status_changes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let cuid = unique("c")[..25].to_owned();
    let id = app.create_payment(&user.token, &cuid).await.body["id"].as_str().unwrap().to_owned();
    app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await.assert_status(201);

    let mut stale_intent = stripe::intent(&id);
    stale_intent["status"] = json!("processing");
    let an_hour_ago = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600;
    let stale = json!({
        "id": "evt_stale_processing", "object": "event", "created": an_hour_ago, "livemode": false,
        "pending_webhooks": 1, "request": { "id": null, "idempotency_key": null },
        "type": "payment_intent.processing", "data": { "object": stale_intent }
    })
    .to_string();
    let response = app.webhook(&stale, &WebhookEndpoint::sign(&stale, &app.payments.webhook_secret)).await;
    response.assert_status(200);
    assert_eq!(response.body["handled"], json!(false));
    assert_eq!(listed_status(&app, &user.token).await, json!("succeeded"));
}

/// A signed event as Stripe would send it, about `object`.
fn signed_event(app: &TestApp, event_type: &str, object: serde_json::Value) -> (String, String) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let payload = json!({
        "id": unique("evt_"), "object": "event", "created": now, "livemode": false, "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null }, "type": event_type, "data": { "object": object }
    })
    .to_string();
    let signature = WebhookEndpoint::sign(&payload, &app.payments.webhook_secret);
    (payload, signature)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_event_arriving_after_success_does_not_move_the_payment_back() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let cuid = unique("c")[..25].to_owned();
    let id = app.create_payment(&user.token, &cuid).await.body["id"].as_str().unwrap().to_owned();
    app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await.assert_status(201);

    let mut failed_intent = stripe::intent(&id);
    failed_intent["status"] = json!("requires_payment_method");
    for _ in 0..3 {
        let (payload, signature) = signed_event(&app, "payment_intent.payment_failed", failed_intent.clone());
        let response = app.webhook(&payload, &signature).await;
        response.assert_status(200);
        assert_eq!(response.body["handled"], json!(false));
    }
    assert_eq!(listed_status(&app, &user.token).await, json!("succeeded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_intent_whose_record_was_lost_is_recorded_from_its_metadata() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    app.create_payment(&user.token, &unique("c")[..25]).await.assert_status(201);
    let customer = app.get_user(&user.token, &user.id).await.body["customerId"].as_str().unwrap().to_owned();
    let cuid = unique("c")[..25].to_owned();
    let lost = stripe::intent_made_elsewhere(&customer, &[("userId", &user.id), ("cuid", &cuid)]);
    let id = lost["id"].as_str().unwrap().to_owned();

    let (payload, signature) = signed_event(&app, "payment_intent.requires_action", lost);
    let response = app.webhook(&payload, &signature).await;
    response.assert_status(200);
    assert_eq!(response.body["handled"], json!(true));
    let again = app.create_payment(&user.token, &cuid).await;
    again.assert_status(201);
    assert_eq!(again.body["id"], json!(id), "the cuid now names the recovered intent");
    assert_eq!(stripe::intents_of(&user.id).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_event_that_cannot_be_read_is_acknowledged() {
    let app = TestApp::spawn().await;
    let (payload, signature) =
        signed_event(&app, "payment_intent.succeeded", json!({ "id": 42, "object": "nonsense" }));
    let response = app.webhook(&payload, &signature).await;
    response.assert_status(200);
    assert_eq!(response.body, json!({ "received": true, "handled": false }));
    let (payload, signature) = signed_event(&app, "radar.early_fraud_warning.created", json!({ "id": "issfr_1" }));
    app.webhook(&payload, &signature).await.assert_status(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_made_at_stripe_is_recorded_when_its_event_arrives() {
    let app = TestApp::spawn().await;
    let endpoint = WebhookEndpoint::register(&app.payments.webhook_secret);
    let user = app.signed_up().await;
    let cuid = unique("c")[..25].to_owned();
    let id = app.create_payment(&user.token, &cuid).await.body["id"].as_str().unwrap().to_owned();
    app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await.assert_status(201);

    // From the dashboard, say: only the webhook tells the API.
    tokio::task::block_in_place(|| stripe::refund_at_stripe(&id, 700));
    let delivery = tokio::task::block_in_place(|| endpoint.next("charge.refunded", &id));
    assert_eq!(app.list_payments(&user.token, &[]).await.body[0]["amountRefunded"], json!(0));
    let response = app.webhook(&delivery.payload, &delivery.signature).await;
    response.assert_status(200);
    assert_eq!(response.body["handled"], json!(true));
    assert_eq!(app.list_payments(&user.token, &[]).await.body[0]["amountRefunded"], json!(700));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dispute_is_recorded_when_its_event_arrives() {
    let app = TestApp::spawn().await;
    let endpoint = WebhookEndpoint::register(&app.payments.webhook_secret);
    let user = app.signed_up().await;
    let cuid = unique("c")[..25].to_owned();
    let id = app.create_payment(&user.token, &cuid).await.body["id"].as_str().unwrap().to_owned();
    let card = tokio::task::block_in_place(stripe::disputed_card);
    app.confirm_payment(&user.token, &cuid, &id, &card).await.assert_status(201);

    let delivery = tokio::task::block_in_place(|| endpoint.next("charge.dispute.created", &id));
    let response = app.webhook(&delivery.payload, &delivery.signature).await;
    response.assert_status(200);
    assert_eq!(response.body["handled"], json!(true));
    let intent = shared::domain::PaymentIntentId::parse(&id).unwrap();
    let stored = app.payments.payments.by_intent(&intent).await.unwrap().expect("the payment");
    assert!(stored.disputed, "{stored:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_event_of_another_deployments_payment_is_not_recorded_here() {
    // Stripe sends every endpoint of the account every event.
    let (here, there) = (TestApp::spawn().await, TestApp::spawn().await);
    let (user, admin) = (there.signed_up().await, there.admin().await);
    let cuid = unique("c")[..25].to_owned();
    let id = there.create_payment(&user.token, &cuid).await.body["id"].as_str().unwrap().to_owned();
    there.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await.assert_status(201);
    let refund = there.refund_payment(&admin.token, &id, json!({ "cuid": unique("c")[..25].to_owned() })).await;
    let event = json!({
        "id": "evt_elsewhere", "type": "refund.created",
        "data": { "object": { "id": refund.body["id"], "payment_intent": id } },
    })
    .to_string();
    let signature = WebhookEndpoint::sign(&event, &here.payments.webhook_secret);
    here.webhook(&event, &signature).await.assert_status(200);
    let refunds = here.state.db.collection::<mongodb::bson::Document>("refunds");
    assert_eq!(refunds.count_documents(mongodb::bson::doc! {}).await.unwrap(), 0);
}
