//! Stripe's signed webhook deliveries, verified and read at the edge.

use stripe_webhook::{EventObject, Webhook, WebhookError};

use super::{ApiError, Body, Request};
use crate::domain::PaymentIntentId;

/// What a verified event asks of us.
#[derive(Debug)]
pub enum Notification {
    /// Something happened to this PaymentIntent.
    Intent(PaymentIntentId),
    /// Nothing we keep (another type, or a shape we cannot read).
    Ignored,
}

/// Verifies the `Stripe-Signature` header against the endpoint's secret (5
/// minutes' tolerance) and reads the event. A bad or missing signature is
/// 400; a signed event we cannot read is acknowledged (and logged), or
/// Stripe would retry it for days.
pub fn stripe_notification(req: &Request, secret: &str) -> Result<Notification, ApiError> {
    let invalid = || ApiError::BadRequest("Invalid Stripe signature.".into());
    let signature = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok()).ok_or_else(invalid)?;
    let payload = match req.body() {
        Body::Text(text) => text.as_str(),
        Body::Binary(bytes) => std::str::from_utf8(bytes).map_err(|_| invalid())?,
        _ => "",
    };
    let event = match Webhook::construct_event(payload, signature, secret) {
        Ok(event) => event,
        Err(WebhookError::BadParse(detail)) => {
            tracing::error!(%detail, "signed webhook event could not be read; acknowledged");
            return Ok(Notification::Ignored);
        }
        Err(other) => {
            tracing::warn!(error = %other, "webhook signature refused");
            return Err(invalid());
        }
    };
    let intent = match &event.data.object {
        EventObject::PaymentIntentSucceeded(intent)
        | EventObject::PaymentIntentPaymentFailed(intent)
        | EventObject::PaymentIntentCanceled(intent)
        | EventObject::PaymentIntentProcessing(intent)
        | EventObject::PaymentIntentRequiresAction(intent) => intent.id.clone(),
        EventObject::ChargeRefunded(charge) => match &charge.payment_intent {
            Some(intent) => intent.id().clone(),
            None => return Ok(Notification::Ignored),
        },
        EventObject::ChargeDisputeCreated(dispute) | EventObject::ChargeDisputeClosed(dispute) => {
            match &dispute.payment_intent {
                Some(intent) => intent.id().clone(),
                None => return Ok(Notification::Ignored),
            }
        }
        _ => return Ok(Notification::Ignored),
    };
    match PaymentIntentId::parse(intent.as_str()) {
        Ok(id) => Ok(Notification::Intent(id)),
        Err(why) => {
            tracing::error!(event = %event.id.as_str(), %why, "webhook event names an unreadable intent; acknowledged");
            Ok(Notification::Ignored)
        }
    }
}
