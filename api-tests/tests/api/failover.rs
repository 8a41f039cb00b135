//! MongoDB's answers during an Atlas failover or maintenance, injected at
//! the MongoDB stand-in (its test-only `nxFailNext` command), are a 503 the
//! client can retry, never a 500.

use api_tests::{services_db, TestApp};
use mongodb::{
    bson::{doc, Document},
    Database,
};
use shared::store::StoreError;

/// Makes the database's next `times` commands named `command` fail with `code`.
async fn fail_next(db: &Database, command: &str, code: i32, times: i32) {
    db.run_command(doc! { "nxFailNext": command, "code": code, "times": times })
        .await
        .expect("the MongoDB stand-in's test hook");
}

#[tokio::test]
async fn failover_and_shutdown_codes_are_unavailable_and_unknown_ones_are_not() {
    for (code, why, transient) in [
        (10107, "NotWritablePrimary", true),
        (11602, "InterruptedDueToReplStateChange", true),
        (189, "PrimarySteppedDown", true),
        (91, "ShutdownInProgress", true),
        (13435, "NotPrimaryNoSecondaryOk", true),
        (262, "ExceededTimeLimit", true),
        (64, "WriteConcernFailed", true),
        (2, "BadValue", false),
        (13, "Unauthorized", false),
    ] {
        let db = services_db().await;
        // More failures than the driver's own single retry of reads.
        fail_next(&db, "find", code, 3).await;
        let err = db.collection::<Document>("things").find_one(doc! {}).await.expect_err(why);
        let classified = StoreError::from(err);
        assert_eq!(matches!(classified, StoreError::Unavailable(_)), transient, "{code} {why}: {classified:?}");
    }
}

#[tokio::test]
async fn a_write_during_a_failover_is_unavailable() {
    let db = services_db().await;
    fail_next(&db, "insert", 10107, 3).await;
    let err = db.collection::<Document>("things").insert_one(doc! { "a": 1 }).await.expect_err("refused");
    assert!(matches!(StoreError::from(err), StoreError::Unavailable(_)));
}

#[tokio::test]
async fn get_user_during_a_failover_is_503_with_retry_after() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    fail_next(&app.state.db, "find", 10107, 2).await;
    let response = app.get_user(&user.token, &user.id).await;
    response.assert_status(503);
    assert_eq!(response.message(), "Database is unavailable, please retry.");
    assert_eq!(response.headers["retry-after"], "1");
    let after = app.get_user(&user.token, &user.id).await;
    after.assert_status(200);
}
