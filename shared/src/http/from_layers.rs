//! What each layer's failure means to a client: the one place that maps
//! errors to statuses and messages.

use super::ApiError;
use crate::{
    auth::{AuthError, Denied, InvalidToken},
    domain::PaymentStatus,
    payments::PaymentsError,
    store::StoreError,
    stripe::GatewayError,
    users::UsersError,
};

const INVALID_TOKEN: ApiError = ApiError::Unauthorized("Invalid or expired token.");
const STRIPE_DOWN: &str = "Stripe is unavailable, please retry.";

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) | StoreError::Vanished(_) => Self::ServiceUnavailable {
                message: "Database is unavailable, please retry.",
                retry_after: 1,
                cause: err.into(),
            },
            other => Self::internal(other),
        }
    }
}

impl From<InvalidToken> for ApiError {
    fn from(_: InvalidToken) -> Self {
        INVALID_TOKEN
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidToken(_) => INVALID_TOKEN,
            // One message for unknown email and wrong password alike.
            AuthError::BadCredentials => Self::Unauthorized("Invalid email or password."),
            AuthError::WrongPassword => Self::Unauthorized("The current password is incorrect."),
            AuthError::Throttled(throttled) => Self::TooManyRequests {
                message: "Too many failed logins for this account, please retry later.",
                retry_after: throttled.retry_after.as_secs_f64().ceil() as u64,
            },
            AuthError::Store(store) => store.into(),
            other @ (AuthError::Signing(_) | AuthError::Hashing(_)) => Self::internal(other),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        Self::Forbidden(match denied {
            Denied::NotAdmin => "Only an admin may do this.",
            Denied::NotTheirs => "You may only access your own user.",
            Denied::CustomerIdIsAdminOnly => "Only an admin may change customerId.",
        })
    }
}

impl From<UsersError> for ApiError {
    fn from(err: UsersError) -> Self {
        match err {
            UsersError::NotFound => Self::NotFound("User not found."),
            UsersError::EmailTaken => Self::Conflict("Email is already registered."),
            UsersError::Denied(denied) => denied.into(),
            UsersError::Stripe(stripe) => stripe.into(),
            UsersError::Store(store) => store.into(),
            other @ (UsersError::Hashing(_) | UsersError::Signing(_)) => Self::internal(other),
        }
    }
}

impl From<PaymentsError> for ApiError {
    fn from(err: PaymentsError) -> Self {
        match err {
            PaymentsError::NotFound => Self::NotFound("Payment not found."),
            PaymentsError::CuidMismatch => Self::field("cuid", "does not match this payment"),
            // Well formed but naming nothing the caller can pay with, like an
            // unknown payment.
            PaymentsError::UnusablePaymentMethod(_) => Self::NotFound("Payment method not found or not usable."),
            PaymentsError::WrongState(status) => Self::Conflict(match status {
                PaymentStatus::Succeeded => "The payment has already succeeded.",
                PaymentStatus::Canceled => "The payment has been canceled.",
                PaymentStatus::Processing => "The payment is being processed.",
                _ => "The payment has not succeeded.",
            }),
            PaymentsError::RefundTooLarge => Self::Conflict("The refund exceeds what is left to refund."),
            PaymentsError::Disputed => Self::Conflict("The payment is disputed; the dispute settles it."),
            PaymentsError::CuidReused => Self::Conflict("This cuid was already used for a refund of another amount."),
            PaymentsError::Denied(denied) => denied.into(),
            PaymentsError::Stripe(stripe) => stripe.into(),
            PaymentsError::Store(store) => store.into(),
        }
    }
}

impl From<GatewayError> for ApiError {
    fn from(err: GatewayError) -> Self {
        match err {
            GatewayError::Declined { message } => Self::PaymentRequired(message),
            GatewayError::InvalidState { .. } => Self::Conflict("The payment's state does not allow this."),
            GatewayError::RateLimited { .. } | GatewayError::KeyInUse => {
                Self::ServiceUnavailable { message: "Stripe is busy, please retry.", retry_after: 1, cause: err.into() }
            }
            // We only name intents we created; Stripe not knowing one means
            // the two disagree (another account, a reset test mode).
            GatewayError::NotFound { .. } => Self::BadGateway("Stripe has no record of this payment.", err.into()),
            GatewayError::TimedOut => Self::BadGateway("Stripe did not answer in time, please retry.", err.into()),
            GatewayError::Unavailable(_) => Self::BadGateway(STRIPE_DOWN, err.into()),
            // A request we built that Stripe refused (a key of ours reused
            // with other parameters among them), or an answer we cannot
            // read: Stripe and this code disagree.
            GatewayError::InvalidRequest { .. } | GatewayError::KeyReused { .. } | GatewayError::Unreadable(_) => {
                Self::BadGateway("Stripe refused the request.", err.into())
            }
        }
    }
}
