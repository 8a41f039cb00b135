use http::header::AUTHORIZATION;
use lambda_http::{request::RequestContext, Request, RequestExt};

use super::ApiError;
use crate::auth::ClientAddress;

/// The client's address as API Gateway saw it (`requestContext.http.sourceIp`).
pub fn client_address(req: &Request) -> ClientAddress {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => {
            ClientAddress::new(context.http.source_ip.as_deref().unwrap_or(""))
        }
        _ => ClientAddress::new(""),
    }
}

/// A path parameter as API Gateway extracted it (`/user/{id}` → `id`).
pub fn path_param(req: &Request, name: &str) -> Option<String> {
    req.path_parameters().first(name).map(str::to_owned)
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters().first(name).map(str::to_owned)
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(req: &Request) -> Result<&str, ApiError> {
    let header = req.headers().get(AUTHORIZATION).ok_or(ApiError::Unauthorized("Missing bearer token."))?;
    let value = header.to_str().map_err(|_| ApiError::Unauthorized("Malformed Authorization header."))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(ApiError::Unauthorized("Authorization header must be 'Bearer <token>'.")),
    }
}

/// A path parameter parsed into a domain type; absent or invalid is a 400
/// naming the parameter.
pub fn path_param_as<T>(
    req: &Request,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, crate::domain::Invalid>,
) -> Result<T, ApiError> {
    let raw = path_param(req, name).ok_or_else(|| ApiError::field(name, "is required"))?;
    parse(&raw).map_err(|why| ApiError::field(name, why))
}
