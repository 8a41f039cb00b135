//! GET /user — an admin lists every user.

use shared::{
    http::{authenticate, ok, views, ApiError, Body, Request, Response},
    users, AppState,
};

pub async fn handle(state: &'static AppState, req: Request) -> Result<Response<Body>, ApiError> {
    authenticate(state, &req).await?.require_admin()?;
    ok(&views::users(users::list(&state.users).await?))
}
