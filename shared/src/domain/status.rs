use super::Invalid;

/// A PaymentIntent's status, as Stripe names it, and the moves between them
/// that Stripe can make. A stored status only ever moves along these, so a
/// late or repeated notification can never take a payment backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Succeeded,
    Canceled,
}

use PaymentStatus::*;

impl PaymentStatus {
    pub const ALL: [Self; 7] =
        [RequiresPaymentMethod, RequiresConfirmation, RequiresAction, Processing, RequiresCapture, Succeeded, Canceled];

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw).ok_or(Invalid("is not a PaymentIntent status"))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequiresPaymentMethod => "requires_payment_method",
            RequiresConfirmation => "requires_confirmation",
            RequiresAction => "requires_action",
            Processing => "processing",
            RequiresCapture => "requires_capture",
            Succeeded => "succeeded",
            Canceled => "canceled",
        }
    }

    /// Nothing moves a succeeded or canceled payment.
    pub fn is_final(self) -> bool {
        matches!(self, Succeeded | Canceled)
    }

    /// Whether a card may be confirmed now. Otherwise the payment is done,
    /// in flight or waiting for its customer, and confirming again would be
    /// wrong.
    pub fn awaits_payment_method(self) -> bool {
        matches!(self, RequiresPaymentMethod | RequiresConfirmation)
    }

    /// Whether Stripe can move a PaymentIntent from `self` to `next`
    /// (staying put is not a move).
    pub fn can_become(self, next: Self) -> bool {
        match (self, next) {
            (from, to) if from == to => false,
            (Succeeded | Canceled, _) => false,
            // Once authorised, the money is only captured or released.
            (RequiresCapture, to) => matches!(to, Succeeded | Canceled),
            // A failed attempt starts over with a new payment method.
            (Processing, to) => matches!(to, RequiresPaymentMethod | RequiresCapture | Succeeded | Canceled),
            (RequiresPaymentMethod | RequiresConfirmation | RequiresAction, _) => true,
        }
    }

    /// Every status that can move to `self`.
    pub fn predecessors(self) -> Vec<Self> {
        Self::ALL.into_iter().filter(|from| from.can_become(self)).collect()
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_stripe_name() {
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Ok(status));
        }
        assert!(PaymentStatus::parse("paid").is_err());
    }

    #[test]
    fn succeeded_and_canceled_are_final() {
        for from in [Succeeded, Canceled] {
            assert!(from.is_final());
            for to in PaymentStatus::ALL {
                assert!(!from.can_become(to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn a_late_failure_cannot_undo_a_success_or_a_capture() {
        assert!(!Succeeded.can_become(RequiresPaymentMethod));
        assert!(!RequiresCapture.can_become(RequiresPaymentMethod));
        assert!(!RequiresCapture.can_become(Processing));
    }

    #[test]
    fn a_payment_can_fail_and_be_retried_before_it_succeeds() {
        assert!(RequiresAction.can_become(RequiresPaymentMethod));
        assert!(Processing.can_become(RequiresPaymentMethod));
        assert!(RequiresPaymentMethod.can_become(Succeeded));
    }

    #[test]
    fn staying_put_is_not_a_move() {
        for status in PaymentStatus::ALL {
            assert!(!status.can_become(status));
            assert!(!status.predecessors().contains(&status));
        }
    }

    #[test]
    fn only_payments_without_a_usable_card_await_one() {
        let awaiting: Vec<_> = PaymentStatus::ALL.into_iter().filter(|s| s.awaits_payment_method()).collect();
        assert_eq!(awaiting, [RequiresPaymentMethod, RequiresConfirmation]);
    }
}
