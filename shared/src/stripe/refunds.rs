//! Refunds at Stripe: made once per (PaymentIntent, cuid), with the cuid in
//! their metadata so that one can be found again after a lost answer, even
//! once Stripe's 24-hour idempotency window has passed.

use std::collections::HashMap;

use ::stripe::StripeRequest;
use stripe_core::refund::{CreateRefund, ListRefund, RetrieveRefund};

use super::{idempotent, read, read::SeenRefund, retried, Gateway, GatewayError};
use crate::domain::{Cuid, PaymentIntentId, Refund, RefundAmount, RefundId};

impl Gateway {
    /// Refunds `amount` of the intent's charge (everything left when not
    /// given), once per (intent, cuid).
    pub async fn refund(
        &self,
        intent: &PaymentIntentId,
        cuid: &Cuid,
        amount: RefundAmount,
    ) -> Result<Refund, GatewayError> {
        let metadata = HashMap::from([("cuid".to_owned(), cuid.to_string())]);
        let mut request = CreateRefund::new().payment_intent(intent.as_str()).metadata(metadata);
        if let Some(cents) = amount.get() {
            request = request.amount(cents);
        }
        // The amount is part of the request: Stripe keeps a refusal under its
        // key for 24 hours, and another amount is another request.
        let asked = amount.get().map_or_else(|| "rest".to_owned(), |cents| cents.to_string());
        let strategy = idempotent(&format!("refund-{intent}-{cuid}-{asked}"));
        let refund = retried(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?;
        read::refund(refund)?.ours.ok_or_else(|| GatewayError::Unreadable("refund without our metadata".into()))
    }

    /// The intent's refund made for `cuid`, if Stripe has one.
    pub async fn find_refund(&self, intent: &PaymentIntentId, cuid: &Cuid) -> Result<Option<Refund>, GatewayError> {
        let mut found = None;
        self.walk_refunds(
            || ListRefund::new().payment_intent(intent.as_str()),
            |seen| {
                found = seen.ours.filter(|refund| &refund.cuid == cuid);
                found.is_none()
            },
        )
        .await?;
        Ok(found)
    }

    /// The refund now.
    pub async fn retrieve_refund(&self, refund: &RefundId) -> Result<SeenRefund, GatewayError> {
        let request = RetrieveRefund::new(refund.as_str());
        read::refund(retried(|| request.send(&self.client)).await?)
    }
}
