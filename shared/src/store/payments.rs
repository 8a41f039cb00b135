use std::time::SystemTime;

use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, oid::ObjectId, DateTime, Document},
    options::ReturnDocument,
    Collection, Database,
};
use serde::{Deserialize, Serialize};

use super::{oid, record_of, user_oid, StoreError};
use crate::domain::{
    Cuid, Currency, Cursor, Intent, Page, PageLimit, Payment, PaymentIntentId, PaymentMethodId, PaymentStatus, UserId,
};

/// One PaymentIntent as stored in the `payments` collection.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentDocument {
    #[serde(rename = "_id")]
    record: ObjectId,
    user_id: ObjectId,
    cuid: Cuid,
    intent_id: PaymentIntentId,
    amount: i64,
    currency: Currency,
    status: PaymentStatus,
    #[serde(default)]
    payment_method: Option<PaymentMethodId>,
    #[serde(default)]
    amount_refunded: i64,
    #[serde(default)]
    disputed: bool,
    #[serde(default)]
    confirm_attempts: u32,
    /// When the read of Stripe behind `amountRefunded`, `disputed` and
    /// `paymentMethod` was sent; only a later read replaces them.
    #[serde(default)]
    seen_at: Option<DateTime>,
    created_at: DateTime,
}

impl From<PaymentDocument> for Payment {
    fn from(doc: PaymentDocument) -> Self {
        let PaymentDocument {
            record,
            user_id,
            cuid,
            intent_id,
            amount,
            currency,
            status,
            payment_method,
            amount_refunded,
            disputed,
            confirm_attempts,
            seen_at: _,
            created_at: _,
        } = doc;
        Self {
            record: record_of(record),
            user_id: UserId::from(record_of(user_id)),
            cuid,
            intent_id,
            amount,
            currency,
            status,
            payment_method,
            amount_refunded,
            disputed,
            confirm_attempts,
        }
    }
}

/// The `payments` collection. The unique index on (userId, cuid) makes the
/// cuid an idempotency key that outlives Stripe's 24-hour window.
#[derive(Clone)]
pub struct Payments(Collection<PaymentDocument>);

/// What storing Stripe's view of an intent did.
#[derive(Debug)]
pub enum Recorded {
    /// The status moved forward (or the payment method changed beside it).
    Moved(Payment),
    /// The record already said as much, or the state machine refused the
    /// move; it is returned as it stands.
    Unchanged(Payment),
    /// No record has that intent.
    Unknown,
}

impl Payments {
    pub fn new(db: &Database) -> Self {
        Self(db.collection(COLLECTION))
    }

    pub async fn by_cuid(&self, user: UserId, cuid: &Cuid) -> Result<Option<Payment>, StoreError> {
        self.one(doc! { "userId": user_oid(user), "cuid": cuid.as_str() }).await
    }

    /// The user's payment with that intent id; someone else's is `None`.
    pub async fn owned(&self, user: UserId, intent: &PaymentIntentId) -> Result<Option<Payment>, StoreError> {
        self.one(doc! { "userId": user_oid(user), "intentId": intent.as_str() }).await
    }

    pub async fn by_intent(&self, intent: &PaymentIntentId) -> Result<Option<Payment>, StoreError> {
        self.one(doc! { "intentId": intent.as_str() }).await
    }

