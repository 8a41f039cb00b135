//! The Stripe gateway: every call the API makes to Stripe, through
//! async-stripe (generated from Stripe's OpenAPI at the version it pins,
//! 2026-09-30.endive), in our domain types, with every answer classified;
//! and Stripe's webhook signature scheme (`webhook::verify`).

mod error;
mod lists;
mod read;
mod refunds;
pub mod webhook;

use std::{collections::HashMap, future::Future, time::Duration};

use ::stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::{
    customer::{CreateCustomer, DeleteCustomer, UpdateCustomer},
    payment_intent::{
        CancelPaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent, CreatePaymentIntentAutomaticPaymentMethods,
        CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects, RetrievePaymentIntent,
    },
};
use stripe_types::Currency as StripeCurrency;

pub use error::GatewayError;
pub use read::SeenRefund;

use crate::{
    config::ConfigError,
    domain::{Cuid, CustomerId, Email, Intent, PaymentIntentId, PaymentMethodId, Price, UserId, UserName},
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

    /// Creates the user's customer. Concurrent first payments get one
    /// customer between them: the key is the user's id and the details sent,
    /// so a retry after a lost save with changed details is a new request
    /// rather than an `idempotency_error`. A customer that replaces one
    /// deleted at Stripe gets a key of its own.
    pub async fn create_customer(
        &self,
        user: UserId,
        email: &Email,
        name: &UserName,
        replacing: Option<&CustomerId>,
    ) -> Result<CustomerId, GatewayError> {
        let metadata = HashMap::from([("userId".to_owned(), user.to_string())]);
        let request = CreateCustomer::new().email(email.as_str()).name(name.as_str()).metadata(metadata);
        let details = digest(&[email.as_str(), name.as_str()]);
        let key = match replacing {
            None => format!("customer-{user}-{details}"),
            Some(deleted) => format!("customer-{user}-{details}-replacing-{deleted}"),
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
    ///
    /// Cards are confirmed server-side (`POST /payment/confirm`) or by
    /// Stripe.js in the page, so the intent takes the Dashboard's payment
    /// methods without redirects (`allow_redirects=never`): otherwise Stripe
    /// refuses a server-side confirm without a `return_url`, and this API has
    /// no page to return to. 3-D Secure stays possible: it is an in-page
    /// `requires_action`, not a redirect.
    pub async fn create_intent(
        &self,
        user: UserId,
        cuid: &Cuid,
        customer: &CustomerId,
    ) -> Result<Intent, GatewayError> {
        let metadata = HashMap::from([("userId".to_owned(), user.to_string()), ("cuid".to_owned(), cuid.to_string())]);
        let mut methods = CreatePaymentIntentAutomaticPaymentMethods::new(true);
        methods.allow_redirects = Some(CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects::Never);
        let request = CreatePaymentIntent::new(self.amount, self.currency.clone())
            .customer(customer.as_str())
            .automatic_payment_methods(methods)
            .metadata(metadata);
        // Scoped to the user (two users may pick the same cuid) and to the
        // customer (one that replaces a deleted customer is a new request).
        let strategy = idempotent(&format!("payment-{user}-{cuid}-{customer}"));
        let read_at = read::now();
        let intent = retried(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?;
        read::intent(intent, read_at)
    }

    /// Confirms the intent with a card. `attempt` numbers the client's
    /// attempts at this payment: a retry of the same attempt (after a lost
    /// answer) replays Stripe's first answer, while a new attempt after a
    /// decline or a failed 3-D Secure is a new request to Stripe.
    pub async fn confirm(
        &self,
        intent: &PaymentIntentId,
        method: &PaymentMethodId,
        attempt: u32,
    ) -> Result<Intent, GatewayError> {
        let request = ConfirmPaymentIntent::new(intent.as_str()).payment_method(method.as_str());
        let strategy = idempotent(&format!("confirm-{intent}-{attempt}-{method}"));
        let read_at = read::now();
        let intent = retried(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?;
        read::intent(intent, read_at)
    }

    /// The PaymentIntent now, with its latest charge (for what was refunded
    /// and whether it is disputed).
    pub async fn retrieve(&self, intent: &PaymentIntentId) -> Result<Intent, GatewayError> {
        let request = RetrievePaymentIntent::new(intent.as_str()).expand(vec!["latest_charge".to_owned()]);
        let read_at = read::now();
        read::intent(retried(|| request.send(&self.client)).await?, read_at)
    }

    pub async fn cancel(&self, intent: &PaymentIntentId) -> Result<Intent, GatewayError> {
        let request = CancelPaymentIntent::new(intent.as_str());
        let strategy = idempotent(&format!("cancel-{intent}"));
        let read_at = read::now();
        let intent = retried(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?;
        read::intent(intent, read_at)
    }
}

/// Sends, and asks again after a pause when Stripe says to: a 409 while
/// another request with the same idempotency key is in flight (it replays
/// that one's answer once done), a 429 or a lock timeout. About 2 s in all,
/// so a retry never outlasts the function; then the caller hears why.
async fn retried<T, F, Fut>(send: F) -> Result<T, GatewayError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, StripeError>>,
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

fn idempotent(key: &str) -> RequestStrategy {
    let key = idempotency_key(key);
    // Our keys are ASCII ids joined by `-`: never empty, and now in the limit.
    RequestStrategy::Idempotent(IdempotencyKey::new(&key).expect("a non-empty key within Stripe's limit"))
}

/// An idempotency key within Stripe's 255 characters: a longer one keeps its
/// start and ends with a digest of the whole, so distinct keys stay distinct.
fn idempotency_key(key: &str) -> String {
    if key.len() <= MAX_KEY_LEN {
        return key.to_owned();
    }
    let hex = digest(&[key]);
    // Our keys are ASCII ids joined by `-`, so any byte is a char boundary.
    format!("{}-{hex}", &key[..MAX_KEY_LEN - hex.len() - 1])
}

/// A SHA-256 of the parts, in hex: stands for them inside a key.
fn digest(parts: &[&str]) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part.as_bytes());
    }
    crate::hex::encode(context.finish().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_kept_as_they_are() {
        assert_eq!(idempotency_key("confirm-pi_1-0-pm_card_visa"), "confirm-pi_1-0-pm_card_visa");
    }

    #[test]
    fn long_keys_fit_stripes_limit_and_stay_distinct() {
        let (a, b) = (format!("confirm-pi_1-pm_{}a", "x".repeat(300)), format!("confirm-pi_1-pm_{}b", "x".repeat(300)));
        let (a, b) = (idempotency_key(&a), idempotency_key(&b));
        assert_eq!(a.len(), MAX_KEY_LEN);
        assert!(a.starts_with("confirm-pi_1-pm_"));
        assert_ne!(a, b);
    }

    #[test]
    fn digests_keep_the_parts_apart() {
        assert_ne!(digest(&["ab", "c"]), digest(&["a", "bc"]));
        assert_eq!(digest(&["a", "b"]), digest(&["a", "b"]));
    }
}
