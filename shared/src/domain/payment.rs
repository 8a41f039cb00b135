use mongodb::bson::oid::ObjectId;

use super::{ClientSecret, Cuid, Currency, PaymentIntentId, PaymentMethodId, PaymentStatus, UserId};

/// Our record of one PaymentIntent: whose it is and which idempotency key
/// made it. Money is in the currency's smallest unit.
#[derive(Debug, Clone)]
pub struct Payment {
    /// The record's own id; it orders a user's payments, newest last.
    pub record: ObjectId,
    pub user_id: UserId,
    pub cuid: Cuid,
    pub intent_id: PaymentIntentId,
    pub amount: i64,
    pub currency: Currency,
    pub status: PaymentStatus,
    pub payment_method: Option<PaymentMethodId>,
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
    /// `userId` and `cuid` from the intent's metadata, when it has both.
    pub owner: Option<(UserId, Cuid)>,
}

impl Payment {
    /// A new record for an intent Stripe just created for `user`.
    pub fn of(user_id: UserId, cuid: Cuid, intent: &Intent) -> Self {
        Self {
            record: ObjectId::new(),
            user_id,
            cuid,
            intent_id: intent.id.clone(),
            amount: intent.amount,
            currency: intent.currency.clone(),
            status: intent.status,
            payment_method: intent.payment_method.clone(),
        }
    }
}
