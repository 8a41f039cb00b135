//! POST /payment — start paying for the product. `cuid` is the idempotency
//! key: the same user and cuid always get the same PaymentIntent back.

use shared::{
    auth::authenticate,
    domain::Cuid,
    http::{created, ApiError, Body, JsonObject, Request, Response},
    payments, PaymentsState,
};

pub async fn handle(state: &'static PaymentsState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.app, &req).await?;
    let cuid = JsonObject::from_request(&req, &["cuid"])?.required("cuid", Cuid::parse)?;
    created(&payments::create(state, &caller.user, &cuid).await?)
}
