use mongodb::{
    bson::{doc, Bson, DateTime},
    Collection, Database,
};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::domain::{Cuid, PaymentIntentId, Refund, RefundAmount, RefundId, RefundStatus};

/// One refund as stored in the `refunds` collection: reserved under
/// (payment, cuid) before Stripe is called, then settled with Stripe's
/// refund. Documents of versions before 0.3 have the refund id as `_id` and
/// no `requested`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundDocument {
    #[serde(rename = "_id", skip_serializing)]
    key: Option<Bson>,
    intent_id: PaymentIntentId,
    cuid: Cuid,
    /// What the client asked for: `None` for everything left. Before 0.3
    /// absent, and the document already settled.
    #[serde(default)]
    requested: Option<i64>,
    #[serde(default)]
    refund_id: Option<RefundId>,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    status: Option<RefundStatus>,
    created_at: DateTime,
}

/// A refund asked for under one (payment, cuid).
#[derive(Debug, Clone)]
pub struct RefundReservation {
    /// `None` for a refund stored before 0.3, which kept only what Stripe
    /// refunded.
    pub requested: Option<RefundAmount>,
    /// Stripe's refund, once its answer was stored.
    pub refund: Option<Refund>,
}

impl RefundDocument {
    fn reservation(self) -> Result<RefundReservation, StoreError> {
        let legacy_id = match &self.key {
            Some(Bson::String(id)) => RefundId::parse(id).ok(),
            _ => None,
        };
        let refund = match (self.refund_id.or(legacy_id), self.amount, self.status) {
            (Some(id), Some(amount), Some(status)) => {
                Some(Refund { id, intent_id: self.intent_id, cuid: self.cuid, amount, status })
            }
            _ => None,
        };
        let requested = match (self.requested, &refund) {
            // Written from a valid RefundAmount; anything else is corrupt.
            (Some(cents), _) => Some(RefundAmount::of(cents).map_err(|_| StoreError::Malformed("refunds.requested"))?),
            (None, Some(_)) => None,
            (None, None) => Some(RefundAmount::REST),
        };
        Ok(RefundReservation { requested, refund })
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

    pub async fn by_cuid(
        &self,
        intent: &PaymentIntentId,
        cuid: &Cuid,
    ) -> Result<Option<RefundReservation>, StoreError> {
        let found = self.0.find_one(doc! { "intentId": intent.as_str(), "cuid": cuid.as_str() }).await?;
        found.map(RefundDocument::reservation).transpose()
    }

    /// Reserves (payment, cuid) for a refund of `requested`; the
    /// reservation a concurrent request made first, if there is one.
    pub async fn reserve(
        &self,
        intent: &PaymentIntentId,
        cuid: &Cuid,
        requested: RefundAmount,
    ) -> Result<Option<RefundReservation>, StoreError> {
        let doc = RefundDocument {
            key: None,
            intent_id: intent.clone(),
            cuid: cuid.clone(),
            requested: requested.get(),
            refund_id: None,
            amount: None,
            status: None,
            created_at: DateTime::now(),
        };
        match self.0.insert_one(doc).await.map_err(StoreError::from) {
            Ok(_) => Ok(None),
            Err(StoreError::Duplicate(_)) => self.by_cuid(intent, cuid).await,
            Err(err) => Err(err),
        }
    }

    /// Gives a reservation Stripe's refund, or moves a settled one to the
    /// refund's current status where a refund's life allows it; whether
    /// anything changed.
    pub async fn settle(&self, refund: &Refund) -> Result<bool, StoreError> {
        let earlier: Vec<Bson> = refund
            .status
            .predecessors()
            .into_iter()
            .map(|status| Bson::String(status.as_str().to_owned()))
            .chain([Bson::Null])
            .collect();
        let filter =
            doc! { "intentId": refund.intent_id.as_str(), "cuid": refund.cuid.as_str(), "status": { "$in": earlier } };
        let set = doc! {
            "refundId": refund.id.as_str(), "amount": refund.amount, "status": refund.status.as_str(),
            "updatedAt": DateTime::now(),
        };
        // Upserted: a refund Stripe made is recorded even when its
        // reservation is gone. A record already at or past this status
        // makes the insert a duplicate, which changes nothing.
        let update = doc! { "$set": set, "$setOnInsert": { "createdAt": DateTime::now() } };
        match self.0.update_one(filter, update).upsert(true).await.map_err(StoreError::from) {
            Ok(done) => Ok(done.modified_count > 0 || done.upserted_id.is_some()),
            Err(StoreError::Duplicate(_)) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Drops a reservation Stripe refused outright, so the cuid can be
    /// used again; a settled refund is never dropped.
    pub async fn release(&self, intent: &PaymentIntentId, cuid: &Cuid) -> Result<(), StoreError> {
        let unsettled = doc! { "intentId": intent.as_str(), "cuid": cuid.as_str(), "status": null };
        self.0.delete_one(unsettled).await?;
        Ok(())
    }
}

pub(super) const COLLECTION: &str = "refunds";
