//! `payments-admin migrate` (and the deploy's migration) upgrades documents
//! written by earlier versions in place.

use api_tests::TestApp;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use serde_json::json;
use shared::store;

/// A payment as versions before 0.2 wrote it: `userId` as 24 hex digits,
/// plus the webhook-ordering fields of that version.
fn legacy_payment(user_hex: &str, intent: &str) -> Document {
    doc! {
        "_id": ObjectId::new(), "userId": user_hex, "cuid": "cjld2cjxh0000qzrmn831i7rn", "intentId": intent,
        "amount": 2000_i64, "currency": "usd", "status": "succeeded", "paymentMethod": "pm_card_visa",
        "createdAt": DateTime::now(), "statusEventAt": 1_700_000_000_i64, "lastEventId": "evt_1",
    }
}

#[tokio::test]
async fn migrate_upgrades_payments_written_with_hex_string_user_ids() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let payments = app.state.db.collection::<Document>("payments");
    payments.insert_one(legacy_payment(&user.id, "pi_legacyPayment1")).await.unwrap();
    assert_eq!(app.list_payments(&user.token, &[]).await.body, json!([]), "the old shape does not match the new query");

    let migrated = store::migrate(&app.state.db).await.unwrap();
    assert_eq!(migrated.payments_upgraded, 1);

    let listed = app.list_payments(&user.token, &[]).await;
    listed.assert_status(200);
    assert_eq!(
        listed.body,
        json!([{
            "id": "pi_legacyPayment1", "amount": 2000, "currency": "usd", "status": "succeeded",
            "paymentMethod": "pm_card_visa", "amountRefunded": 0
        }])
    );
    let stored = payments.find_one(doc! { "intentId": "pi_legacyPayment1" }).await.unwrap().unwrap();
    assert_eq!(stored.get_object_id("userId").unwrap().to_hex(), user.id);
    assert!(!stored.contains_key("lastEventId") && !stored.contains_key("statusEventAt"), "{stored:?}");
}

#[tokio::test]
async fn migrating_twice_changes_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    app.state
        .db
        .collection::<Document>("payments")
        .insert_one(legacy_payment(&user.id, "pi_legacyPayment2"))
        .await
        .unwrap();
    assert_eq!(store::migrate(&app.state.db).await.unwrap().payments_upgraded, 1);
    assert_eq!(store::migrate(&app.state.db).await.unwrap().payments_upgraded, 0);
    assert_eq!(app.list_payments(&user.token, &[]).await.body.as_array().unwrap().len(), 1);
}
