//! POST /user — an admin creates a user.

use shared::{
    http::{authenticate, created, parse, responses::UserDto, ApiError, Body, Request, Response},
    users, AppState,
};

pub async fn handle(state: &'static AppState, req: Request) -> Result<Response<Body>, ApiError> {
    authenticate(state, &req).await?.require_admin()?;
    let new_user = parse::new_user(&req)?;
    created(&UserDto::from(users::create(&state.users, new_user).await?))
}
