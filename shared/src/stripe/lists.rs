//! Walking Stripe's lists: what a request that died after Stripe acted
//! made, and everything made since a moment, for `payments-admin reconcile`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stripe_core::{payment_intent::ListPaymentIntent, refund::ListRefund};
use stripe_types::RangeQueryTs;

use super::{read, read::SeenRefund, retried, Gateway, GatewayError};
use crate::domain::{Cuid, CustomerId, Intent, UserId};

/// Stripe's largest page of a list.
const PAGE: i64 = 100;
/// Clocks differ: Stripe's `created` may be a little before our own time
/// of the request that made the object.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

impl Gateway {
    /// The customer's PaymentIntent for (user, cuid), looking at those
    /// created since `claimed` (less the clock skew), newest first.
    pub async fn find_intent(
        &self,
        customer: &CustomerId,
        user: UserId,
        cuid: &Cuid,
        claimed: SystemTime,
    ) -> Result<Option<Intent>, GatewayError> {
        let since = unix(claimed.checked_sub(CLOCK_SKEW).unwrap_or(UNIX_EPOCH));
        let list = || ListPaymentIntent::new().customer(customer.as_str()).created(RangeQueryTs::gte(since));
        let wanted = Some((user, cuid.clone()));
        let mut found = None;
        let walked = self
            .walk_intents(list, |intent| {
                if intent.owner == wanted {
                    found = Some(intent);
                }
                found.is_none()
            })
            .await;
        match walked {
            // A customer deleted at Stripe has no intents to find.
            Err(GatewayError::NotFound { param: Some(param), .. }) if param == "customer" => Ok(None),
            other => other.map(|()| found),
        }
    }

    /// Every PaymentIntent of ours created since `since`, with its latest charge.
    pub async fn intents_since(&self, since: SystemTime) -> Result<Vec<Intent>, GatewayError> {
        let since = unix(since);
        let mut all = Vec::new();
        let list = || ListPaymentIntent::new().created(RangeQueryTs::gte(since));
        self.walk_intents(list, |intent| {
            all.push(intent);
            true
        })
        .await?;
        Ok(all)
    }

    /// Every refund created since `since`.
    pub async fn refunds_since(&self, since: SystemTime) -> Result<Vec<SeenRefund>, GatewayError> {
        let since = unix(since);
        let mut all = Vec::new();
        self.walk_refunds(
            || ListRefund::new().created(RangeQueryTs::gte(since)),
            |refund| {
                all.push(refund);
                true
            },
        )
        .await?;
        Ok(all)
    }

    /// Pages through the refunds `list` names, each read and handed to
    /// `each`, until `each` says stop.
    pub(super) async fn walk_refunds(
        &self,
        list: impl Fn() -> ListRefund,
        mut each: impl FnMut(SeenRefund) -> bool,
    ) -> Result<(), GatewayError> {
        let mut after: Option<String> = None;
        loop {
            let mut request = list().limit(PAGE);
            if let Some(last) = &after {
                request = request.starting_after(last.as_str());
            }
            let page = retried(|| request.send(&self.client)).await?;
            after = page.data.last().map(|refund| refund.id.as_str().to_owned());
            for refund in page.data {
                if !each(read::refund(refund)?) {
                    return Ok(());
                }
            }
            if !page.has_more || after.is_none() {
                return Ok(());
            }
        }
    }

    /// Pages through the intents of ours `list` names, each read with its
    /// latest charge and handed to `each`, until `each` says stop. Intents
    /// without our metadata are passed over unread.
    async fn walk_intents(
        &self,
        list: impl Fn() -> ListPaymentIntent,
        mut each: impl FnMut(Intent) -> bool,
    ) -> Result<(), GatewayError> {
        let mut after: Option<String> = None;
        loop {
            let mut request = list().limit(PAGE).expand(vec!["data.latest_charge".to_owned()]);
            if let Some(last) = &after {
                request = request.starting_after(last.as_str());
            }
            let read_at = read::now();
            let page = retried(|| request.send(&self.client)).await?;
            after = page.data.last().map(|intent| intent.id.as_str().to_owned());
            for intent in page.data.into_iter().filter(read::is_ours) {
                if !each(read::intent(intent, read_at)?) {
                    return Ok(());
                }
            }
            if !page.has_more || after.is_none() {
                return Ok(());
            }
        }
    }
}

/// Stripe's timestamps: seconds since the epoch.
fn unix(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
}
