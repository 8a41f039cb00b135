use std::time::SystemTime;

use mongodb::{
    bson::{doc, oid::ObjectId, DateTime},
    Collection, Database,
};
use serde::{Deserialize, Serialize};

use super::{user_oid, StoreError};
use crate::domain::{Cuid, UserId};

/// One (user, cuid) a create began for, written before Stripe is called.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimDocument {
    user_id: ObjectId,
    cuid: Cuid,
    claimed_at: DateTime,
}

/// The `paymentClaims` collection: which creates began, so that a retry
/// whose first attempt died between Stripe's answer and our record knows
/// to look for the PaymentIntent at Stripe before making one. Stripe's
/// idempotency key covers that gap for 24 hours; the claim covers it for
/// as long as the claim is kept.
#[derive(Clone)]
pub struct PaymentClaims(Collection<ClaimDocument>);

impl PaymentClaims {
    pub fn new(db: &Database) -> Self {
        Self(db.collection(COLLECTION))
    }

    /// Claims (user, cuid): `None` for the first claim, else when the first
    /// one was made (its request may have died after Stripe acted, or may
    /// still be running).
    pub async fn claim(&self, user: UserId, cuid: &Cuid) -> Result<Option<SystemTime>, StoreError> {
        let claim = ClaimDocument { user_id: user_oid(user), cuid: cuid.clone(), claimed_at: DateTime::now() };
        match self.0.insert_one(claim).await.map_err(StoreError::from) {
            Ok(_) => Ok(None),
            Err(StoreError::Duplicate(_)) => {
                let first = self.0.find_one(doc! { "userId": user_oid(user), "cuid": cuid.as_str() }).await?;
                // Unreadable right after its insert was refused (a failover):
                // look from now back, as the skew allows.
                Ok(Some(first.map_or_else(SystemTime::now, |claim| claim.claimed_at.to_system_time())))
            }
            Err(err) => Err(err),
        }
    }
}

pub(super) const COLLECTION: &str = "paymentClaims";
