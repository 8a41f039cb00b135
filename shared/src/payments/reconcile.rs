//! `payments-admin reconcile`: our records brought in step with Stripe
//! when webhooks were lost for good (Stripe stops retrying after three
//! days). Stripe is the truth; every write is one the API's own paths make
//! (forward-only statuses, later reads only, upserted refunds), so running
//! it twice, or while the API serves, changes nothing more.

use std::{collections::HashSet, fmt, time::SystemTime};

use super::{recovered, Applied, Ledger, PaymentsError};
use crate::{
    domain::{Intent, PaymentIntentId, PaymentStatus, RefundId, RefundStatus},
    store::Recorded,
};

/// One record brought in step.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// A PaymentIntent of ours that had no record now has one.
    Recorded { intent: PaymentIntentId, status: PaymentStatus },
    /// A record's status or refunded amount moved to Stripe's.
    Moved { intent: PaymentIntentId, from: (PaymentStatus, i64), to: (PaymentStatus, i64) },
    /// A refund of ours is stored with Stripe's status.
    Refund { refund: RefundId, intent: PaymentIntentId, status: RefundStatus },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Recorded { intent, status } => write!(f, "{intent}: recorded, {status}"),
            Self::Moved { intent, from, to } => {
                write!(f, "{intent}: {} -> {}, amountRefunded {} -> {}", from.0, to.0, from.1, to.1)
            }
            Self::Refund { refund, intent, status } => write!(f, "{refund} of {intent}: {}", status.as_str()),
        }
    }
}

/// Walks Stripe's PaymentIntents and refunds created since `since` (and
/// the intents of those refunds) and brings our records in step; what it
/// changed. Intents first, so that a refund finds its payment recovered.
pub async fn reconcile(ledger: Ledger<'_>, since: SystemTime) -> Result<Vec<Change>, PaymentsError> {
    let mut changes = Vec::new();
    let mut walked = HashSet::new();
    for intent in ledger.stripe.intents_since(since).await? {
        walked.insert(intent.id.clone());
        changes.extend(in_step(ledger, intent).await?);
    }
    for seen in ledger.stripe.refunds_since(since).await? {
        let Some(intent) = seen.intent_id else { continue };
        // Only a payment recorded here, or a refund this API made (the
        // payment's record may be lost), concerns this database: a Stripe
        // account may serve several deployments (stages).
        if seen.ours.is_none() && ledger.payments.by_intent(&intent).await?.is_none() {
            continue;
        }
        // A refund made in the window of a payment made before it: the
        // payment first, recovered if its record was lost.
        if walked.insert(intent.clone()) {
            changes.extend(in_step(ledger, ledger.stripe.retrieve(&intent).await?).await?);
        }
        let Some(refund) = seen.ours else { continue };
        if ledger.payments.by_intent(&intent).await?.is_none() {
            continue; // another deployment's payment
        }
        if ledger.refunds.settle(&refund).await? {
            changes.push(Change::Refund { refund: refund.id, intent, status: refund.status });
        }
    }
    Ok(changes)
}

/// Records Stripe's view of one intent this API made.
async fn in_step(ledger: Ledger<'_>, intent: Intent) -> Result<Option<Change>, PaymentsError> {
    if intent.owner.is_none() {
        return Ok(None);
    }
    let Some(before) = ledger.payments.by_intent(&intent.id).await? else {
        let applied = recovered(ledger, &intent).await?;
        return Ok((applied == Applied::Moved).then_some(Change::Recorded { intent: intent.id, status: intent.status }));
    };
    Ok(match ledger.payments.record(&intent).await? {
        Recorded::Moved(after) if (after.status, after.amount_refunded) != (before.status, before.amount_refunded) => {
            Some(Change::Moved {
                intent: intent.id,
                from: (before.status, before.amount_refunded),
                to: (after.status, after.amount_refunded),
            })
        }
        _ => None,
    })
}
