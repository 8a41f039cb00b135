//! POST /user/login — email and password for an access token.

use shared::{
    auth::{password, AuthGrant},
    domain::{Email, Password},
    http::{created, ApiError, Body, JsonObject, Request, Response},
    AppState,
};

/// One message for unknown email and wrong password alike, so the answer
/// does not tell which emails are registered.
const BAD_CREDENTIALS: ApiError = ApiError::Unauthorized("Invalid email or password.");

pub async fn handle(state: &'static AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body = JsonObject::from_request(&req, &["email", "password"])?;
    let email = body.required("email", Email::parse)?;
    let password = body.required("password", Password::parse)?;
    let user = state.users().by_email(&email).await?;
    if !password::verify(&password, user.as_ref().map(|u| &u.password_hash)).await {
        return Err(BAD_CREDENTIALS);
    }
    let user = user.ok_or(BAD_CREDENTIALS)?;
    created(&AuthGrant { access_token: state.tokens.issue(user.id())? })
}
