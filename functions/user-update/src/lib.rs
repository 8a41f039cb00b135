//! PATCH /user/{id} — a user changes their own name or email; an admin
//! changes anyone's, and alone may set `customerId`.

use shared::{
    domain::UserId,
    http::{authenticate, dto, ok, path_param_as, views::UserDto, ApiError, Body, Request, Response},
    users, AppState,
};

pub async fn handle(state: &'static AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, &req).await?;
    let id = path_param_as(&req, "id", UserId::parse)?;
    caller.require_self_or_admin(id)?;
    let patch = dto::user_patch(&req)?;
    ok(&UserDto::from(users::update(&state.users, &caller, id, patch).await?))
}
