//! POST /user/register — anyone may open an account; answers an access token.

use shared::{
    http::{created, parse, responses::AuthGrant, ApiError, Body, Request, Response},
    users, CoreState,
};

pub async fn handle(state: &'static CoreState, req: Request) -> Result<Response<Body>, ApiError> {
    let new_user = parse::new_user(&req)?;
    let access_token = users::register(state.gate(), new_user).await?;
    created(&AuthGrant { access_token })
}
