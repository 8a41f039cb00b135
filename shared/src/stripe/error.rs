use super::wire;

/// Why Stripe could not be heard: a connection, TLS or HTTP failure, or a 5xx.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Stripe's answer, by what it means for the caller.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The card (or its bank) said no.
    #[error("the card was declined: {message}")]
    Declined { message: String },
    /// The PaymentIntent is not in a state that allows the action (e.g.
    /// confirming one that already succeeded).
    #[error("the PaymentIntent's state does not allow this: {message}")]
    InvalidState { message: String },
    /// Stripe refused a parameter; `param` names it in Stripe's terms.
    #[error("Stripe refused the request ({param:?}): {message}")]
    InvalidRequest { param: Option<String>, message: String },
    /// An object the request names does not exist at Stripe.
    #[error("Stripe has no such object ({param:?}): {message}")]
    NotFound { param: Option<String>, message: String },
    /// Too many requests, or a lock held too long: retry later.
    #[error("Stripe asks to slow down: {message}")]
    RateLimited { message: String },
    /// Another request with the same idempotency key is still in flight.
    #[error("a request with this idempotency key is in flight at Stripe")]
    KeyInUse,
    /// The idempotency key was used before with other parameters.
    #[error("the idempotency key was used with other parameters: {message}")]
    KeyReused { message: String },
    /// No answer within the timeout.
    #[error("Stripe did not answer in time")]
    TimedOut,
    /// Unreachable, failing (5xx) or answering nonsense.
    #[error("Stripe is unavailable")]
    Unavailable(#[source] Cause),
    /// Stripe answered something this code cannot read as our types.
    #[error("Stripe answered an object this API cannot read: {0}")]
    Unreadable(String),
}

impl GatewayError {
    /// An error answer by its status and Stripe's error object (`type`,
    /// `code`, `message`, `param`; all empty when the body was not Stripe's).
    pub(super) fn classify(status: u16, error: wire::ApiError) -> Self {
        let message = error.message.unwrap_or_default();
        let code = error.code.unwrap_or_default();
        let param = error.param;
        match (status, error.kind.as_str(), code.as_str()) {
            (402, ..) | (_, "card_error", _) => Self::Declined {
                message: if message.is_empty() { "The payment was declined.".into() } else { message },
            },
            (429, ..) | (_, _, "rate_limit" | "lock_timeout") => Self::RateLimited { message },
            (409, ..) | (_, _, "idempotency_key_in_use") => Self::KeyInUse,
            (_, "idempotency_error", _) => Self::KeyReused { message },
            (_, _, "payment_intent_unexpected_state") => Self::InvalidState { message },
            (404, ..) | (_, _, "resource_missing") => Self::NotFound { param, message },
            (500.., ..) => Self::Unavailable(format!("Stripe answered {status}: {message}").into()),
            _ => Self::InvalidRequest { param, message },
        }
    }
}
