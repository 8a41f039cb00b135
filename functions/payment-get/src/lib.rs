//! GET /payment/{id} — one of the caller's payments, fresh from Stripe.

use shared::{
    domain::PaymentIntentId,
    http::{authenticate, ok, path_param_as, responses::PaymentDto, ApiError, Body, Request, Response},
    payments, StripeState,
};

pub async fn handle(state: &'static StripeState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.core, &req).await?;
    let intent = path_param_as(&req, "id", PaymentIntentId::parse)?;
    ok(&PaymentDto::from(payments::get(state.ledger(), &caller, &intent).await?))
}
