use std::time::SystemTime;

use super::{ClientSecret, Cuid, Currency, PaymentIntentId, PaymentMethodId, PaymentStatus, RecordId, UserId};

/// Our record of one PaymentIntent: whose it is and which idempotency key
/// made it. Money is in the currency's smallest unit.
#[derive(Debug, Clone)]
pub struct Payment {
    /// The record's own id; it orders a user's payments, newest last.
    pub record: RecordId,
    pub user_id: UserId,
    pub cuid: Cuid,
    pub intent_id: PaymentIntentId,
    pub amount: i64,
    pub currency: Currency,
    pub status: PaymentStatus,
    pub payment_method: Option<PaymentMethodId>,
    /// What has been refunded so far, in the same unit as `amount`.
    pub amount_refunded: i64,
    /// Whether the charge has been disputed by the cardholder.
    pub disputed: bool,
    /// How many confirmations Stripe has answered (and we counted): numbers
    /// the next one. A retry after an answer that never reached us is the
    /// same request to Stripe; once an answer is counted, the next
    /// confirmation is a new attempt (a retry whose answer was lost after
    /// counting is one too: a second authorisation try, never a second
    /// charge, as Stripe refuses to confirm a succeeded intent).
    pub confirm_attempts: u32,
}

/// What Stripe says about a PaymentIntent right now.
#[derive(Debug, Clone)]
pub struct Intent {
    pub id: PaymentIntentId,
    pub amount: i64,
    pub currency: Currency,
    pub status: PaymentStatus,
    pub payment_method: Option<PaymentMethodId>,
    pub client_secret: Option<ClientSecret>,
    /// From the latest charge; 0 and false until there is one (or when
    /// Stripe's answer did not include it).
    pub amount_refunded: i64,
    pub disputed: bool,
    /// `userId` and `cuid` from the intent's metadata, when it has both.
    pub owner: Option<(UserId, Cuid)>,
    /// When the read that saw this was sent: it orders reads, so that an
    /// older one that lands later cannot overwrite a newer one.
    pub read_at: SystemTime,
}

impl Intent {
    /// Whether a refund of `amount` (everything left when `None`) fits what
    /// is left of the payment.
    pub fn refundable(&self, amount: Option<i64>) -> bool {
        let left = self.amount - self.amount_refunded;
        self.status == PaymentStatus::Succeeded && left > 0 && amount.is_none_or(|wanted| wanted <= left)
    }
}

impl Payment {
    /// A new record for an intent Stripe just created for `user`.
    pub fn of(user_id: UserId, cuid: Cuid, intent: &Intent) -> Self {
        Self {
            record: RecordId::generate(),
            user_id,
            cuid,
            intent_id: intent.id.clone(),
            amount: intent.amount,
            currency: intent.currency.clone(),
            status: intent.status,
            payment_method: intent.payment_method.clone(),
            amount_refunded: intent.amount_refunded,
            disputed: intent.disputed,
            confirm_attempts: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(status: PaymentStatus, amount_refunded: i64) -> Intent {
        Intent {
            id: PaymentIntentId::parse("pi_123").unwrap(),
            amount: 2000,
            currency: Currency::parse("usd").unwrap(),
            status,
            payment_method: None,
            client_secret: None,
            amount_refunded,
            disputed: false,
            owner: None,
            read_at: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn only_what_is_left_of_a_succeeded_payment_is_refundable() {
        assert!(intent(PaymentStatus::Succeeded, 0).refundable(None));
        assert!(intent(PaymentStatus::Succeeded, 500).refundable(Some(1500)));
        assert!(!intent(PaymentStatus::Succeeded, 500).refundable(Some(1501)));
        assert!(!intent(PaymentStatus::Succeeded, 2000).refundable(None));
        assert!(!intent(PaymentStatus::Processing, 0).refundable(None));
    }
}
