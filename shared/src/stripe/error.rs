use ::stripe::StripeError;

/// Stripe's answer, by what it means for the caller.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The card (or its bank) said no.
    #[error("the card was declined: {message}")]
    Declined { message: String },
    /// The object is not in a state that allows the action (e.g.
    /// confirming a PaymentIntent that already succeeded).
    #[error("the object's state does not allow this: {message}")]
    InvalidState { message: String },
    /// Stripe refused the request; `code` and `param` say why, in Stripe's
    /// terms (`amount_too_large`, `charge_already_refunded`, `charge_disputed`…).
    #[error("Stripe refused the request ({code:?}, {param:?}): {message}")]
    InvalidRequest { code: Option<String>, param: Option<String>, message: String },
    /// An object the request names does not exist at Stripe.
    #[error("Stripe has no such object ({param:?}): {message}")]
    NotFound { param: Option<String>, message: String },
    /// Too many requests, or a lock held too long: retry later.
    #[error("Stripe asks to slow down: {message}")]
    RateLimited { message: String },
    /// Another request with the same idempotency key is still in flight.
    #[error("a request with this idempotency key is in flight at Stripe")]
    KeyInUse,
    /// The idempotency key was used before with other parameters: two of
    /// our requests share a key they should not.
    #[error("the idempotency key was used with other parameters: {message}")]
    KeyReused { message: String },
    /// No answer within the timeout.
    #[error("Stripe did not answer in time")]
    TimedOut,
    /// Unreachable or failing (5xx).
    #[error("Stripe is unavailable")]
    Unavailable(#[source] StripeError),
    /// Stripe answered something this code cannot read as our types.
    #[error("Stripe answered an object this API cannot read: {0}")]
    Unreadable(String),
}

impl GatewayError {
    /// async-stripe's error by what it means for the caller: the status and
    /// Stripe's error object (`type`, `code`, `message`, `param`).
    pub(super) fn classify(err: StripeError) -> Self {
        let (error, status) = match err {
            StripeError::Stripe(error, status) => (error, status),
            StripeError::Timeout => return Self::TimedOut,
            StripeError::JSONDeserialize(why) => return Self::Unreadable(why),
            other => return Self::Unavailable(other),
        };
        let message = error.message.clone().unwrap_or_default();
        let code = error.code.as_ref().map(|code| code.as_str().to_owned());
        let param = error.param.clone();
        match (status, error.type_.as_str(), code.as_deref().unwrap_or_default()) {
            (402, ..) | (_, "card_error", _) => Self::Declined {
                message: if message.is_empty() { "The payment was declined.".into() } else { message },
            },
            (429, ..) | (_, _, "rate_limit" | "lock_timeout") => Self::RateLimited { message },
            (409, ..) | (_, _, "idempotency_key_in_use") => Self::KeyInUse,
            (_, "idempotency_error", _) => Self::KeyReused { message },
            (_, _, "payment_intent_unexpected_state") => Self::InvalidState { message },
            (404, ..) | (_, _, "resource_missing") => Self::NotFound { param, message },
            (500.., ..) => Self::Unavailable(StripeError::Stripe(error, status)),
            _ => Self::InvalidRequest { code, param, message },
        }
    }

    /// Stripe's error code, when it refused the request with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}
