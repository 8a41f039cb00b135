//! The MongoDB stand-in (nx-27017, through tools/nx27017_launcher.py)
//! behaves as MongoDB documents where this API's schema depends on it.
//! Each test is one patch of the launcher.

use api_tests::services_db;
use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, oid::ObjectId, Document},
    error::ErrorKind,
    options::{IndexOptions, ReturnDocument},
    IndexModel,
};

#[tokio::test]
async fn a_filter_on_an_object_id_field_other_than_id_matches_it() {
    let db = services_db().await;
    let things = db.collection::<Document>("things");
    let (owner, other) = (ObjectId::new(), ObjectId::new());
    things.insert_many([doc! { "owner": owner, "n": 1 }, doc! { "owner": other, "n": 2 }]).await.unwrap();
    let found: Vec<Document> = things.find(doc! { "owner": owner }).await.unwrap().try_collect().await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].get_i32("n").unwrap(), 1);
    let updated = things.update_one(doc! { "owner": owner, "n": 1 }, doc! { "$set": { "n": 3 } }).await.unwrap();
    assert_eq!(updated.matched_count, 1, "updates match it too");
    assert_eq!(
        things.count_documents(doc! { "owner": owner.to_hex() }).await.unwrap(),
        0,
        "a hex string is not an ObjectId"
    );
}

#[tokio::test]
async fn find_one_and_update_reports_a_duplicate_key() {
    let db = services_db().await;
    let people = db.collection::<Document>("people");
    let unique = IndexOptions::builder().unique(true).build();
    people.create_index(IndexModel::builder().keys(doc! { "email": 1 }).options(unique).build()).await.unwrap();
    people.insert_one(doc! { "email": "a@example.com" }).await.unwrap();
    let b = people.insert_one(doc! { "email": "b@example.com" }).await.unwrap().inserted_id;
    let err = people
        .find_one_and_update(doc! { "_id": b }, doc! { "$set": { "email": "a@example.com" } })
        .return_document(ReturnDocument::After)
        .await
        .expect_err("MongoDB fails the command with E11000");
    assert!(matches!(err.kind.as_ref(), ErrorKind::Command(command) if command.code == 11000), "{err:?}");
}

#[tokio::test]
async fn a_unique_index_over_repeated_keys_fails_with_a_duplicate_key() {
    let db = services_db().await;
    let people = db.collection::<Document>("people");
    people.insert_many([doc! { "email": "a@example.com" }, doc! { "email": "a@example.com" }]).await.unwrap();
    let unique = IndexOptions::builder().unique(true).build();
    let err = people
        .create_index(IndexModel::builder().keys(doc! { "email": 1 }).options(unique).build())
        .await
        .expect_err("MongoDB refuses the index with E11000");
    assert!(matches!(err.kind.as_ref(), ErrorKind::Command(command) if command.code == 11000), "{err:?}");
}

#[tokio::test]
async fn a_compound_index_naming_id_is_accepted_and_serves_writes() {
    let db = services_db().await;
    let things = db.collection::<Document>("listed");
    things.create_index(IndexModel::builder().keys(doc! { "owner": 1, "_id": -1 }).build()).await.unwrap();
    let owner = ObjectId::new();
    for n in 0..3 {
        things.insert_one(doc! { "owner": owner, "n": n }).await.unwrap();
    }
    let newest: Vec<Document> = things
        .find(doc! { "owner": owner })
        .sort(doc! { "_id": -1 })
        .limit(2)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let ns: Vec<i32> = newest.iter().map(|d| d.get_i32("n").unwrap()).collect();
    assert_eq!(ns, [2, 1]);
}

#[tokio::test]
async fn set_keeps_booleans_and_dates_as_their_bson_types() {
    let db = services_db().await;
    let things = db.collection::<Document>("typed");
    let id = things.insert_one(doc! { "flag": true }).await.unwrap().inserted_id;
    let when = mongodb::bson::DateTime::from_millis(1_795_521_600_000);
    things.update_one(doc! { "_id": id.clone() }, doc! { "$set": { "flag": false, "at": when } }).await.unwrap();
    let stored = things.find_one(doc! { "_id": id }).await.unwrap().unwrap();
    assert_eq!(stored.get_bool("flag"), Ok(false), "{stored:?}");
    assert_eq!(stored.get_datetime("at"), Ok(&when), "{stored:?}");
}

#[tokio::test]
async fn an_or_beside_other_fields_is_anded_with_them() {
    let db = services_db().await;
    let things = db.collection::<Document>("things");
    things.insert_many([doc! { "k": 1, "seen": 5 }, doc! { "k": 2 }, doc! { "k": 3, "seen": 1 }]).await.unwrap();
    let filter = doc! { "k": 1, "$or": [{ "seen": { "$lt": 3 } }, { "seen": null }] };
    let found: Vec<Document> = things.find(filter).await.unwrap().try_collect().await.unwrap();
    assert!(found.is_empty(), "k = 1 has seen = 5, so neither branch holds: {found:?}");
    let filter = doc! { "k": 2, "$or": [{ "seen": { "$lt": 3 } }, { "seen": null }] };
    let found: Vec<Document> = things.find(filter).await.unwrap().try_collect().await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].get_i32("k").unwrap(), 2);
}

#[tokio::test]
async fn dates_compare_to_the_millisecond() {
    let db = services_db().await;
    let things = db.collection::<Document>("things");
    let start = mongodb::bson::DateTime::from_millis(1_700_000_000_000);
    things.insert_one(doc! { "k": 1, "seen": start, "n": 0 }).await.unwrap();
    for n in 1..=3_i64 {
        let seen = mongodb::bson::DateTime::from_millis(1_700_000_000_000 + n * 10);
        let filter = doc! { "k": 1, "$or": [{ "seen": { "$lt": seen } }, { "seen": null }] };
        let update = doc! { "$set": { "seen": seen, "n": n, "flag": true } };
        let before = things.find_one_and_update(filter, update).await.unwrap();
        assert!(before.is_some(), "the read {n}0 ms later is later than the stored one");
    }
    let stale = doc! { "k": 1, "$or": [{ "seen": { "$lt": start } }, { "seen": null }] };
    assert!(things.find_one_and_update(stale, doc! { "$set": { "n": -1 } }).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_find_one_and_update_calls_each_see_their_own_pre_image() {
    let db = services_db().await;
    let counters = db.collection::<Document>("counters");
    counters.insert_one(doc! { "_id": "c", "n": 0 }).await.unwrap();
    let calls = (0..20).map(|_| {
        let counters = counters.clone();
        tokio::spawn(async move {
            let before = counters
                .find_one_and_update(doc! { "_id": "c" }, doc! { "$inc": { "n": 1 } })
                .return_document(ReturnDocument::Before)
                .await
                .unwrap()
                .unwrap();
            before.get_i32("n").unwrap()
        })
    });
    let mut seen: Vec<i32> = futures_util::future::join_all(calls).await.into_iter().map(Result::unwrap).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..20).collect::<Vec<_>>(), "each increment saw the one before it");
}
