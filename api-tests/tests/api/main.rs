//! The API end to end: every function through its real handler and binary,
//! against the local stand-ins (`make services`). One test binary: one link.

mod bad_input;
mod browser_flow;
mod budget;
mod cancel_refund;
mod configuration;
mod customer_sync;
mod emulator;
mod failover;
mod layers;
mod local_gateway;
mod login;
mod migration;
mod openapi;
mod operator_cli;
mod packaging;
mod password;
mod payments;
mod register;
mod routing;
mod secrets_manager;
mod stripe_answers;
mod stripe_rules;
mod throttling;
mod tokens;
mod users;
mod webhook;
