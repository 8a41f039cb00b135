//! GET /payment — the caller's payments, newest first, `?limit=` (1–100,
//! default 20) per page. When more remain, the `x-next-cursor` header holds
//! the value to pass as `?cursor=` for the next page.

use shared::{
    http::{authenticate, parse, responses, ApiError, Body, Request, Response},
    payments, StripeState,
};

pub async fn handle(state: &'static StripeState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.core, &req).await?;
    let (limit, cursor) = parse::page(&req)?;
    responses::payment_page(payments::list(&state.payments, &caller, limit, cursor).await?)
}
