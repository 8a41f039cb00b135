//! DELETE /user/{id} — a user deletes their own account; an admin deletes
//! anyone's. Answers the deleted user; their payment records stay.

use shared::{
    domain::UserId,
    http::{authenticate, ok, path_param_as, responses::UserDto, ApiError, Body, Request, Response},
    users, PaymentsState,
};

pub async fn handle(state: &'static PaymentsState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.app, &req).await?;
    let id = path_param_as(&req, "id", UserId::parse)?;
    ok(&UserDto::from(users::delete(&state.app.users, &state.stripe, &caller, id).await?))
}
