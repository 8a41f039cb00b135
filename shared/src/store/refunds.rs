use mongodb::{
    bson::{doc, DateTime},
    Collection, Database,
};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::domain::{Cuid, PaymentIntentId, Refund, RefundId, RefundStatus};

/// One refund as stored in the `refunds` collection.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundDocument {
    #[serde(rename = "_id")]
    id: RefundId,
    intent_id: PaymentIntentId,
    cuid: Cuid,
    amount: i64,
    status: RefundStatus,
    created_at: DateTime,
}

impl From<RefundDocument> for Refund {
    fn from(doc: RefundDocument) -> Self {
        let RefundDocument { id, intent_id, cuid, amount, status, created_at: _ } = doc;
        Self { id, intent_id, cuid, amount, status }
    }
}

/// The `refunds` collection: one refund per (payment, cuid), kept for as
/// long as the payment, past Stripe's 24-hour idempotency window.
#[derive(Clone)]
pub struct Refunds(Collection<RefundDocument>);

impl Refunds {
    pub fn new(db: &Database) -> Self {
        Self(db.collection(COLLECTION))
    }

    pub async fn by_cuid(&self, intent: &PaymentIntentId, cuid: &Cuid) -> Result<Option<Refund>, StoreError> {
        Ok(self.0.find_one(doc! { "intentId": intent.as_str(), "cuid": cuid.as_str() }).await?.map(Refund::from))
    }

    /// Stores the refund; a concurrent request that stored it first is fine.
    pub async fn insert(&self, refund: &Refund) -> Result<(), StoreError> {
        let doc = RefundDocument {
            id: refund.id.clone(),
            intent_id: refund.intent_id.clone(),
            cuid: refund.cuid.clone(),
            amount: refund.amount,
            status: refund.status,
            created_at: DateTime::now(),
        };
        match self.0.insert_one(doc).await.map_err(StoreError::from) {
            Ok(_) | Err(StoreError::Duplicate(_)) => Ok(()),
            Err(err) => Err(err),
        }
    }
}

pub(super) const COLLECTION: &str = "refunds";
