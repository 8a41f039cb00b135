//! Payments: the record kept per (user, cuid), what clients see of it, and
//! the steps that keep it and Stripe in agreement.

mod dto;
mod flow;
mod store;

pub use dto::{PaymentCreatedDto, PaymentDto};
pub use flow::{confirm, create, refresh};
pub use store::{parse_cursor, EventOutcome, Page, Payments};

use mongodb::bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

/// One PaymentIntent as stored in the `payments` collection. References are
/// hex strings (nx-27017 cannot filter on non-`_id` ObjectIds); money is
/// integer cents.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    #[serde(rename = "_id")]
    pub object_id: ObjectId,
    pub user_id: String,
    pub cuid: String,
    pub intent_id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    #[serde(default)]
    pub payment_method: Option<String>,
    pub created_at: DateTime,
    /// When the stored status became known (a webhook event's `created`, or
    /// the time we last asked Stripe); older and replayed events change nothing.
    #[serde(default)]
    pub status_event_at: i64,
    /// Id of the last webhook event applied; "" until one is. (Never null:
    /// nx-27017's updates do not match `$ne` against a null field.)
    #[serde(default)]
    pub last_event_id: String,
}
