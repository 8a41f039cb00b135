//! POST /user — an admin creates a user.

use shared::{
    auth::authenticate,
    http::{created, ApiError, Body, Request, Response},
    users::{NewUser, UserDto},
    AppState,
};

pub async fn handle(state: &'static AppState, req: Request) -> Result<Response<Body>, ApiError> {
    authenticate(state, &req).await?.require_admin()?;
    let new_user = NewUser::from_request(&req)?;
    let user = state.users().create(new_user).await?;
    created(&UserDto::from(user))
}
