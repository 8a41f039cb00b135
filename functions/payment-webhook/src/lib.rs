//! POST /payment/webhook — Stripe's events, public but signed. A PaymentIntent
//! or refund event prompts a fresh look at it at Stripe, which moves the
//! matching payment forward only; anything else is acknowledged and ignored.

use shared::{
    http::{ok, responses::WebhookAck, stripe_notification, ApiError, Body, Notification, Request, Response},
    payments, StripeState,
};

pub async fn handle(state: &'static StripeState, req: Request) -> Result<Response<Body>, ApiError> {
    let applied = match stripe_notification(&req, &state.webhook_secret)? {
        Notification::Intent(intent) => Some(payments::notified(state.ledger(), &intent).await?),
        Notification::Refund(refund) => Some(payments::refund_notified(state.ledger(), &refund).await?),
        Notification::Ignored => None,
    };
    ok(&WebhookAck::from(applied))
}
