//! The Stripe gateway: every call the API makes to Stripe, in our domain
//! types, with every answer classified.

mod error;
mod transport;
mod wire;

use std::time::Duration;

use http::Method;

pub use error::GatewayError;
use transport::{Form, Transport};

use crate::{
    config::ConfigError,
    domain::{
        ClientSecret, Cuid, Currency, CustomerId, Email, Intent, PaymentIntentId, PaymentMethodId, PaymentStatus,
        Price, Refund, RefundAmount, RefundId, RefundStatus, UserId, UserName,
    },
};

/// Stripe's limit on an `Idempotency-Key`.
const MAX_KEY_LEN: usize = 255;

pub struct Gateway {
    stripe: Transport,
    /// The product's price, as Stripe's form fields.
    amount: String,
    currency: String,
}

impl Gateway {
    pub fn new(secret_key: &str, api_base: &str, price: &Price) -> Result<Self, ConfigError> {
        let stripe = Transport::new(secret_key, api_base)
            .map_err(|why| ConfigError::InvalidEnv { name: "STRIPE_API_BASE", why })?;
        Ok(Self { stripe, amount: price.amount.to_string(), currency: price.currency.as_str().to_owned() })
    }

    /// Sends with retries (see `retried`); `key` makes the request idempotent.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        form: Form<'_>,
        key: Option<&str>,
    ) -> Result<T, GatewayError> {
        let key = key.map(idempotency_key);
        retried(|| self.stripe.send(method.clone(), path, form, key.as_deref())).await
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
        let user_id = user.to_string();
        let form = [("email", email.as_str()), ("name", name.as_str()), ("metadata[userId]", user_id.as_str())];
        let key = match replacing {
            None => format!("customer-{user}"),
            Some(deleted) => format!("customer-{user}-replacing-{deleted}"),
        };
        let customer: wire::Customer = self.send(Method::POST, "/v1/customers", &form, Some(&key)).await?;
        CustomerId::parse(&customer.id).map_err(|why| GatewayError::Unreadable(format!("customer id {why}")))
    }

    /// Keeps the customer's email and name those of the user.
    pub async fn update_customer(
        &self,
        customer: &CustomerId,
        email: &Email,
        name: &UserName,
    ) -> Result<(), GatewayError> {
        let form = [("email", email.as_str()), ("name", name.as_str())];
        let path = format!("/v1/customers/{customer}");
        self.send::<wire::Customer>(Method::POST, &path, &form, None).await.map(drop)
    }

    /// Deletes the customer and the personal data Stripe holds with it. One
    /// that is already gone counts as deleted.
    pub async fn delete_customer(&self, customer: &CustomerId) -> Result<(), GatewayError> {
        match self.send::<wire::Customer>(Method::DELETE, &format!("/v1/customers/{customer}"), &[], None).await {
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
        let user_id = user.to_string();
        let form = [
            ("amount", self.amount.as_str()),
            ("currency", self.currency.as_str()),
            ("customer", customer.as_str()),
            ("metadata[userId]", user_id.as_str()),
            ("metadata[cuid]", cuid.as_str()),
        ];
        // Scoped to the user (two users may pick the same cuid) and to the
        // customer (one that replaces a deleted customer is a new request).
        let key = format!("payment-{user}-{cuid}-{customer}");
        read_intent(self.send(Method::POST, "/v1/payment_intents", &form, Some(&key)).await?)
    }

    pub async fn confirm(&self, intent: &PaymentIntentId, method: &PaymentMethodId) -> Result<Intent, GatewayError> {
        let path = format!("/v1/payment_intents/{intent}/confirm");
        let key = format!("confirm-{intent}-{method}");
        read_intent(self.send(Method::POST, &path, &[("payment_method", method.as_str())], Some(&key)).await?)
    }

    /// The PaymentIntent now, with its latest charge (for what was refunded
    /// and whether it is disputed).
    pub async fn retrieve(&self, intent: &PaymentIntentId) -> Result<Intent, GatewayError> {
        let path = format!("/v1/payment_intents/{intent}");
        read_intent(self.send(Method::GET, &path, &[("expand[]", "latest_charge")], None).await?)
    }

    pub async fn cancel(&self, intent: &PaymentIntentId) -> Result<Intent, GatewayError> {
        let path = format!("/v1/payment_intents/{intent}/cancel");
        read_intent(self.send(Method::POST, &path, &[], Some(&format!("cancel-{intent}"))).await?)
    }

    /// Refunds `amount` of the intent's charge (everything left when not
    /// given), once per (intent, cuid).
    pub async fn refund(
        &self,
        intent: &PaymentIntentId,
        cuid: &Cuid,
        amount: RefundAmount,
    ) -> Result<Refund, GatewayError> {
        let amount = amount.get().map(|cents| cents.to_string());
        let mut form = vec![("payment_intent", intent.as_str())];
        if let Some(cents) = &amount {
            form.push(("amount", cents.as_str()));
        }
        let key = format!("refund-{intent}-{cuid}");
        let refund: wire::Refund = self.send(Method::POST, "/v1/refunds", &form, Some(&key)).await?;
        let unreadable = |what: &str, why| GatewayError::Unreadable(format!("refund {what} {why}"));
        Ok(Refund {
            id: RefundId::parse(&refund.id).map_err(|why| unreadable("id", why))?,
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
    Fut: std::future::Future<Output = Result<T, GatewayError>>,
{
    for backoff_ms in [50, 150, 450, 1350] {
        match send().await {
            Err(GatewayError::KeyInUse | GatewayError::RateLimited { .. }) => {
                tokio::time::sleep(Duration::from_millis(backoff_ms)).await
            }
            other => return other,
        }
    }
    send().await
}

/// An idempotency key within Stripe's 255 characters: a longer one keeps its
/// start and ends with a digest of the whole, so distinct keys stay distinct.
fn idempotency_key(key: &str) -> String {
    if key.len() <= MAX_KEY_LEN {
        return key.to_owned();
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let hex = crate::hex::encode(digest.as_ref());
    // Our keys are ASCII ids joined by `-`, so any byte is a char boundary.
    format!("{}-{hex}", &key[..MAX_KEY_LEN - hex.len() - 1])
}

/// Stripe's PaymentIntent in our types.
fn read_intent(intent: wire::PaymentIntent) -> Result<Intent, GatewayError> {
    let unreadable = |what: &str, why| GatewayError::Unreadable(format!("PaymentIntent {what} {why}"));
    let owner = match (intent.metadata.get("userId"), intent.metadata.get("cuid")) {
        (Some(user), Some(cuid)) => UserId::parse(user).ok().zip(Cuid::parse(cuid).ok()),
        _ => None,
    };
    let charge = intent.latest_charge.as_ref().and_then(wire::Expandable::object);
    Ok(Intent {
        id: PaymentIntentId::parse(&intent.id).map_err(|why| unreadable("id", why))?,
        amount: intent.amount,
        currency: Currency::parse(&intent.currency).map_err(|why| unreadable("currency", why))?,
        status: PaymentStatus::parse(&intent.status).map_err(|why| unreadable("status", why))?,
        payment_method: match &intent.payment_method {
            Some(method) => Some(PaymentMethodId::parse(method.id()).map_err(|why| unreadable("payment_method", why))?),
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

    #[test]
    fn short_keys_are_kept_as_they_are() {
        assert_eq!(idempotency_key("confirm-pi_1-pm_card_visa"), "confirm-pi_1-pm_card_visa");
    }

    #[test]
    fn long_keys_fit_stripes_limit_and_stay_distinct() {
        let (a, b) = (format!("confirm-pi_1-pm_{}a", "x".repeat(300)), format!("confirm-pi_1-pm_{}b", "x".repeat(300)));
        let (a, b) = (idempotency_key(&a), idempotency_key(&b));
        assert_eq!(a.len(), MAX_KEY_LEN);
        assert!(a.starts_with("confirm-pi_1-pm_"));
        assert_ne!(a, b);
    }
}
