use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, oid::ObjectId, DateTime},
    Collection, Database,
};

use super::Payment;
use crate::{
    db::{is_duplicate_key, unavailable},
    domain::UserId,
    http::ApiError,
    stripe::Intent,
};

/// The `payments` collection. The unique index on (userId, cuid) makes the
/// cuid an idempotency key that outlives Stripe's 24-hour window.
pub struct Payments(Collection<Payment>);

/// One page of a user's payments, newest first.
pub struct Page {
    pub payments: Vec<Payment>,
    /// Where the next page starts, if there is one.
    pub next: Option<ObjectId>,
}

impl Payments {
    pub fn new(db: &Database) -> Self {
        Self(db.collection("payments"))
    }

    pub async fn by_cuid(&self, user: UserId, cuid: &str) -> Result<Option<Payment>, ApiError> {
        self.0.find_one(doc! { "userId": user.to_string(), "cuid": cuid }).await.map_err(unavailable)
    }

    /// The user's payment with that intent id; someone else's is `None`.
    pub async fn owned(&self, user: UserId, intent: &str) -> Result<Option<Payment>, ApiError> {
        self.0.find_one(doc! { "userId": user.to_string(), "intentId": intent }).await.map_err(unavailable)
    }

    /// Stores a new payment; `false` if its (user, cuid) was stored first by
    /// a concurrent request.
    pub async fn insert(&self, payment: &Payment) -> Result<bool, ApiError> {
        match self.0.insert_one(payment).await {
            Ok(_) => Ok(true),
            Err(err) if is_duplicate_key(&err) => Ok(false),
            Err(err) => Err(unavailable(err)),
        }
    }

    /// Records what Stripe just said about the intent. The status is then
    /// known as of now, so webhook events created earlier cannot undo it.
    pub async fn record(&self, intent: &Intent) -> Result<(), ApiError> {
        let set = doc! {
            "status": &intent.status,
            "paymentMethod": intent.payment_method.as_deref(),
            "statusEventAt": unix_now(),
            "updatedAt": DateTime::now(),
        };
        self.0.update_one(doc! { "intentId": &intent.id }, doc! { "$set": set }).await.map(drop).map_err(unavailable)
    }

    /// Applies a webhook event's status unless the payment's status is
    /// already newer, or this very event was applied. Answers whether a
    /// payment matched the intent.
    pub async fn apply_event(
        &self,
        intent: &str,
        event: &str,
        status: &str,
        created: i64,
    ) -> Result<EventOutcome, ApiError> {
        let filter = doc! { "intentId": intent, "statusEventAt": { "$lte": created }, "lastEventId": { "$ne": event } };
        let set =
            doc! { "status": status, "statusEventAt": created, "lastEventId": event, "updatedAt": DateTime::now() };
        let result = self.0.update_one(filter, doc! { "$set": set }).await.map_err(unavailable)?;
        if result.matched_count > 0 {
            return Ok(EventOutcome::Applied);
        }
        let known = self.0.find_one(doc! { "intentId": intent }).await.map_err(unavailable)?.is_some();
        Ok(if known { EventOutcome::AlreadyApplied } else { EventOutcome::UnknownIntent })
    }

    pub async fn page(&self, user: UserId, limit: u32, before: Option<ObjectId>) -> Result<Page, ApiError> {
        let mut filter = doc! { "userId": user.to_string() };
        if let Some(before) = before {
            filter.insert("_id", doc! { "$lt": before });
        }
        let cursor =
            self.0.find(filter).sort(doc! { "_id": -1 }).limit(i64::from(limit) + 1).await.map_err(unavailable)?;
        let mut payments: Vec<Payment> = cursor.try_collect().await.map_err(unavailable)?;
        let more = payments.len() > limit as usize;
        payments.truncate(limit as usize);
        let next = if more { payments.last().map(|p| p.object_id) } else { None };
        Ok(Page { payments, next })
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A page cursor as `x-next-cursor` hands it out: the last payment's id.
pub fn parse_cursor(raw: &str) -> Result<ObjectId, crate::domain::Invalid> {
    ObjectId::parse_str(raw).map_err(|_| crate::domain::Invalid("must be a cursor from x-next-cursor"))
}

#[derive(Debug, PartialEq, Eq)]
pub enum EventOutcome {
    Applied,
    AlreadyApplied,
    UnknownIntent,
}
