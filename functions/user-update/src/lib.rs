//! PATCH /user/{id} — a user changes their own name or email; an admin
//! changes anyone's, and alone may set `customerId`.

use shared::{
    auth::authenticate,
    domain::UserId,
    http::{ok, path_param_as, ApiError, Body, Request, Response},
    users::{UserDto, UserPatch},
    AppState,
};

pub async fn handle(state: &'static AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, &req).await?;
    let id = path_param_as(&req, "id", UserId::parse)?;
    caller.require_self_or_admin(id)?;
    let patch = UserPatch::from_request(&req)?;
    if patch.customer_id.is_some() && !caller.is_admin() {
        return Err(ApiError::Forbidden("Only an admin may change customerId."));
    }
    let user = state.users().update(id, patch).await?.ok_or(ApiError::NotFound("User not found."))?;
    ok(&UserDto::from(user))
}
