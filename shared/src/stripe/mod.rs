//! The Stripe gateway: every call the API makes to Stripe, in our domain
//! types, with every answer classified.

mod error;

use std::{collections::HashMap, time::Duration};

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::{
    customer::{CreateCustomer, DeleteCustomer, UpdateCustomer},
    payment_intent::{CancelPaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent},
    refund::CreateRefund,
    PaymentIntent,
};
use stripe_types::Currency as StripeCurrency;

pub use error::GatewayError;

use crate::{
    config::ConfigError,
    domain::{
        ClientSecret, Cuid, Currency, CustomerId, Email, Intent, PaymentIntentId, PaymentMethodId, PaymentStatus,
        Price, Refund, RefundAmount, RefundId, RefundStatus, UserId, UserName,
    },
};

/// Per attempt; keeps a slow Stripe inside the functions' timeout.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Stripe's limit on an `Idempotency-Key`.
const MAX_KEY_LEN: usize = 255;

pub struct Gateway {
    client: Client,
    /// The product's price, with the currency already in Stripe's terms.
    amount: i64,
    currency: StripeCurrency,
}

impl Gateway {
    pub fn new(secret_key: &str, api_base: &str, price: &Price) -> Result<Self, ConfigError> {
        let client = ClientBuilder::new(secret_key)
            .url(api_base)
            .timeout(TIMEOUT)
            .build()
            .map_err(|err| ConfigError::InvalidEnv { name: "STRIPE_API_BASE", why: err.to_string() })?;
        let currency = price.currency.as_str().parse().map_err(|_| ConfigError::InvalidEnv {
            name: "PAYMENT_CURRENCY",
            why: format!("Stripe does not know the currency {}", price.currency),
        })?;
        Ok(Self { client, amount: price.amount, currency })
    }

