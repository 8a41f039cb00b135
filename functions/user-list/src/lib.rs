//! GET /user — an admin lists every user.

use shared::{
    auth::authenticate,
    http::{ok, ApiError, Body, Request, Response},
    users::UserDto,
    AppState,
};

pub async fn handle(state: &'static AppState, req: Request) -> Result<Response<Body>, ApiError> {
    authenticate(state, &req).await?.require_admin()?;
    let users: Vec<UserDto> = state.users().list().await?.into_iter().map(UserDto::from).collect();
    ok(&users)
}
