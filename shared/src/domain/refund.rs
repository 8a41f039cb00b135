use super::{Cuid, Invalid, PaymentIntentId, RefundId};

/// One refund of a payment, made once per (payment, cuid).
#[derive(Debug, Clone)]
pub struct Refund {
    pub id: RefundId,
    pub intent_id: PaymentIntentId,
    pub cuid: Cuid,
    pub amount: i64,
    pub status: RefundStatus,
}

/// A refund's status as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    RequiresAction,
    Succeeded,
    Failed,
    Canceled,
}

impl RefundStatus {
    const ALL: [Self; 5] = [Self::Pending, Self::RequiresAction, Self::Succeeded, Self::Failed, Self::Canceled];

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw).ok_or(Invalid("is not a refund status"))
    }

    /// Whether Stripe can move a refund from `self` to `next`: a pending
    /// one settles, a succeeded one can still fail (the card was closed, say),
    /// and a failed or canceled one is done.
    pub fn can_become(self, next: Self) -> bool {
        use RefundStatus::*;
        match (self, next) {
            (from, to) if from == to => false,
            (Pending | RequiresAction, _) => true,
            (Succeeded, to) => to == Failed,
            (Failed | Canceled, _) => false,
        }
    }

    /// Every status that can move to `self`.
    pub fn predecessors(self) -> Vec<Self> {
        Self::ALL.into_iter().filter(|from| from.can_become(self)).collect()
    }

    /// Whether the money went, or may still go, back to the customer.
    pub fn counts(self) -> bool {
        !matches!(self, Self::Failed | Self::Canceled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::RequiresAction => "requires_action",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }
}

/// How much a refund asks for: a positive amount in the currency's smallest
/// unit, or (`None`) everything not yet refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundAmount(Option<i64>);

impl RefundAmount {
    pub const REST: Self = Self(None);

    pub fn of(amount: i64) -> Result<Self, Invalid> {
        if amount > 0 {
            Ok(Self(Some(amount)))
        } else {
            Err(Invalid("must be a positive integer in the currency's smallest unit"))
        }
    }

    pub fn get(self) -> Option<i64> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_amounts_are_positive() {
        assert!(RefundAmount::of(1).is_ok());
        assert!(RefundAmount::of(0).is_err());
        assert!(RefundAmount::of(-5).is_err());
        assert_eq!(RefundAmount::REST.get(), None);
    }

    #[test]
    fn a_succeeded_refund_can_still_fail_but_a_failed_one_stays_failed() {
        assert!(RefundStatus::Succeeded.can_become(RefundStatus::Failed));
        assert!(RefundStatus::Pending.can_become(RefundStatus::Succeeded));
        assert!(!RefundStatus::Failed.can_become(RefundStatus::Succeeded));
        assert!(!RefundStatus::Succeeded.can_become(RefundStatus::Pending));
        assert!(!RefundStatus::Canceled.can_become(RefundStatus::Succeeded));
    }

    #[test]
    fn refund_statuses_round_trip() {
        for status in RefundStatus::ALL {
            assert_eq!(RefundStatus::parse(status.as_str()), Ok(status));
        }
    }
}
