//! POST /payment/webhook — Stripe's events, public but signed. A PaymentIntent
//! event moves the matching payment's status; replays and stale events
//! change nothing; anything else is acknowledged and ignored.

use serde_json::json;
use shared::{
    http::{ok, ApiError, Body, Request, Response},
    payments::{EventOutcome, Payments},
    PaymentsState,
};
use stripe_webhook::{EventObject, Webhook, WebhookError};

pub async fn handle(state: &'static PaymentsState, req: Request) -> Result<Response<Body>, ApiError> {
    let invalid = || ApiError::BadRequest("Invalid Stripe signature.".into());
    let signature = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok()).ok_or_else(invalid)?;
    let payload = match req.body() {
        Body::Text(text) => text.as_str(),
        Body::Binary(bytes) => std::str::from_utf8(bytes).map_err(|_| invalid())?,
        _ => "",
    };
    let event = Webhook::construct_event(payload, signature, &state.webhook_secret).map_err(|err| match err {
        WebhookError::BadParse(detail) => {
            tracing::error!(%detail, "signed webhook payload could not be read");
            ApiError::BadRequest("Unreadable Stripe event.".into())
        }
        other => {
            tracing::warn!(error = %other, "webhook signature refused");
            invalid()
        }
    })?;
    let intent = match &event.data.object {
        EventObject::PaymentIntentSucceeded(intent)
        | EventObject::PaymentIntentPaymentFailed(intent)
        | EventObject::PaymentIntentCanceled(intent)
        | EventObject::PaymentIntentProcessing(intent)
        | EventObject::PaymentIntentRequiresAction(intent) => intent,
        _ => return ok(&json!({ "received": true, "handled": false })),
    };
    let outcome = Payments::new(&state.app.db)
        .apply_event(intent.id.as_str(), event.id.as_str(), intent.status.as_str(), event.created)
        .await?;
    if outcome == EventOutcome::UnknownIntent {
        tracing::warn!(event = %event.id.as_str(), intent = %intent.id.as_str(), "webhook for an unknown payment");
    }
    ok(&json!({ "received": true, "handled": outcome == EventOutcome::Applied }))
}
