use super::{owned_by_anyone, refreshed, Ledger, PaymentsError};
use crate::{
    auth::Caller,
    domain::{Cuid, PaymentIntentId, PaymentStatus, Refund, RefundAmount},
    stripe::GatewayError,
    telemetry,
};

/// POST /payment/{id}/refund, for admins: refunds `amount` (everything not yet
/// refunded when not given) once per (payment, cuid); the same cuid again
/// answers the same refund, and with another amount is refused. Only a
/// succeeded payment can be refunded, and the refunds together never exceed
/// what was paid.
///
/// The cuid is reserved before Stripe is called and travels in the refund's
/// metadata: a retry that finds the reservation without Stripe's answer
/// (the write was lost, the function was killed) looks the refund up at
/// Stripe before making one, so nothing is refunded twice, even after
/// Stripe's 24-hour idempotency window.
pub async fn refund(
    ledger: Ledger<'_>,
    caller: &Caller,
    intent: &PaymentIntentId,
    cuid: Cuid,
    amount: RefundAmount,
) -> Result<Refund, PaymentsError> {
    caller.require_admin()?;
    owned_by_anyone(ledger, intent).await?;
    let mut reserved = ledger.refunds.by_cuid(intent, &cuid).await?;
    if let Some(kept) = &reserved {
        if kept.requested.is_some_and(|requested| requested != amount) {
            return Err(PaymentsError::CuidReused);
        }
        if let Some(done) = &kept.refund {
            return Ok(done.clone());
        }
        if let Some(made) = ledger.stripe.find_refund(intent, &cuid).await? {
            return settled(ledger, made).await;
        }
    }
    let current = refreshed(ledger, intent).await?;
    let refusal = if current.status != PaymentStatus::Succeeded {
        Some(PaymentsError::WrongState(current.status))
    } else if current.disputed {
        Some(PaymentsError::Disputed)
    } else if !current.refundable(amount.get()) {
        Some(PaymentsError::RefundTooLarge)
    } else {
        None
    };
    if let Some(refusal) = refusal {
        // A reservation another request made stays: its call to Stripe may
        // still be in flight, and will settle it.
        return Err(refusal);
    }
    if reserved.is_none() {
        reserved = ledger.refunds.reserve(intent, &cuid, amount).await?;
        if reserved.is_some_and(|first| first.requested.is_some_and(|requested| requested != amount)) {
            return Err(PaymentsError::CuidReused);
        }
    }
    match ledger.stripe.refund(intent, &cuid, amount).await {
        Ok(refund) => {
            telemetry::count("PaymentsRefunded");
            settled(ledger, refund).await
        }
        Err(refused @ (GatewayError::InvalidRequest { .. } | GatewayError::InvalidState { .. })) => {
            // Stripe made nothing: free the cuid, and say why in our terms.
            ledger.refunds.release(intent, &cuid).await?;
            Err(refusal_of(refused))
        }
        Err(other) => Err(other.into()),
    }
}

/// Stores Stripe's refund under its reservation and the payment as it now is.
async fn settled(ledger: Ledger<'_>, refund: Refund) -> Result<Refund, PaymentsError> {
    ledger.refunds.settle(&refund).await?;
    refreshed(ledger, &refund.intent_id).await?;
    Ok(refund)
}

/// Stripe is the last word on what can be refunded: concurrent refunds with
/// other cuids may have taken what is left, or a dispute opened meanwhile.
fn refusal_of(refused: GatewayError) -> PaymentsError {
    match refused.code() {
        Some("amount_too_large" | "charge_already_refunded") => PaymentsError::RefundTooLarge,
        Some("charge_disputed") => PaymentsError::Disputed,
        _ => refused.into(),
    }
}
