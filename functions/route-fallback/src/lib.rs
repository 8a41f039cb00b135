//! API Gateway's `$default` route, and the template's routes that keep a
//! literal path (`/user/login`) from falling into a parameter route
//! (`GET /user/{id}`): every request no other route takes. A deployed path
//! asked with another method gets 405 and `Allow`; an OPTIONS there gets 204
//! and `Allow`; anything else a JSON 404. The paths and methods are the
//! template's (`shared::http::routes`).

use shared::http::{allowed_methods, routes::Routes, ApiError, Body, Request, Response};

pub async fn handle(_: &'static (), req: Request) -> Result<Response<Body>, ApiError> {
    let Some(allow) = Routes::deployed().allowed_at(req.uri().path()) else {
        return Err(ApiError::NotFound("No such route."));
    };
    allowed_methods(req.method(), allow)
}
