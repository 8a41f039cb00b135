//! Values that are valid by construction: the edge parses raw input into
//! these, and everything past the edge can rely on them.

mod cuid;
mod email;
mod password;
mod stripe_ids;
mod user_id;
mod user_name;

pub use cuid::Cuid;
pub use email::Email;
pub use password::Password;
pub use stripe_ids::{CustomerId, PaymentIntentId, PaymentMethodId};
pub use user_id::UserId;
pub use user_name::UserName;

/// Why a raw value was refused. The message is safe to show the client and
/// reads after the field name: "email {message}".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);