    /// Stores a new payment, as Stripe showed it at `seen_at`; `false` if its
    /// (user, cuid) or its intent was stored first by a concurrent request.
    pub async fn insert(&self, payment: &Payment, seen_at: SystemTime) -> Result<bool, StoreError> {
        let doc = PaymentDocument {
            record: oid(payment.record),
            user_id: user_oid(payment.user_id),
            cuid: payment.cuid.clone(),
            intent_id: payment.intent_id.clone(),
            amount: payment.amount,
            currency: payment.currency.clone(),
            status: payment.status,
            payment_method: payment.payment_method.clone(),
            amount_refunded: payment.amount_refunded,
            disputed: payment.disputed,
            confirm_attempts: payment.confirm_attempts,
            seen_at: Some(DateTime::from_system_time(seen_at)),
            created_at: DateTime::now(),
        };
        match self.0.insert_one(doc).await.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::Duplicate(_)) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Stores what Stripe says about the intent. The status moves only where
    /// the state machine allows, and the details (what was refunded, the
    /// dispute, the payment method) only for a read sent after the one that
    /// set them: an older read that lands later changes nothing, while a
    /// newer one may lower `amountRefunded` (a refund that failed).
    pub async fn record(&self, intent: &Intent) -> Result<Recorded, StoreError> {
        let id = intent.id.as_str();
        let seen_at = DateTime::from_system_time(intent.read_at);
        let older = || doc! { "$or": [{ "seenAt": { "$lt": seen_at } }, { "seenAt": null }] };
        let predecessors: Vec<&str> = intent.status.predecessors().into_iter().map(PaymentStatus::as_str).collect();
        let mut forward = doc! { "intentId": id, "status": { "$in": predecessors } };
        // The unfinished statuses move into each other (a failed attempt
        // starts over): between them, only a later read may move the record.
        // Succeeded and canceled are the end, whenever they are read.
        if !intent.status.is_final() {
            forward.extend(older());
        }
        let moved = self.set(forward, doc! { "status": intent.status.as_str() }).await?.is_some();
        let method = intent.payment_method.as_ref().map(PaymentMethodId::as_str);
        let details = doc! {
            "paymentMethod": method, "amountRefunded": intent.amount_refunded, "disputed": intent.disputed,
            "seenAt": seen_at,
        };
        let mut fresher = doc! { "intentId": id };
        fresher.extend(older());
        let changed = self.set(fresher, details).await?.is_some_and(|before| {
            (&before.payment_method, before.amount_refunded, before.disputed)
                != (&intent.payment_method, intent.amount_refunded, intent.disputed)
        });
        Ok(match self.one(doc! { "intentId": id }).await? {
            Some(payment) if moved || changed => Recorded::Moved(payment),
            Some(payment) => Recorded::Unchanged(payment),
            None => Recorded::Unknown,
        })
    }

    /// Counts a confirmation Stripe answered, once however many requests
    /// report the same answer: the next confirmation is a new attempt.
    pub async fn count_confirmation(&self, intent: &PaymentIntentId, attempt: u32) -> Result<(), StoreError> {
        let this_attempt = if attempt == 0 {
            doc! { "$in": [0, null] }
        } else {
            doc! { "$eq": attempt }
        };
        let filter = doc! { "intentId": intent.as_str(), "confirmAttempts": this_attempt };
        self.0.update_one(filter, doc! { "$inc": { "confirmAttempts": 1 } }).await?;
        Ok(())
    }

    /// One page of the user's payments, newest first.
    pub async fn page(
        &self,
        user: UserId,
        limit: PageLimit,
        after: Option<Cursor>,
    ) -> Result<Page<Payment>, StoreError> {
        let mut filter = doc! { "userId": user_oid(user) };
        if let Some(after) = after {
            filter.insert("_id", doc! { "$lt": oid(after.record()) });
        }
        let cursor = self.0.find(filter).sort(doc! { "_id": -1 }).limit(i64::from(limit.get()) + 1).await?;
        let payments: Vec<Payment> = cursor.map_ok(Payment::from).try_collect().await?;
        Ok(Page::of(payments, limit, |payment| payment.record))
    }

    async fn one(&self, filter: Document) -> Result<Option<Payment>, StoreError> {
        Ok(self.0.find_one(filter).await?.map(Payment::from))
    }

    /// Sets fields of the payment `filter` matches; what it was before, if
    /// one did.
    async fn set(&self, filter: Document, mut set: Document) -> Result<Option<Payment>, StoreError> {
        set.insert("updatedAt", DateTime::now());
        let before = self.0.find_one_and_update(filter, doc! { "$set": set }).return_document(ReturnDocument::Before);
        Ok(before.await?.map(Payment::from))
    }
}

pub(super) const COLLECTION: &str = "payments";
