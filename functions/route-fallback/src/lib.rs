//! API Gateway's `$default` route: every request no other route takes. A
//! documented path asked with another method gets 405 and `Allow`; an
//! OPTIONS there gets 204 and `Allow`; anything else a JSON 404.

use shared::http::{allowed_methods, openapi::Paths, ApiError, Body, Request, Response};

pub async fn handle(_: &'static (), req: Request) -> Result<Response<Body>, ApiError> {
    let Some(allow) = Paths::documented().allowed_at(req.uri().path()) else {
        return Err(ApiError::NotFound("No such route."));
    };
    allowed_methods(req.method(), allow)
}
