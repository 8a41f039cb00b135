//! Stripe's objects, as async-stripe reads them, in our domain types.

use std::time::SystemTime;

use stripe_core::{PaymentIntent, Refund as StripeRefund};

use super::GatewayError;
use crate::domain::{
    ClientSecret, Cuid, Currency, Intent, PaymentIntentId, PaymentMethodId, PaymentStatus, Refund, RefundId,
    RefundStatus, UserId,
};

/// When a read is sent: its answer shows Stripe no earlier than this.
pub(super) fn now() -> SystemTime {
    SystemTime::now()
}

/// Whether the intent carries our metadata (`userId` and `cuid`): only
/// those are ours to read; others (the Dashboard's, Checkout's) may use
/// payment methods this API never names.
pub(super) fn is_ours(intent: &PaymentIntent) -> bool {
    owner(Some(&intent.metadata)).is_some()
}

/// `userId` and `cuid` from an object's metadata, when it has both.
fn owner(metadata: Option<&std::collections::HashMap<String, String>>) -> Option<(UserId, Cuid)> {
    let metadata = metadata?;
    let user = UserId::parse(metadata.get("userId")?).ok()?;
    Some((user, Cuid::parse(metadata.get("cuid")?).ok()?))
}

pub(super) fn intent(intent: PaymentIntent, read_at: SystemTime) -> Result<Intent, GatewayError> {
    let unreadable = |what: &str, why| GatewayError::Unreadable(format!("PaymentIntent {what} {why}"));
    let charge = intent.latest_charge.as_ref().and_then(|charge| charge.as_object());
    Ok(Intent {
        id: PaymentIntentId::parse(intent.id.as_str()).map_err(|why| unreadable("id", why))?,
        amount: intent.amount,
        currency: Currency::parse(&intent.currency.to_string()).map_err(|why| unreadable("currency", why))?,
        status: PaymentStatus::parse(intent.status.as_str()).map_err(|why| unreadable("status", why))?,
        payment_method: match &intent.payment_method {
            Some(method) => {
                Some(PaymentMethodId::parse(method.id().as_str()).map_err(|why| unreadable("payment_method", why))?)
            }
            None => None,
        },
        client_secret: intent.client_secret.map(ClientSecret::new),
        amount_refunded: charge.map_or(0, |c| c.amount_refunded),
        disputed: charge.is_some_and(|c| c.disputed),
        owner: owner(Some(&intent.metadata)),
        read_at,
    })
}

/// A refund as Stripe has it: its PaymentIntent and, when this API made
/// it (the cuid is in its metadata), our refund.
pub struct SeenRefund {
    pub intent_id: Option<PaymentIntentId>,
    pub ours: Option<Refund>,
}

pub(super) fn refund(refund: StripeRefund) -> Result<SeenRefund, GatewayError> {
    let unreadable = |what: &str, why| GatewayError::Unreadable(format!("refund {what} {why}"));
    let intent_id = match &refund.payment_intent {
        Some(intent) => {
            Some(PaymentIntentId::parse(intent.id().as_str()).map_err(|why| unreadable("payment_intent", why))?)
        }
        None => None,
    };
    let cuid = refund.metadata.as_ref().and_then(|metadata| metadata.get("cuid")).and_then(|c| Cuid::parse(c).ok());
    let ours = match (&intent_id, cuid) {
        (Some(intent_id), Some(cuid)) => Some(Refund {
            id: RefundId::parse(refund.id.as_str()).map_err(|why| unreadable("id", why))?,
            intent_id: intent_id.clone(),
            cuid,
            amount: refund.amount,
            status: RefundStatus::parse(refund.status.as_deref().unwrap_or_default())
                .map_err(|why| unreadable("status", why))?,
        }),
        _ => None,
    };
    Ok(SeenRefund { intent_id, ours })
}
