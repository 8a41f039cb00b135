//! GET /payment — the caller's payments, newest first, `?limit=` (1–100,
//! default 20) per page. When more remain, the `x-next-cursor` header holds
//! the value to pass as `?cursor=` for the next page.

use shared::{
    auth::authenticate,
    http::{json, query_param, ApiError, Body, Request, Response},
    payments::{parse_cursor, PaymentDto, Payments},
    PaymentsState,
};

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

pub async fn handle(state: &'static PaymentsState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.app, &req).await?;
    let limit = match query_param(&req, "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::field("limit", "must be an integer from 1 to 100"))?,
    };
    let cursor = query_param(&req, "cursor")
        .map(|raw| parse_cursor(&raw))
        .transpose()
        .map_err(|why| ApiError::field("cursor", why))?;
    let page = Payments::new(&state.app.db).page(caller.id(), limit, cursor).await?;
    let body: Vec<PaymentDto> = page.payments.into_iter().map(PaymentDto::from).collect();
    let mut response = json(http::StatusCode::OK, &body);
    if let Some(next) = page.next {
        let value = http::HeaderValue::from_str(&next.to_hex()).map_err(|err| ApiError::Internal(err.to_string()))?;
        response.headers_mut().insert("x-next-cursor", value);
    }
    Ok(response)
}
