//! POST /user/register — anyone may open an account; answers an access token.

use shared::{
    auth::AuthGrant,
    http::{created, ApiError, Body, Request, Response},
    users::NewUser,
    AppState,
};

pub async fn handle(state: &'static AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let new_user = NewUser::from_request(&req)?;
    let user = state.users().create(new_user).await?;
    created(&AuthGrant { access_token: state.tokens.issue(user.id())? })
}
