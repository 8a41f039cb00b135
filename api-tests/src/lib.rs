//! The test harness: real services, a fresh database per test, and verbs
//! that read like the API (`app.register(body)`, `app.get_user(token, id)`).

mod app;
mod emulator;
mod event;
pub mod routes;
mod services;
pub mod stripe;

pub use app::{TestApp, TestResponse, TestUser};
pub use emulator::{binary, free_port, Emulator};
pub use event::Event;
pub use services::{put_secret, put_secret_named, service_env, services_db, unique};

/// A runtime for tests that drive blocking processes (the emulator) and
/// async setup side by side.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("a tokio runtime")
}
