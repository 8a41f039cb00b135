//! Payments: creating one per (user, cuid), confirming it with a card,
//! reading and listing them, and keeping our records in step with Stripe.

mod customer;
mod reconcile;
mod refund;

pub use reconcile::{reconcile, Change};
pub use refund::refund;

use crate::{
    auth::{Caller, Denied},
    domain::{
        Cuid, Cursor, Intent, Page, PageLimit, Payment, PaymentIntentId, PaymentMethodId, PaymentStatus, RefundId,
        User, UserId,
    },
    store::{PaymentClaims, Payments, Recorded, Refunds, StoreError, Users},
    stripe::{Gateway, GatewayError},
    telemetry,
};

/// What the payment steps work with: the collections and Stripe.
#[derive(Clone, Copy)]
pub struct Ledger<'a> {
    pub payments: &'a Payments,
    pub claims: &'a PaymentClaims,
    pub refunds: &'a Refunds,
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
    /// The payment's state does not allow the action (confirming or
    /// canceling a payment that is done, refunding one that is not).
    #[error("the payment is {0} and does not allow this")]
    WrongState(crate::domain::PaymentStatus),
    /// The refund asks for more than is left to refund.
    #[error("the refund exceeds what is left of the payment")]
    RefundTooLarge,
    /// The cardholder disputed the charge: the dispute, not a refund,
    /// settles it now.
    #[error("the payment is disputed")]
    Disputed,
    /// The cuid was used before for a refund of another amount.
    #[error("the cuid was used for another refund")]
    CuidReused,
    #[error(transparent)]
    Denied(#[from] Denied),
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
/// whether asked twice at once or a day apart, and a client is only ever
/// handed the one that is recorded.
pub async fn create(ledger: Ledger<'_>, caller: &Caller, cuid: Cuid) -> Result<Intent, PaymentsError> {
    let user = &caller.user;
    if let Some(existing) = ledger.payments.by_cuid(user.id, &cuid).await? {
        return refreshed(ledger, &existing.intent_id).await;
    }
    let customer = customer::of(ledger, user).await?;
    // A create began before and left no record: it may have died after
    // Stripe made the intent, and Stripe's idempotency key may have expired
    // since (24 hours). Look before making another.
    if let Some(claimed) = ledger.claims.claim(user.id, &cuid).await? {
        if let Some(made) = ledger.stripe.find_intent(&customer, user.id, &cuid, claimed).await? {
            return stored(ledger, user, cuid, made).await;
        }
    }
    let intent = match ledger.stripe.create_intent(user.id, &cuid, &customer).await {
        Err(GatewayError::NotFound { param: Some(param), .. }) if param == "customer" => {
            let customer = customer::replace(ledger, user, &customer).await?;
            ledger.stripe.create_intent(user.id, &cuid, &customer).await?
        }
        other => other?,
    };
    stored(ledger, user, cuid, intent).await
}

/// Records the intent Stripe made for (user, cuid), and answers the one
/// that is recorded: a concurrent request may have stored its own first.
async fn stored(ledger: Ledger<'_>, user: &User, cuid: Cuid, intent: Intent) -> Result<Intent, PaymentsError> {
    if ledger.payments.insert(&Payment::of(user.id, cuid.clone(), &intent), intent.read_at).await? {
        telemetry::count("PaymentsCreated");
        return Ok(intent);
    }
    match ledger.payments.by_cuid(user.id, &cuid).await? {
        Some(stored) if stored.intent_id == intent.id => Ok(intent),
        Some(stored) => refreshed(ledger, &stored.intent_id).await,
        // Refused as a duplicate, yet gone: never hand out an unrecorded
        // intent's secret; the client's retry settles it.
        None => Err(PaymentsError::Store(StoreError::Vanished("payments"))),
    }
}

/// POST /payment/confirm, for the owner of the payment only. Confirming a
/// payment that succeeded answers it as it is; a canceled one is refused.
pub async fn confirm(ledger: Ledger<'_>, caller: &Caller, asked: Confirmation) -> Result<Intent, PaymentsError> {
    let user = &caller.user;
    let payment = owned(ledger, user.id, &asked.intent).await?;
    if payment.cuid != asked.cuid {
        return Err(PaymentsError::CuidMismatch);
    }
    if !payment.status.awaits_payment_method() {
        let current = settled(refreshed(ledger, &payment.intent_id).await?)?;
        if !current.status.awaits_payment_method() {
            return Ok(current);
        }
        // Our record was behind Stripe (3-D Secure failed since): confirm.
    }
    let attempt = payment.confirm_attempts;
    match ledger.stripe.confirm(&payment.intent_id, &asked.method, attempt).await {
        Ok(confirmed) => {
            ledger.payments.count_confirmation(&payment.intent_id, attempt).await?;
            telemetry::count("PaymentsConfirmed");
            if confirmed.status.is_final() {
                ledger.payments.record(&confirmed).await?;
                return Ok(confirmed);
            }
            // A retried attempt replays Stripe's first answer, which may be
            // older than the intent (3-D Secure done since): keep the truth.
            refreshed(ledger, &payment.intent_id).await
        }
        Err(GatewayError::InvalidState { .. }) => {
            // Stripe keeps this answer under the attempt's key: the next
            // confirmation is a new attempt.
            ledger.payments.count_confirmation(&payment.intent_id, attempt).await?;
            // Confirmed elsewhere meanwhile (Stripe.js in the browser): report
            // the payment as it is when nothing was charged by this call.
            let current = settled(refreshed(ledger, &payment.intent_id).await?)?;
            if current.status.awaits_payment_method() {
                return Err(PaymentsError::WrongState(current.status));
            }
            Ok(current)
        }
        Err(declined @ GatewayError::Declined { .. }) => {
            ledger.payments.count_confirmation(&payment.intent_id, attempt).await?;
            telemetry::count("PaymentsDeclined");
            // Keep the record at whatever status Stripe now reports.
            refreshed(ledger, &payment.intent_id).await?;
            Err(declined.into())
        }
        Err(unusable) if names_payment_method(&unusable) => Err(PaymentsError::UnusablePaymentMethod(unusable)),
        Err(other) => Err(other.into()),
    }
}

/// A canceled payment cannot be confirmed; any other is answered as it is.
fn settled(intent: Intent) -> Result<Intent, PaymentsError> {
    match intent.status {
        PaymentStatus::Canceled => Err(PaymentsError::WrongState(intent.status)),
        _ => Ok(intent),
    }
}

/// POST /payment/{id}/cancel, for the owner only: cancels at Stripe when
/// Stripe allows it. A payment that succeeded or was canceled already is
/// refused.
pub async fn cancel(ledger: Ledger<'_>, caller: &Caller, intent: &PaymentIntentId) -> Result<Intent, PaymentsError> {
    let user = &caller.user;
    let payment = owned(ledger, user.id, intent).await?;
    if payment.status.is_final() {
        return Err(PaymentsError::WrongState(payment.status));
    }
    match ledger.stripe.cancel(&payment.intent_id).await {
        Ok(canceled) => {
            ledger.payments.record(&canceled).await?;
            telemetry::count("PaymentsCanceled");
            Ok(canceled)
        }
        Err(GatewayError::InvalidState { .. }) => {
            let current = refreshed(ledger, &payment.intent_id).await?;
            Err(PaymentsError::WrongState(current.status))
        }
        Err(other) => Err(other.into()),
    }
}

/// GET /payment/{id}: the caller's payment as Stripe sees it now.
pub async fn get(ledger: Ledger<'_>, caller: &Caller, intent: &PaymentIntentId) -> Result<Intent, PaymentsError> {
    let user = &caller.user;
    let payment = owned(ledger, user.id, intent).await?;
    refreshed(ledger, &payment.intent_id).await
}

/// GET /payment: one page of the user's payments, newest first.
pub async fn list(
    payments: &Payments,
    caller: &Caller,
    limit: PageLimit,
    after: Option<Cursor>,
) -> Result<Page<Payment>, PaymentsError> {
    Ok(payments.page(caller.id(), limit, after).await?)
}

/// A webhook said something happened to a refund: its stored status
/// follows Stripe's, and the payment's `amountRefunded` with it (a refund
/// that failed no longer counts).
pub async fn refund_notified(ledger: Ledger<'_>, refund: &RefundId) -> Result<Applied, PaymentsError> {
    let seen = ledger.stripe.retrieve_refund(refund).await?;
    let Some(intent) = &seen.intent_id else { return Ok(Applied::UnknownIntent) };
    // The payment first: a lost record of ours is recovered here.
    let applied = notified(ledger, intent).await?;
    // Stripe sends every endpoint of the account every event: only a refund
    // of a payment recorded here is this database's.
    if let Some(ours) = seen.ours.as_ref().filter(|_| applied != Applied::UnknownIntent) {
        ledger.refunds.settle(ours).await?;
    }
    Ok(applied)
}

/// A webhook said something happened to `intent`. The notification is only
/// a prompt: the PaymentIntent at Stripe is the truth, and the state
/// machine keeps a stale answer from moving the record backwards.
pub async fn notified(ledger: Ledger<'_>, intent: &PaymentIntentId) -> Result<Applied, PaymentsError> {
    let current = ledger.stripe.retrieve(intent).await?;
    let applied = match ledger.payments.record(&current).await? {
        Recorded::Moved(_) => Applied::Moved,
        Recorded::Unchanged(_) => Applied::Unchanged,
        Recorded::Unknown => recovered(ledger, &current).await?,
    };
    telemetry::count(if applied == Applied::Moved { "WebhookEventsApplied" } else { "WebhookEventsIgnored" });
    Ok(applied)
}

/// An intent we have no record of, though Stripe has it: if its metadata
/// names one of our users and a cuid, our write after creating it was lost;
/// record it now, so that cuid returns it.
async fn recovered(ledger: Ledger<'_>, intent: &Intent) -> Result<Applied, PaymentsError> {
    let Some((user, cuid)) = intent.owner.clone() else {
        tracing::warn!(intent = %intent.id, "a PaymentIntent this API did not create");
        return Ok(Applied::UnknownIntent);
    };
    if ledger.users.get(user).await?.is_none() {
        tracing::warn!(intent = %intent.id, "a PaymentIntent of a user this API does not know");
        return Ok(Applied::UnknownIntent);
    }
    let inserted = ledger.payments.insert(&Payment::of(user, cuid, intent), intent.read_at).await?;
    if inserted {
        tracing::warn!(intent = %intent.id, "recorded a PaymentIntent whose record was missing");
    }
    Ok(if inserted { Applied::Moved } else { Applied::Unchanged })
}

/// Another user's payment answers exactly like a missing one, so ids
/// cannot be probed.
async fn owned(ledger: Ledger<'_>, user: UserId, intent: &PaymentIntentId) -> Result<Payment, PaymentsError> {
    ledger.payments.owned(user, intent).await?.ok_or(PaymentsError::NotFound)
}

/// Any user's payment: for admins.
async fn owned_by_anyone(ledger: Ledger<'_>, intent: &PaymentIntentId) -> Result<Payment, PaymentsError> {
    ledger.payments.by_intent(intent).await?.ok_or(PaymentsError::NotFound)
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
