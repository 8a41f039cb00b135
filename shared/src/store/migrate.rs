//! Brings a database to the schema the code expects. Idempotent: safe on
//! every deploy and on a fresh database.

use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, oid::ObjectId, Bson, Document},
    options::IndexOptions,
    Database, IndexModel,
};

use super::{attempts, claims, payments, refunds, users, StoreError};

/// What one run changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    /// Payments whose `userId` was upgraded from a hex string to an ObjectId.
    pub payments_upgraded: u64,
}

/// Converts documents written by earlier versions, then creates the indexes
/// that settle races (one account per email, one payment per user and
/// idempotency key, one record per intent, one claim per user and idempotency key, one refund per payment and
/// idempotency key) and serve the queries.
pub async fn migrate(db: &Database) -> Result<Migrated, StoreError> {
    let payments_upgraded = upgrade_payment_references(db).await?;
    let unique = |keys| IndexModel::builder().keys(keys).options(IndexOptions::builder().unique(true).build()).build();
    let users = db.collection::<Document>(users::COLLECTION);
    users.create_index(unique(doc! { "email": 1 })).await?;
    let payments = db.collection::<Document>(payments::COLLECTION);
    payments.create_index(unique(doc! { "userId": 1, "cuid": 1 })).await?;
    payments.create_index(unique(doc! { "intentId": 1 })).await?;
    // GET /payment: one user's payments, newest first, from the index alone.
    payments.create_index(IndexModel::builder().keys(doc! { "userId": 1, "_id": -1 }).build()).await?;
    let claims = db.collection::<Document>(claims::COLLECTION);
    claims.create_index(unique(doc! { "userId": 1, "cuid": 1 })).await?;
    let refunds = db.collection::<Document>(refunds::COLLECTION);
    refunds.create_index(unique(doc! { "intentId": 1, "cuid": 1 })).await?;
    // Login counters remove themselves a day after their last attempt.
    let expiring = IndexOptions::builder().expire_after(std::time::Duration::ZERO).build();
    let attempts = db.collection::<Document>(attempts::COLLECTION);
    attempts.create_index(IndexModel::builder().keys(doc! { "expiresAt": 1 }).options(expiring).build()).await?;
    Ok(Migrated { payments_upgraded })
}

/// Versions before 0.2 stored `payments.userId` as 24 hex digits; it is an
/// ObjectId, like the `users._id` it names. The webhook-ordering fields of
/// that version are dropped with it.
async fn upgrade_payment_references(db: &Database) -> Result<u64, StoreError> {
    let payments = db.collection::<Document>(payments::COLLECTION);
    let mut cursor = payments.find(doc! {}).projection(doc! { "userId": 1 }).await?;
    let mut upgraded = 0;
    while let Some(payment) = cursor.try_next().await? {
        let (Some(Bson::ObjectId(record)), Some(Bson::String(hex))) = (payment.get("_id"), payment.get("userId"))
        else {
            continue;
        };
        let Ok(user) = ObjectId::parse_str(hex) else {
            tracing::warn!(payment = %record, "payment names no valid user; left as it is");
            continue;
        };
        let update = doc! { "$set": { "userId": user }, "$unset": { "statusEventAt": "", "lastEventId": "" } };
        upgraded += payments.update_one(doc! { "_id": record }, update).await?.modified_count;
    }
    Ok(upgraded)
}
