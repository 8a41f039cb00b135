//! Who is calling and what they may do: password hashing, access tokens,
//! logging in and authenticating a token.

mod caller;
pub mod password;
mod throttle;
mod token;

pub use caller::{Caller, Denied};
pub use throttle::{ClientAddress, Limit, Throttle, Throttled};
pub use token::{InvalidToken, SigningFailed, Tokens};

use crate::{
    domain::{Email, Password},
    store::{StoreError, Users},
    telemetry,
};
use password::HashError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is invalid, expired, or its user is gone.
    #[error(transparent)]
    InvalidToken(#[from] InvalidToken),
    /// Unknown email or wrong password; which of the two is not told.
    #[error("wrong email or password")]
    BadCredentials,
    /// The caller's current password, asked for to change it, is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// Too many failed attempts for this account.
    #[error("too many failed logins")]
    Throttled(Throttled),
    #[error("hashing the new password failed")]
    Hashing(#[from] HashError),
    #[error(transparent)]
    Signing(#[from] SigningFailed),
    #[error("reading the user failed")]
    Store(#[from] StoreError),
}

/// The user a bearer token was issued to, as they are now. A token issued
/// before their last password change is refused.
pub async fn authenticate(users: &Users, tokens: &Tokens, token: &str) -> Result<Caller, AuthError> {
    let (id, version) = tokens.verify_versioned(token)?;
    let user = users.get(id).await?.filter(|user| user.token_version == version).ok_or(InvalidToken)?;
    Ok(Caller { user })
}

/// The accounts' front door: what registering, logging in and changing a
/// password take (the accounts, the token keys, the throttle).
#[derive(Clone, Copy)]
pub struct Gate<'a> {
    pub users: &'a Users,
    pub tokens: &'a Tokens,
    pub throttle: &'a Throttle,
}

/// An access token for the right email and password, from `address`. An
/// unknown email costs one verification too, so timing does not tell which
/// exist, and is throttled the same way.
pub async fn login(
    gate: Gate<'_>,
    email: &Email,
    password: &Password,
    address: &ClientAddress,
) -> Result<String, AuthError> {
    let admitted = admitted(gate, &[Limit::Address(address), Limit::Account(email, address)]).await?;
    let user = gate.users.by_email(email).await?;
    let user = match user {
        Some(user) if password::verify(password, Some(&user.password_hash)).await => user,
        unknown_or_wrong => {
            if unknown_or_wrong.is_none() {
                password::verify(password, None).await;
            }
            gate.throttle.failed(admitted).await?;
            telemetry::count("LoginsFailed");
            return Err(AuthError::BadCredentials);
        }
    };
    gate.throttle.succeeded(admitted).await?;
    Ok(gate.tokens.issue(&user)?)
}

/// Changes the caller's password, given the current one (a wrong one counts
/// as a failed login). Every token issued before is refused from now on; the
/// answer is a new one.
pub async fn change_password(
    gate: Gate<'_>,
    caller: &Caller,
    current: &Password,
    new: &Password,
) -> Result<String, AuthError> {
    // Keyed by the user, not the email, which the caller can change.
    let admitted = admitted(gate, &[Limit::PasswordOf(caller.id())]).await?;
    if !password::verify(current, Some(&caller.user.password_hash)).await {
        gate.throttle.failed(admitted).await?;
        telemetry::count("LoginsFailed");
        return Err(AuthError::WrongPassword);
    }
    gate.throttle.succeeded(admitted).await?;
    let hash = password::hash(new).await?;
    let user = gate.users.set_password(caller.id(), &hash).await?.ok_or(InvalidToken)?;
    // A new password: the account's login limits start over too.
    gate.throttle.forget(&user.email, user.id).await?;
    Ok(gate.tokens.issue(&user)?)
}

/// The attempt, unless one of its limits is throttled.
async fn admitted(gate: Gate<'_>, limits: &[Limit<'_>]) -> Result<throttle::Admitted, AuthError> {
    gate.throttle.admit(limits).await?.map_err(|throttled| {
        telemetry::count("LoginsThrottled");
        AuthError::Throttled(throttled)
    })
}
