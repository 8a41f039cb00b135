//! POST /user — an admin creates a user.

use shared::{
    http::{authenticate, created, parse, responses::UserDto, ApiError, Body, Request, Response},
    users, CoreState,
};

pub async fn handle(state: &'static CoreState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, &req).await?;
    let new_user = parse::new_user(&req)?;
    created(&UserDto::from(users::create(&state.users, &caller, new_user).await?))
}
