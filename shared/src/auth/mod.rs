//! Who is calling and what they may do.

mod caller;
mod grant;
pub mod password;
mod token;

pub use caller::{authenticate, Caller};
pub use grant::AuthGrant;
pub use token::Tokens;
