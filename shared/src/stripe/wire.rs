//! Stripe's objects as it sends them: only the fields this API reads, so
//! the binary carries no deserialiser for the rest of Stripe's schema.

use std::collections::HashMap;

use serde::Deserialize;

#[derive(Deserialize)]
pub struct Customer {
    pub id: String,
}

#[derive(Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub payment_method: Option<Expandable<Identified>>,
    pub client_secret: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    pub latest_charge: Option<Expandable<Charge>>,
}

#[derive(Deserialize)]
pub struct Identified {
    pub id: String,
}

#[derive(Deserialize)]
pub struct Charge {
    #[serde(default)]
    pub amount_refunded: i64,
    #[serde(default)]
    pub disputed: bool,
}

/// A field Stripe sends as an id, or as the object when asked to expand it.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    Id(String),
    Object(T),
}

impl Expandable<Identified> {
    pub fn id(&self) -> &str {
        match self {
            Self::Id(id) => id,
            Self::Object(object) => &object.id,
        }
    }
}

impl<T> Expandable<T> {
    pub fn object(&self) -> Option<&T> {
        match self {
            Self::Id(_) => None,
            Self::Object(object) => Some(object),
        }
    }
}

#[derive(Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: Option<String>,
}

/// The body of every error answer: `{"error": {...}}`.
#[derive(Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

#[derive(Debug, Default, Deserialize)]
pub struct ApiError {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub code: Option<String>,
    pub message: Option<String>,
    pub param: Option<String>,
}
