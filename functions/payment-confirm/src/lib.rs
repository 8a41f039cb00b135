//! POST /payment/confirm — pay one's own payment with a card. A decline is
//! a 402; a card that needs authentication answers `requires_action`.

use shared::{
    http::{authenticate, created, parse, responses::PaymentDto, ApiError, Body, Request, Response},
    payments, StripeState,
};

pub async fn handle(state: &'static StripeState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.core, &req).await?;
    let confirmation = parse::confirmation(&req)?;
    created(&PaymentDto::from(payments::confirm(state.ledger(), &caller, confirmation).await?))
}
