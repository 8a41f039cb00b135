//! Values that are valid by construction: the edge parses raw input into
//! these, and everything past the edge can rely on them.

mod customer_id;
mod email;
mod password;
mod user_id;
mod user_name;

pub use customer_id::CustomerId;
pub use email::Email;
pub use password::Password;
pub use user_id::UserId;
pub use user_name::UserName;

/// Why a raw value was refused. The message is safe to show the client and
/// reads after the field name: "email {message}".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);
