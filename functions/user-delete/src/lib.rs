//! DELETE /user/{id} — a user deletes their own account; an admin deletes
//! anyone's. Answers the deleted user; their payment records stay.

use shared::{
    auth::authenticate,
    domain::UserId,
    http::{ok, path_param_as, ApiError, Body, Request, Response},
    users::UserDto,
    AppState,
};

pub async fn handle(state: &'static AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, &req).await?;
    let id = path_param_as(&req, "id", UserId::parse)?;
    caller.require_self_or_admin(id)?;
    let user = state.users().delete(id).await?.ok_or(ApiError::NotFound("User not found."))?;
    ok(&UserDto::from(user))
}
