//! PATCH /user/{id} — a user changes their own name or email; an admin
//! changes anyone's, and alone may set `customerId`.

use shared::{
    domain::UserId,
    http::{authenticate, ok, parse, path_param_as, responses::UserDto, ApiError, Body, Request, Response},
    users, StripeState,
};

pub async fn handle(state: &'static StripeState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.core, &req).await?;
    let id = path_param_as(&req, "id", UserId::parse)?;
    let patch = parse::user_patch(&req)?;
    ok(&UserDto::from(users::update(state.customers(), &caller, id, patch).await?))
}
