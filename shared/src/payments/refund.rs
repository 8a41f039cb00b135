use super::{owned_by_anyone, refreshed, Ledger, PaymentsError};
use crate::{
    domain::{Cuid, PaymentIntentId, PaymentStatus, Refund, RefundAmount},
    stripe::GatewayError,
    telemetry,
};

/// POST /payment/{id}/refund (admins): refunds `amount` (everything not yet
/// refunded when not given) once per (payment, cuid); the same cuid again
/// answers the same refund. Only a succeeded payment can be refunded, and
/// the refunds together never exceed what was paid.
pub async fn refund(
    ledger: Ledger<'_>,
    intent: &PaymentIntentId,
    cuid: Cuid,
    amount: RefundAmount,
) -> Result<Refund, PaymentsError> {
    owned_by_anyone(ledger, intent).await?;
    if let Some(done) = ledger.refunds.by_cuid(intent, &cuid).await? {
        return Ok(done);
    }
    let current = refreshed(ledger, intent).await?;
    if current.status != PaymentStatus::Succeeded {
        return Err(PaymentsError::WrongState(current.status));
    }
    if !current.refundable(amount.get()) {
        return Err(PaymentsError::RefundTooLarge);
    }
    let refund = match ledger.stripe.refund(intent, &cuid, amount).await {
        Ok(refund) => refund,
        // Stripe is the last word on what is left: concurrent refunds with
        // other cuids may have taken it.
        Err(GatewayError::InvalidRequest { .. } | GatewayError::InvalidState { .. }) => {
            return Err(PaymentsError::RefundTooLarge)
        }
        Err(other) => return Err(other.into()),
    };
    ledger.refunds.insert(&refund).await?;
    telemetry::count("PaymentsRefunded");
    refreshed(ledger, intent).await?;
    Ok(refund)
}
