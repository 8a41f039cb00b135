//! `payments-admin migrate` (and the deploy's migration) upgrades documents
//! written by earlier versions in place.

use std::future::IntoFuture;

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

/// A stand-in for CloudFormation's pre-signed response URL: answers 200 to
/// one PUT and hands over its body.
fn response_url() -> (String, std::sync::mpsc::Receiver<(String, serde_json::Value)>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cloudformation/response?X-Amz-Signature=abc", listener.local_addr().unwrap());
    let (sender, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let (mut request_line, mut line, mut length) = (String::new(), String::new(), 0);
        reader.read_line(&mut request_line).unwrap();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            line.clear();
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
        sender.send((request_line, serde_json::from_slice(&body).unwrap())).unwrap();
    });
    (url, received)
}

fn cloudformation_request(request_type: &str, url: &str) -> serde_json::Value {
    let mut event = api_tests::Event::of("db-migrate").json().clone();
    event["RequestType"] = json!(request_type);
    event["ResponseURL"] = json!(url);
    event
}

#[test]
fn the_deploys_custom_resource_creates_the_indexes_and_reports_success() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let database = api_tests::unique("deploy_");
    let (url, received) = response_url();
    let migrate = api_tests::Emulator::start("db-migrate", &[("MONGODB_DATABASE", database.as_str())]);
    migrate.invoke(&cloudformation_request("Create", &url));
    let (request_line, response) = received.recv_timeout(std::time::Duration::from_secs(30)).expect("a PUT");
    assert!(request_line.starts_with("PUT /cloudformation/response?X-Amz-Signature=abc "), "{request_line}");
    assert_eq!(response["Status"], json!("SUCCESS"), "{response}");
    assert_eq!(response["LogicalResourceId"], json!("DatabaseMigration"));
    assert_eq!(response["RequestId"], json!("0f5a1c3e-8d2b-4e6f-9a7c-3b1d2e4f5a6b"));

    let users = services_database(&rt, &database).collection::<Document>("users");
    rt.block_on(users.insert_one(doc! { "email": "a@example.com" }).into_future()).unwrap();
    let twice = rt.block_on(users.insert_one(doc! { "email": "a@example.com" }).into_future());
    assert!(twice.is_err(), "the unique email index is in place");
}

#[test]
fn a_migration_that_cannot_run_reports_failed_with_its_cause() {
    let (url, received) = response_url();
    let migrate = api_tests::Emulator::start("db-migrate", &[("APP_SECRET_ID", "no-such-secret-for-migrations")]);
    migrate.invoke(&cloudformation_request("Update", &url));
    let (_, response) = received.recv_timeout(std::time::Duration::from_secs(30)).expect("a PUT");
    assert_eq!(response["Status"], json!("FAILED"), "{response}");
    let reason = response["Reason"].as_str().unwrap();
    assert!(reason.contains("could not read secret no-such-secret-for-migrations"), "{reason}");
}

/// The database `database` of the local services.
fn services_database(rt: &tokio::runtime::Runtime, database: &str) -> mongodb::Database {
    rt.block_on(async {
        let secret = shared::secrets::AppSecret::fetch(&api_tests::service_env("APP_SECRET_ID")).await.unwrap();
        shared::store::connect(&secret.core().mongodb_uri, database).await.unwrap()
    })
}

#[test]
fn deleting_the_stack_reports_success_and_leaves_the_data() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let database = api_tests::unique("delete_");
    let users = services_database(&rt, &database).collection::<Document>("users");
    rt.block_on(users.insert_one(doc! { "email": "kept@example.com" }).into_future()).unwrap();
    let (url, received) = response_url();
    let migrate = api_tests::Emulator::start("db-migrate", &[("MONGODB_DATABASE", database.as_str())]);
    migrate.invoke(&cloudformation_request("Delete", &url));
    let (_, response) = received.recv_timeout(std::time::Duration::from_secs(30)).expect("a PUT");
    assert_eq!(response["Status"], json!("SUCCESS"), "{response}");
    let kept = rt.block_on(users.count_documents(doc! { "email": "kept@example.com" }).into_future()).unwrap();
    assert_eq!(kept, 1, "the users are still there");
}

#[test]
fn deleting_the_stack_reports_success_even_when_its_secret_is_gone() {
    let (url, received) = response_url();
    let migrate = api_tests::Emulator::start("db-migrate", &[("APP_SECRET_ID", "no-such-secret-for-migrations")]);
    migrate.invoke(&cloudformation_request("Delete", &url));
    let (_, response) = received.recv_timeout(std::time::Duration::from_secs(30)).expect("a PUT");
    assert_eq!(response["Status"], json!("SUCCESS"), "a stack is never stuck deleting: {response}");
}
