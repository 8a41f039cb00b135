//! GET /user — an admin lists every user, oldest account first, `?limit=`
//! (1–100, default 20) per page. When more remain, the `x-next-cursor`
//! header holds the value to pass as `?cursor=` for the next page.

use shared::{
    http::{authenticate, parse, responses, ApiError, Body, Request, Response},
    users, CoreState,
};

pub async fn handle(state: &'static CoreState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, &req).await?;
    let (limit, cursor) = parse::page(&req)?;
    responses::user_page(users::list(&state.users, &caller, limit, cursor).await?)
}
