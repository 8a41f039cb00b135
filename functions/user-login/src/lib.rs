//! POST /user/login — email and password for an access token.

use shared::{
    auth,
    http::{client_address, created, parse, responses::AuthGrant, ApiError, Body, Request, Response},
    CoreState,
};

pub async fn handle(state: &'static CoreState, req: Request) -> Result<Response<Body>, ApiError> {
    let (email, password) = parse::credentials(&req)?;
    let access_token = auth::login(state.gate(), &email, &password, &client_address(&req)).await?;
    created(&AuthGrant { access_token })
}
