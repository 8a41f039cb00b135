//! Who is calling and what they may do: password hashing, access tokens,
//! logging in and authenticating a token.

mod caller;
pub mod password;
mod token;

pub use caller::{Caller, Denied};
pub use token::{InvalidToken, SigningFailed, Tokens};

use crate::{
    domain::{Email, Password},
    store::{StoreError, Users},
};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is invalid, expired, or its user is gone.
    #[error(transparent)]
    InvalidToken(#[from] InvalidToken),
    /// Unknown email or wrong password; which of the two is not told.
    #[error("wrong email or password")]
    BadCredentials,
    #[error(transparent)]
    Signing(#[from] SigningFailed),
    #[error("reading the user failed")]
    Store(#[from] StoreError),
}

/// The user a bearer token was issued to, as they are now.
pub async fn authenticate(users: &Users, tokens: &Tokens, token: &str) -> Result<Caller, AuthError> {
    let id = tokens.verify(token)?;
    let user = users.get(id).await?.ok_or(InvalidToken)?;
    Ok(Caller { user })
}

/// An access token for the right email and password. An unknown email
/// costs one verification too, so timing does not tell which exist.
pub async fn login(users: &Users, tokens: &Tokens, email: &Email, password: &Password) -> Result<String, AuthError> {
    let user = users.by_email(email).await?;
    if !password::verify(password, user.as_ref().map(|u| &u.password_hash)).await {
        return Err(AuthError::BadCredentials);
    }
    let user = user.ok_or(AuthError::BadCredentials)?;
    Ok(tokens.issue(user.id)?)
}
