//! POST /payment — start paying for the product. `cuid` is the idempotency
//! key: the same user and cuid always get the same PaymentIntent back.

use shared::{
    http::{authenticate, created, parse, responses::PaymentCreatedDto, ApiError, Body, Request, Response},
    payments, PaymentsState,
};

pub async fn handle(state: &'static PaymentsState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.app, &req).await?;
    let cuid = parse::new_payment(&req)?;
    created(&PaymentCreatedDto::from(payments::create(state.ledger(), &caller.user, cuid).await?))
}
