//! GET /payment/{id} — one of the caller's payments, fresh from Stripe.

use shared::{
    auth::authenticate,
    domain::PaymentIntentId,
    http::{ok, path_param_as, ApiError, Body, Request, Response},
    payments, PaymentsState,
};

pub async fn handle(state: &'static PaymentsState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.app, &req).await?;
    let intent = path_param_as(&req, "id", PaymentIntentId::parse)?;
    ok(&payments::refresh(state, &caller.user, &intent).await?)
}
