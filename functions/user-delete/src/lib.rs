//! DELETE /user/{id} — a user deletes their own account; an admin deletes
//! anyone's. Answers the deleted user; their payment records stay.

use shared::{
    domain::UserId,
    http::{authenticate, ok, path_param_as, responses::UserDto, ApiError, Body, Request, Response},
    users, StripeState,
};

pub async fn handle(state: &'static StripeState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.core, &req).await?;
    let id = path_param_as(&req, "id", UserId::parse)?;
    ok(&UserDto::from(users::delete(state.customers(), &caller, id).await?))
}
