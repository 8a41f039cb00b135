//! POST /payment — start paying for the product. `cuid` is the idempotency
//! key: the same user and cuid always get the same PaymentIntent back.

use shared::{
    http::{authenticate, created, parse, responses::PaymentCreatedDto, ApiError, Body, Request, Response},
    payments, StripeState,
};

pub async fn handle(state: &'static StripeState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.core, &req).await?;
    let cuid = parse::new_payment(&req)?;
    created(&PaymentCreatedDto::from(payments::create(state.ledger(), &caller, cuid).await?))
}
