//! The library every Lambda function of the payments API links.
//!
//! Layers, each depending only on those below it:
//!
//! - `http` (with the `lambda` bridge): the edge, the only place that knows
//!   requests, our JSON names and status codes;
//! - `users`, `payments`, `auth`: the application, taking narrow dependencies;
//! - `store` (MongoDB) and `stripe` (the gateway), each with its own error;
//! - `domain`: values valid by construction and the payment state machine;
//! - `config`, `secrets`, `state`, `telemetry`: read once per cold start.
//!
//! Outbound HTTPS: async-stripe's client for Stripe, the AWS SDK's for
//! Secrets Manager (both rustls on ring); db-migrate has its own for
//! CloudFormation's response URL.

pub mod auth;
pub mod config;
pub mod domain;
mod hex;
pub mod http;
pub mod lambda;
pub mod payments;
pub mod secrets;
pub mod state;
pub mod store;
pub mod stripe;
pub mod telemetry;
pub mod users;

pub use state::{CoreState, PublicConfig, StripeState};
