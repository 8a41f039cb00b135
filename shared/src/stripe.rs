//! Every Stripe call the API makes, and what its failures mean to a client.

use std::{collections::HashMap, time::Duration};

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::{
    customer::CreateCustomer,
    payment_intent::{ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent},
    PaymentIntent,
};
use stripe_types::Currency;

use crate::{config::ConfigError, domain::UserId, http::ApiError};

/// Per attempt; keeps a slow Stripe inside the functions' timeout.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What Stripe said about one PaymentIntent, in the fields the API uses.
#[derive(Debug, Clone)]
pub struct Intent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub payment_method: Option<String>,
    pub client_secret: Option<String>,
}

impl From<PaymentIntent> for Intent {
    fn from(intent: PaymentIntent) -> Self {
        Self {
            id: intent.id.as_str().to_owned(),
            amount: intent.amount,
            currency: intent.currency.to_string(),
            status: intent.status.as_str().to_owned(),
            payment_method: intent.payment_method.map(|pm| pm.id().as_str().to_owned()),
            client_secret: intent.client_secret,
        }
    }
}

pub struct Stripe {
    client: Client,
}

impl Stripe {
    pub fn new(secret_key: &str, api_base: &str) -> Result<Self, ConfigError> {
        let client = ClientBuilder::new(secret_key)
            .url(api_base)
            .timeout(TIMEOUT)
            .build()
            .map_err(|err| ConfigError::InvalidEnv { name: "STRIPE_API_BASE", why: err.to_string() })?;
        Ok(Self { client })
    }

    /// Creates the user's customer. The idempotency key is the user's id, so
    /// concurrent first payments get one customer between them.
    pub async fn create_customer(&self, user: UserId, email: &str, name: &str) -> Result<String, ApiError> {
        let metadata = HashMap::from([("userId".to_owned(), user.to_string())]);
        let request = CreateCustomer::new().email(email).name(name).metadata(metadata);
        let strategy = idempotent(&format!("customer-{user}"))?;
        let customer =
            once_in_flight(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?;
        Ok(customer.id.as_str().to_owned())
    }

    /// Creates (or, for a key seen before, returns) the PaymentIntent.
    pub async fn create_intent(
        &self,
        key: &str,
        customer: &str,
        amount: i64,
        currency: &str,
        metadata: HashMap<String, String>,
    ) -> Result<Intent, ApiError> {
        let currency: Currency =
            currency.parse().map_err(|_| ApiError::Internal(format!("unknown currency {currency}")))?;
        let request = CreatePaymentIntent::new(amount, currency).customer(customer).metadata(metadata);
        let strategy = idempotent(key)?;
        let intent =
            once_in_flight(|| request.customize().request_strategy(strategy.clone()).send(&self.client)).await?;
        Ok(intent.into())
    }

    pub async fn confirm(&self, intent: &str, payment_method: &str, key: &str) -> Result<Intent, ApiError> {
        let request = ConfirmPaymentIntent::new(intent).payment_method(payment_method);
        let strategy = idempotent(key)?;
        once_in_flight(|| request.customize().request_strategy(strategy.clone()).send(&self.client))
            .await
            .map(Intent::from)
    }

    pub async fn retrieve(&self, intent: &str) -> Result<Intent, ApiError> {
        RetrievePaymentIntent::new(intent).send(&self.client).await.map(Intent::from).map_err(failure)
    }
}

/// Stripe answers 409 while another request with the same idempotency key
/// is in flight (concurrent retries of one payment); once that one is done
/// it replays its answer, so wait and ask again.
async fn once_in_flight<T, F, Fut>(send: F) -> Result<T, ApiError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, StripeError>>,
{
    for backoff_ms in [50, 150, 450, 1350] {
        match send().await {
            Err(StripeError::Stripe(_, 409)) => tokio::time::sleep(Duration::from_millis(backoff_ms)).await,
            other => return other.map_err(failure),
        }
    }
    send().await.map_err(failure)
}

fn idempotent(key: &str) -> Result<RequestStrategy, ApiError> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|err| ApiError::Internal(format!("idempotency key: {err}")))
}

/// A declined card is the client's 402; a Stripe that is down or answers
/// nonsense is our 502. Stripe's 4xx for a request we built is our bug,
/// except "no such payment method", which the client chose.
fn failure(err: StripeError) -> ApiError {
    match err {
        StripeError::Stripe(error, status) => {
            let message = error.message.clone().unwrap_or_else(|| "The payment was declined.".into());
            match (status, error.type_.as_str()) {
                (402, _) | (_, "card_error") => ApiError::PaymentRequired(message),
                (400 | 404, _) if error.param.as_deref() == Some("payment_method") => {
                    ApiError::field("paymentMethodId", "does not name a usable payment method")
                }
                // We only name intents we created; Stripe not knowing one
                // means the two disagree (another account, a reset test mode).
                (404, _) => {
                    tracing::error!(%message, "stripe has no record of an object we stored");
                    ApiError::BadGateway("Stripe has no record of this payment.".into())
                }
                (500.., _) => {
                    tracing::error!(status, %message, "stripe server error");
                    ApiError::BadGateway("Stripe is unavailable, please retry.".into())
                }
                _ => ApiError::Internal(format!("stripe refused a request ({status}): {message}")),
            }
        }
        StripeError::ClientError(detail) | StripeError::JSONDeserialize(detail) => {
            tracing::error!(%detail, "stripe unreachable or unreadable");
            ApiError::BadGateway("Stripe is unavailable, please retry.".into())
        }
        StripeError::Timeout => ApiError::BadGateway("Stripe did not answer in time, please retry.".into()),
        StripeError::ConfigError(detail) => ApiError::Internal(format!("stripe client: {detail}")),
    }
}
