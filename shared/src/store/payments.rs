use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, oid::ObjectId, DateTime, Document},
    options::ReturnDocument,
    Collection, Database,
};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::domain::{
    Cuid, Currency, Cursor, Intent, PageLimit, Payment, PaymentIntentId, PaymentMethodId, PaymentStatus, UserId,
};

/// One PaymentIntent as stored in the `payments` collection.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentDocument {
    #[serde(rename = "_id")]
    record: ObjectId,
    user_id: UserId,
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
            created_at: _,
        } = doc;
        Self { record, user_id, cuid, intent_id, amount, currency, status, payment_method, amount_refunded, disputed }
    }
}

/// The `payments` collection. The unique index on (userId, cuid) makes the
/// cuid an idempotency key that outlives Stripe's 24-hour window.
#[derive(Clone)]
pub struct Payments(Collection<PaymentDocument>);

/// One page of a user's payments, newest first.
pub struct Page {
    pub payments: Vec<Payment>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

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
        self.one(doc! { "userId": user.object_id(), "cuid": cuid.as_str() }).await
    }

    /// The user's payment with that intent id; someone else's is `None`.
    pub async fn owned(&self, user: UserId, intent: &PaymentIntentId) -> Result<Option<Payment>, StoreError> {
        self.one(doc! { "userId": user.object_id(), "intentId": intent.as_str() }).await
    }

    pub async fn by_intent(&self, intent: &PaymentIntentId) -> Result<Option<Payment>, StoreError> {
        self.one(doc! { "intentId": intent.as_str() }).await
    }

    /// Stores a new payment; `false` if its (user, cuid) or its intent was
    /// stored first by a concurrent request.
    pub async fn insert(&self, payment: &Payment) -> Result<bool, StoreError> {
        let doc = PaymentDocument {
            record: payment.record,
            user_id: payment.user_id,
            cuid: payment.cuid.clone(),
            intent_id: payment.intent_id.clone(),
            amount: payment.amount,
            currency: payment.currency.clone(),
            status: payment.status,
            payment_method: payment.payment_method.clone(),
            amount_refunded: payment.amount_refunded,
            disputed: payment.disputed,
            created_at: DateTime::now(),
        };
        match self.0.insert_one(doc).await.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::Duplicate(_)) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Stores what Stripe says about the intent, moving the status only
    /// where the state machine allows: a stale answer changes nothing.
    pub async fn record(&self, intent: &Intent) -> Result<Recorded, StoreError> {
        let method = intent.payment_method.as_ref().map(PaymentMethodId::as_str);
        let details =
            doc! { "paymentMethod": method, "amountRefunded": intent.amount_refunded, "disputed": intent.disputed };
        let predecessors: Vec<&str> = intent.status.predecessors().into_iter().map(PaymentStatus::as_str).collect();
        let moved = doc! { "intentId": intent.id.as_str(), "status": { "$in": predecessors } };
        let mut set = details.clone();
        set.insert("status", intent.status.as_str());
        if let Some(payment) = self.set(moved, set, ReturnDocument::After).await? {
            return Ok(Recorded::Moved(payment));
        }
        let same = doc! { "intentId": intent.id.as_str(), "status": intent.status.as_str() };
        if let Some(mut payment) = self.set(same, details, ReturnDocument::Before).await? {
            let changed = (&payment.payment_method, payment.amount_refunded, payment.disputed)
                != (&intent.payment_method, intent.amount_refunded, intent.disputed);
            payment.payment_method = intent.payment_method.clone();
            payment.amount_refunded = intent.amount_refunded;
            payment.disputed = intent.disputed;
            return Ok(if changed { Recorded::Moved(payment) } else { Recorded::Unchanged(payment) });
        }
        Ok(match self.one(doc! { "intentId": intent.id.as_str() }).await? {
            Some(payment) => Recorded::Unchanged(payment),
            None => Recorded::Unknown,
        })
    }

    pub async fn page(&self, user: UserId, limit: PageLimit, after: Option<Cursor>) -> Result<Page, StoreError> {
        let mut filter = doc! { "userId": user.object_id() };
        if let Some(after) = after {
            filter.insert("_id", doc! { "$lt": after.record() });
        }
        let limit = limit.get() as usize;
        let cursor = self.0.find(filter).sort(doc! { "_id": -1 }).limit(limit as i64 + 1).await?;
        let mut payments: Vec<Payment> = cursor.map_ok(Payment::from).try_collect().await?;
        let more = payments.len() > limit;
        payments.truncate(limit);
        let next = if more { payments.last().map(|p| Cursor::after(p.record)) } else { None };
        Ok(Page { payments, next })
    }

    async fn one(&self, filter: Document) -> Result<Option<Payment>, StoreError> {
        Ok(self.0.find_one(filter).await?.map(Payment::from))
    }

    async fn set(
        &self,
        filter: Document,
        mut set: Document,
        give: ReturnDocument,
    ) -> Result<Option<Payment>, StoreError> {
        set.insert("updatedAt", DateTime::now());
        let updated = self.0.find_one_and_update(filter, doc! { "$set": set }).return_document(give).await?;
        Ok(updated.map(Payment::from))
    }
}

pub(super) const COLLECTION: &str = "payments";
