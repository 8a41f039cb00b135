//! The HTTP edge: reading API Gateway requests and writing JSON answers.

mod body;
mod error;
mod request;
mod respond;

pub use body::JsonObject;
pub use error::ApiError;
pub use request::{bearer_token, path_param, path_param_as, query_param};
pub use respond::{created, json, ok};

pub use lambda_http::{Body, Request, Response};
