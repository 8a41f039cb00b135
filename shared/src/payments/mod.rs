//! Payments: creating one per (user, cuid), confirming it with a card,
//! reading and listing them, and keeping our records in step with Stripe.

mod customer;

use crate::{
    domain::{Cuid, Cursor, Intent, PageLimit, Payment, PaymentIntentId, PaymentMethodId, User, UserId},
    store::{Page, Payments, Recorded, StoreError, Users},
    stripe::{Gateway, GatewayError},
};

/// What the payment steps work with: the two collections and Stripe.
#[derive(Clone, Copy)]
pub struct Ledger<'a> {
    pub payments: &'a Payments,
    pub users: &'a Users,
    pub stripe: &'a Gateway,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// No such payment among the caller's.
    #[error("no such payment")]
    NotFound,
    #[error("the cuid does not match this payment")]
    CuidMismatch,
    /// The payment method the client named is unknown or unusable.
    #[error("the payment method cannot be used")]
    UnusablePaymentMethod(#[source] GatewayError),
    #[error(transparent)]
    Stripe(#[from] GatewayError),
    #[error("the payments store failed")]
    Store(#[from] StoreError),
}

/// A confirmation as the client asks for it.
#[derive(Debug)]
pub struct Confirmation {
    pub cuid: Cuid,
    pub intent: PaymentIntentId,
    pub method: PaymentMethodId,
}

/// What a webhook notification did to our records.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    Moved,
    Unchanged,
    UnknownIntent,
}

/// POST /payment: the same (user, cuid) always yields the same PaymentIntent,
/// whether asked twice at once or a day apart.
pub async fn create(ledger: Ledger<'_>, user: &User, cuid: Cuid) -> Result<Intent, PaymentsError> {
    if let Some(existing) = ledger.payments.by_cuid(user.id, &cuid).await? {
        return refreshed(ledger, &existing.intent_id).await;
    }
    let customer = customer::of(ledger, user).await?;
    let intent = ledger.stripe.create_intent(user.id, &cuid, &customer).await?;
    // Written only once Stripe has answered, so a failed attempt leaves
    // nothing behind to block a retry with the same cuid.
    ledger.payments.insert(&Payment::of(user.id, cuid, &intent)).await?;
    Ok(intent)
}

/// POST /payment/confirm, for the owner of the payment only.
pub async fn confirm(ledger: Ledger<'_>, user: &User, asked: Confirmation) -> Result<Intent, PaymentsError> {
    let payment = owned(ledger, user.id, &asked.intent).await?;
    if payment.cuid != asked.cuid {
        return Err(PaymentsError::CuidMismatch);
    }
    if !payment.status.awaits_payment_method() {
        return refreshed(ledger, &payment.intent_id).await;
    }
    match ledger.stripe.confirm(&payment.intent_id, &asked.method).await {
        Ok(confirmed) => {
            ledger.payments.record(&confirmed).await?;
            Ok(confirmed)
        }
        Err(declined @ GatewayError::Declined { .. }) => {
            // Keep the record at whatever status Stripe now reports.
            refreshed(ledger, &payment.intent_id).await?;
            Err(declined.into())
        }
        Err(unusable) if names_payment_method(&unusable) => Err(PaymentsError::UnusablePaymentMethod(unusable)),
        Err(other) => Err(other.into()),
    }
}

/// GET /payment/{id}: the caller's payment as Stripe sees it now.
pub async fn get(ledger: Ledger<'_>, user: &User, intent: &PaymentIntentId) -> Result<Intent, PaymentsError> {
    let payment = owned(ledger, user.id, intent).await?;
    refreshed(ledger, &payment.intent_id).await
}

/// GET /payment: one page of the user's payments, newest first.
pub async fn list(
    payments: &Payments,
    user: UserId,
    limit: PageLimit,
    after: Option<Cursor>,
) -> Result<Page, PaymentsError> {
    Ok(payments.page(user, limit, after).await?)
}

/// A webhook said something happened to `intent`. The notification is only
/// a prompt: the PaymentIntent at Stripe is the truth, and the state
/// machine keeps a stale answer from moving the record backwards.
pub async fn notified(ledger: Ledger<'_>, intent: &PaymentIntentId) -> Result<Applied, PaymentsError> {
    if ledger.payments.by_intent(intent).await?.is_none() {
        tracing::warn!(%intent, "webhook for a payment this API has no record of");
        return Ok(Applied::UnknownIntent);
    }
    let current = ledger.stripe.retrieve(intent).await?;
    Ok(match ledger.payments.record(&current).await? {
        Recorded::Moved(_) => Applied::Moved,
        Recorded::Unchanged(_) => Applied::Unchanged,
        Recorded::Unknown => Applied::UnknownIntent,
    })
}

/// Another user's payment answers exactly like a missing one, so ids
/// cannot be probed.
async fn owned(ledger: Ledger<'_>, user: UserId, intent: &PaymentIntentId) -> Result<Payment, PaymentsError> {
    ledger.payments.owned(user, intent).await?.ok_or(PaymentsError::NotFound)
}

/// Stripe's current view of the intent, recorded.
async fn refreshed(ledger: Ledger<'_>, intent: &PaymentIntentId) -> Result<Intent, PaymentsError> {
    let intent = ledger.stripe.retrieve(intent).await?;
    ledger.payments.record(&intent).await?;
    Ok(intent)
}

fn names_payment_method(err: &GatewayError) -> bool {
    matches!(err, GatewayError::NotFound { param: Some(p), .. } | GatewayError::InvalidRequest { param: Some(p), .. } if p == "payment_method")
}
