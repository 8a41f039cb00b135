use serde::Serialize;

/// `AuthGrantDto`, the answer to register and login.
#[derive(Serialize)]
pub struct AuthGrant {
    pub access_token: String,
}
