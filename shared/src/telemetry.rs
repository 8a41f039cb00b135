//! Logging: JSON lines on stdout, which Lambda ships to CloudWatch.
//! Request bodies, tokens and secrets are never logged.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ =
        tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(false).with_ansi(false).try_init();
}
