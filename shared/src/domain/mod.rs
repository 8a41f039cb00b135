//! Values that are valid by construction, the user and payment they make up,
//! and the payment status as a state machine. No I/O: the edge parses raw
//! input into these, stores and the gateway keep them, everything in between
//! relies on them.

mod cuid;
mod email;
mod money;
mod page;
mod password;
mod password_hash;
mod payment;
mod record_id;
mod refund;
mod status;
mod stripe_ids;
mod user;
mod user_id;
mod user_name;

pub use cuid::Cuid;
pub use email::Email;
pub use money::{Currency, Price};
pub use page::{Cursor, Page, PageLimit};
pub use password::Password;
pub use password_hash::PasswordHash;
pub use payment::{Intent, Payment};
pub use record_id::RecordId;
pub use refund::{Refund, RefundAmount, RefundStatus};
pub use status::PaymentStatus;
pub use stripe_ids::{ClientSecret, CustomerId, PaymentIntentId, PaymentMethodId, RefundId};
pub use user::{NewUser, Role, User, UserPatch};
pub use user_id::UserId;
pub use user_name::UserName;

/// Why a raw value was refused. The message is safe to show the client and
/// reads after the field name: "email {message}".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);

/// Serde for a string value with a `parse` constructor: a stored or received
/// value that does not parse is a deserialisation error, never a silently
/// wrong value.
macro_rules! string_value {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = $crate::domain::Invalid;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use string_value;
