//! GET /openapi.json — public: the OpenAPI 3.1 document of the whole API.

use shared::http::{openapi, ApiError, Body, Request, Response};

pub async fn handle(_: &'static (), _req: Request) -> Result<Response<Body>, ApiError> {
    Ok(openapi::document())
}