    /// Creates the user's customer. The idempotency key is the user's id, so
    /// concurrent first payments get one customer between them; a customer
    /// that replaces one deleted at Stripe gets a key of its own.
    pub async fn create_customer(
        &self,
        user: UserId,
        email: &Email,
        name: &UserName,
        replacing: Option<&CustomerId>,
    ) -> Result<CustomerId, GatewayError> {
        let metadata = HashMap::from([("userId".to_owned(), user.to_string())]);
        let request = CreateCustomer::new().email(email.as_str()).name(name.as_str()).metadata(metadata);
        let key = match replacing {
            None => format!("customer-{user}"),
            Some(deleted) => format!("customer-{user}-replacing-{deleted}"),
        };
        let strategy = idempotent(&key);
        let customer = retried(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?;
        CustomerId::parse(customer.id.as_str()).map_err(|why| GatewayError::Unreadable(format!("customer id {why}")))
    }

    /// Keeps the customer's email and name those of the user.
    pub async fn update_customer(
        &self,
        customer: &CustomerId,
        email: &Email,
        name: &UserName,
    ) -> Result<(), GatewayError> {
        let request = UpdateCustomer::new(customer.as_str()).email(email.as_str()).name(name.as_str());
        retried(|| request.send(&self.client)).await.map(drop)
    }

    /// Deletes the customer and the personal data Stripe holds with it. One
    /// that is already gone counts as deleted.
    pub async fn delete_customer(&self, customer: &CustomerId) -> Result<(), GatewayError> {
        let request = DeleteCustomer::new(customer.as_str());
        match retried(|| request.send(&self.client)).await {
            Ok(_) | Err(GatewayError::NotFound { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Creates (or, for a (user, cuid) seen before, returns) the PaymentIntent
    /// for the product, with the user and cuid in its metadata.
    pub async fn create_intent(
        &self,
        user: UserId,
        cuid: &Cuid,
        customer: &CustomerId,
    ) -> Result<Intent, GatewayError> {
        let metadata = HashMap::from([("userId".to_owned(), user.to_string()), ("cuid".to_owned(), cuid.to_string())]);
        let request =
            CreatePaymentIntent::new(self.amount, self.currency.clone()).customer(customer.as_str()).metadata(metadata);
        // Scoped to the user (two users may pick the same cuid) and to the
        // customer (one that replaces a deleted customer is a new request).
        let strategy = idempotent(&format!("payment-{user}-{cuid}-{customer}"));
        let intent = retried(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?;
        read_intent(intent)
    }

    pub async fn confirm(&self, intent: &PaymentIntentId, method: &PaymentMethodId) -> Result<Intent, GatewayError> {
        let request = ConfirmPaymentIntent::new(intent.as_str()).payment_method(method.as_str());
        let strategy = idempotent(&format!("confirm-{intent}-{method}"));
        read_intent(retried(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?)
    }

    /// The PaymentIntent now, with its latest charge (for what was refunded
    /// and whether it is disputed).
    pub async fn retrieve(&self, intent: &PaymentIntentId) -> Result<Intent, GatewayError> {
        let request = RetrievePaymentIntent::new(intent.as_str()).expand(vec!["latest_charge".to_owned()]);
        read_intent(retried(|| request.send(&self.client)).await?)
    }

    pub async fn cancel(&self, intent: &PaymentIntentId) -> Result<Intent, GatewayError> {
        let request = CancelPaymentIntent::new(intent.as_str());
        let strategy = idempotent(&format!("cancel-{intent}"));
        read_intent(retried(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?)
    }

    /// Refunds `amount` of the intent's charge (everything left when not
    /// given), once per (intent, cuid).
    pub async fn refund(
        &self,
        intent: &PaymentIntentId,
        cuid: &Cuid,
        amount: RefundAmount,
    ) -> Result<Refund, GatewayError> {
        let mut request = CreateRefund::new().payment_intent(intent.as_str());
        if let Some(amount) = amount.get() {
            request = request.amount(amount);
        }
        let strategy = idempotent(&format!("refund-{intent}-{cuid}"));
        let refund = retried(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?;
        let unreadable = |what: &str, why| GatewayError::Unreadable(format!("refund {what} {why}"));
        Ok(Refund {
            id: RefundId::parse(refund.id.as_str()).map_err(|why| unreadable("id", why))?,
            intent_id: intent.clone(),
            cuid: cuid.clone(),
            amount: refund.amount,
            status: RefundStatus::parse(refund.status.as_deref().unwrap_or_default())
                .map_err(|why| unreadable("status", why))?,
        })
    }
}

/// Sends, and asks again after a pause when Stripe says to: a 409 while
/// another request with the same idempotency key is in flight (it replays
/// that one's answer once done), a 429 or a lock timeout. About 2 s in all,
/// so a retry never outlasts the function; then the caller hears why.
async fn retried<T, F, Fut>(send: F) -> Result<T, GatewayError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, StripeError>>,
{
    for backoff_ms in [50, 150, 450, 1350] {
        match send().await.map_err(GatewayError::classify) {
            Err(GatewayError::KeyInUse | GatewayError::RateLimited { .. }) => {
                tokio::time::sleep(Duration::from_millis(backoff_ms)).await
            }
            other => return other,
        }
    }
    send().await.map_err(GatewayError::classify)
}

/// An idempotency key within Stripe's 255 characters: a longer one keeps its
/// start and ends with a digest of the whole, so distinct keys stay distinct.
fn idempotent(key: &str) -> RequestStrategy {
    let key = if key.len() <= MAX_KEY_LEN {
        key.to_owned()
    } else {
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{hex}", &key[..MAX_KEY_LEN - hex.len() - 1])
    };
    // Our keys are ASCII ids joined by `-`: never empty, and now in the limit.
    RequestStrategy::Idempotent(IdempotencyKey::new(&key).expect("a non-empty key within Stripe's limit"))
}

/// Stripe's PaymentIntent in our types.
fn read_intent(intent: PaymentIntent) -> Result<Intent, GatewayError> {
    let unreadable = |what: &str, why| GatewayError::Unreadable(format!("PaymentIntent {what} {why}"));
    let owner = match (intent.metadata.get("userId"), intent.metadata.get("cuid")) {
        (Some(user), Some(cuid)) => UserId::parse(user).ok().zip(Cuid::parse(cuid).ok()),
        _ => None,
    };
    let charge = intent.latest_charge.as_ref().and_then(|charge| charge.as_object());
    Ok(Intent {
        id: PaymentIntentId::parse(intent.id.as_str()).map_err(|why| unreadable("id", why))?,
        amount: intent.amount,
        currency: Currency::parse(&intent.currency.to_string()).map_err(|why| unreadable("currency", why))?,
        status: PaymentStatus::parse(intent.status.as_str()).map_err(|why| unreadable("status", why))?,
        payment_method: match intent.payment_method {
            Some(method) => {
                Some(PaymentMethodId::parse(method.id().as_str()).map_err(|why| unreadable("payment_method", why))?)
            }
            None => None,
        },
        client_secret: intent.client_secret.map(ClientSecret::new),
        amount_refunded: charge.map_or(0, |c| c.amount_refunded),
        disputed: charge.is_some_and(|c| c.disputed),
        owner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(strategy: RequestStrategy) -> String {
        match strategy {
            RequestStrategy::Idempotent(key) => key.as_str().to_owned(),
            other => panic!("not idempotent: {other:?}"),
        }
    }

    #[test]
    fn short_keys_are_kept_as_they_are() {
        assert_eq!(key_of(idempotent("confirm-pi_1-pm_card_visa")), "confirm-pi_1-pm_card_visa");
    }

    #[test]
    fn long_keys_fit_stripes_limit_and_stay_distinct() {
        let (a, b) = (format!("confirm-pi_1-pm_{}a", "x".repeat(300)), format!("confirm-pi_1-pm_{}b", "x".repeat(300)));
        let (a, b) = (key_of(idempotent(&a)), key_of(idempotent(&b)));
        assert_eq!(a.len(), MAX_KEY_LEN);
        assert!(a.starts_with("confirm-pi_1-pm_"));
        assert_ne!(a, b);
    }
}
