//! POST /payment/{id}/cancel — the owner cancels a payment that has not
//! succeeded; answers it, `canceled`. Anyone else's payment is a 404.

use shared::{
    domain::PaymentIntentId,
    http::{authenticate, created, path_param_as, responses::PaymentDto, ApiError, Body, Request, Response},
    payments, StripeState,
};

pub async fn handle(state: &'static StripeState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.core, &req).await?;
    let intent = path_param_as(&req, "id", PaymentIntentId::parse)?;
    created(&PaymentDto::from(payments::cancel(state.ledger(), &caller, &intent).await?))
}
