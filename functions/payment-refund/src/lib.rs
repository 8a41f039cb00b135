//! POST /payment/{id}/refund — an admin refunds a succeeded payment, all of
//! what is left or `amount` of it, once per `cuid`.

use shared::{
    domain::PaymentIntentId,
    http::{authenticate, created, parse, path_param_as, responses::RefundDto, ApiError, Body, Request, Response},
    payments, StripeState,
};

pub async fn handle(state: &'static StripeState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.core, &req).await?;
    let intent = path_param_as(&req, "id", PaymentIntentId::parse)?;
    let (cuid, amount) = parse::refund_request(&req)?;
    created(&RefundDto::from(payments::refund(state.ledger(), &caller, &intent, cuid, amount).await?))
}
