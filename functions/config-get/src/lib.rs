//! GET /config — public: what a front end needs to run Stripe.js (the
//! publishable key). Never anything secret.

use shared::{
    http::{ok, responses::FrontEndConfig, ApiError, Body, Request, Response},
    PublicConfig,
};

pub async fn handle(config: &'static PublicConfig, _req: Request) -> Result<Response<Body>, ApiError> {
    ok(&FrontEndConfig { publishable_key: &config.publishable_key })
}
