//! Stripe's signed webhook deliveries, verified (`stripe::webhook`) and
//! read at the edge.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::{ApiError, Body, Request};
use crate::{
    domain::{PaymentIntentId, RefundId},
    stripe::webhook,
    telemetry,
};

/// What a verified event asks of us.
#[derive(Debug, PartialEq, Eq)]
pub enum Notification {
    /// Something happened to this PaymentIntent (or to its charge).
    Intent(PaymentIntentId),
    /// Something happened to this refund (it was made, or it failed).
    Refund(RefundId),
    /// Nothing we keep (another type, or a shape we cannot read).
    Ignored,
}

/// Verifies the `Stripe-Signature` header against the endpoint's secret and
/// reads the event. The signature is the sender's credential: a bad or
/// missing one is 401. A signed event we
/// cannot read is acknowledged (and logged), or Stripe would retry it for
/// days. Only what names the PaymentIntent is read: the intent itself is
/// then fetched from Stripe.
pub fn stripe_notification(req: &Request, secret: &str) -> Result<Notification, ApiError> {
    let invalid = || ApiError::Unauthorized("Invalid Stripe signature.");
    let Some(signature) = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok()) else {
        telemetry::count("WebhookEventsRejected");
        return Err(invalid());
    };
    let payload: &[u8] = match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    if !webhook::verify(secret, signature, payload, unix_now()) {
        tracing::warn!("webhook signature refused");
        telemetry::count("WebhookEventsRejected");
        return Err(invalid());
    }
    Ok(read(payload))
}

fn read(payload: &[u8]) -> Notification {
    let event: Event = match serde_json::from_slice(payload) {
        Ok(event) => event,
        Err(err) => {
            tracing::error!(error = %err, "signed webhook event could not be read; acknowledged");
            telemetry::count("WebhookEventsIgnored");
            return Notification::Ignored;
        }
    };
    let object = event.data.object;
    let notification = match event.event_type.as_str() {
        "payment_intent.succeeded"
        | "payment_intent.processing"
        | "payment_intent.payment_failed"
        | "payment_intent.requires_action"
        | "payment_intent.canceled" => {
            object.id.as_deref().and_then(|id| PaymentIntentId::parse(id).ok()).map(Notification::Intent)
        }
        "charge.refunded" | "charge.dispute.created" | "charge.dispute.closed" => {
            object.payment_intent.as_deref().and_then(|id| PaymentIntentId::parse(id).ok()).map(Notification::Intent)
        }
        // Since 2024-10-28 Stripe announces every refund's life with these;
        // `charge.refund.updated` carries the refund too.
        "refund.created" | "refund.updated" | "refund.failed" | "charge.refund.updated" => {
            object.id.as_deref().and_then(|id| RefundId::parse(id).ok()).map(Notification::Refund)
        }
        _ => {
            telemetry::count("WebhookEventsIgnored");
            return Notification::Ignored;
        }
    };
    notification.unwrap_or_else(|| {
        tracing::error!(event = %event.id, "webhook event names no readable object; acknowledged");
        Notification::Ignored
    })
}

/// The parts of an event this API reads.
#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: EventObject,
}

#[derive(Deserialize)]
struct EventObject {
    id: Option<String>,
    /// A charge's or a dispute's PaymentIntent (an id, unless expanded).
    #[serde(default, deserialize_with = "id_or_object")]
    payment_intent: Option<String>,
}

fn id_or_object<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(id) => Some(id),
        serde_json::Value::Object(object) => object.get("id").and_then(|id| id.as_str()).map(str::to_owned),
        _ => None,
    })
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_charge_and_dispute_events_name_their_payment_intent() {
        let intent = br#"{"id":"evt_1","type":"payment_intent.canceled","data":{"object":{"id":"pi_1"}}}"#;
        let refund =
            br#"{"id":"evt_2","type":"charge.refunded","data":{"object":{"id":"ch_1","payment_intent":"pi_2"}}}"#;
        let dispute =
            br#"{"id":"evt_3","type":"charge.dispute.created","data":{"object":{"id":"dp_1","payment_intent":{"id":"pi_3"}}}}"#;
        for (payload, id) in [(&intent[..], "pi_1"), (&refund[..], "pi_2"), (&dispute[..], "pi_3")] {
            assert_eq!(read(payload), Notification::Intent(PaymentIntentId::parse(id).unwrap()));
        }
    }

    #[test]
    fn refund_events_name_their_refund() {
        for event_type in ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"] {
            let payload = format!(
                r#"{{"id":"evt_1","type":"{event_type}","data":{{"object":{{"id":"re_1","payment_intent":"pi_1"}}}}}}"#
            );
            assert_eq!(
                read(payload.as_bytes()),
                Notification::Refund(RefundId::parse("re_1").unwrap()),
                "{event_type}"
            );
        }
    }

    #[test]
    fn other_types_and_unreadable_events_are_ignored() {
        let other = br#"{"id":"evt_1","type":"customer.created","data":{"object":{"id":"cus_1"}}}"#;
        let unreadable = br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":42}}}"#;
        for payload in [&other[..], &unreadable[..], b"not json"] {
            assert_eq!(read(payload), Notification::Ignored);
        }
    }
}
