//! The library every Lambda function of the payments API links.
//!
//! One module per concept: `config` and `secrets` (read once per cold start),
//! `state` (what a container keeps), `db`, `auth`, `domain` (values valid by
//! construction), `users`, and `http` (the edge: parsing requests, JSON
//! answers, the error type).

pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod lambda;
pub mod payments;
pub mod secrets;
pub mod state;
pub mod stripe;
pub mod telemetry;
pub mod users;

pub use state::{AppState, PaymentsState};
