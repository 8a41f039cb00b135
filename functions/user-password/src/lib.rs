//! POST /user/password — the caller changes their password, given the
//! current one; every older token stops working, and a new one is answered.

use shared::{
    auth,
    http::{authenticate, created, parse, responses::AuthGrant, ApiError, Body, Request, Response},
    CoreState,
};

pub async fn handle(state: &'static CoreState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, &req).await?;
    let (current, new) = parse::password_change(&req)?;
    let access_token = auth::change_password(state.gate(), &caller, &current, &new).await?;
    created(&AuthGrant { access_token })
}
