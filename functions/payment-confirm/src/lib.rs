//! POST /payment/confirm — pay one's own payment with a card. A decline is
//! a 402; a card that needs authentication answers `requires_action`.

use shared::{
    auth::authenticate,
    domain::{Cuid, PaymentIntentId, PaymentMethodId},
    http::{created, ApiError, Body, JsonObject, Request, Response},
    payments, PaymentsState,
};

pub async fn handle(state: &'static PaymentsState, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(&state.app, &req).await?;
    let body = JsonObject::from_request(&req, &["cuid", "paymentId", "paymentMethodId"])?;
    let cuid = body.required("cuid", Cuid::parse)?;
    let intent = body.required("paymentId", PaymentIntentId::parse)?;
    let method = body.required("paymentMethodId", PaymentMethodId::parse)?;
    created(&payments::confirm(state, &caller.user, &cuid, &intent, &method).await?)
}
