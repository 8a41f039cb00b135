//! GET /user/{id} — a user reads their own record; an admin reads anyone's.

use shared::{
    domain::UserId,
    http::{authenticate, ok, path_param_as, responses::UserDto, ApiError, Body, Request, Response},
    users, CoreState,
};

pub async fn handle(state: &'static CoreState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, &req).await?;
    let id = path_param_as(&req, "id", UserId::parse)?;
    ok(&UserDto::from(users::get(&state.users, &caller, id).await?))
}
