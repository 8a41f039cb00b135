//! The HTTP edge, and the only module that knows requests, our JSON field
//! names and our status codes: request parsing, authentication from a
//! request, response bodies, and what every layer's error answers.

mod authenticate;
mod body;
mod error;
pub(crate) mod event;
mod from_layers;
pub mod openapi;
pub mod parse;
mod request;
mod respond;
pub mod responses;
pub mod routes;
mod webhook;

pub use authenticate::authenticate;
pub use body::JsonObject;
pub use error::{ApiError, Cause};
pub use request::{bearer_token, client_address, path_param, path_param_as, query_param};
pub use respond::{allowed_methods, created, json, ok};
pub use webhook::{stripe_notification, Notification};

pub use lambda_http::{Body, Request, Response};
