//! The bridge between a handler and the Lambda runtime.

use std::{future::Future, time::Instant};

use lambda_http::{service_fn, Body, Request, Response};

use crate::{config::ConfigError, http::ApiError, telemetry};
use std::error::Error;

/// Sets up logging, builds the per-container state once, then serves
/// invocations with `handler` until the container is retired. A state that
/// cannot be built ends the process with a message naming the cause.
pub async fn run<S, F, Fut>(
    init: impl Future<Output = Result<S, ConfigError>>,
    handler: F,
) -> Result<(), lambda_http::Error>
where
    S: Send + Sync + 'static,
    F: Fn(&'static S, Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    telemetry::init();
    let state: &'static S = match init.await {
        Ok(state) => Box::leak(Box::new(state)),
        Err(err) => {
            tracing::error!(error = %err, "cold start failed");
            eprintln!("cold start failed: {err}");
            std::process::exit(1);
        }
    };
    lambda_http::run(service_fn(
        move |req| async move { Ok::<_, lambda_http::Error>(answer(state, req, handler).await) },
    ))
    .await
}

/// Runs one request through a handler and turns its error, if any, into
/// the JSON error answer. Tests call this too, so they see exactly what
/// API Gateway would.
pub async fn answer<S, F, Fut>(state: &'static S, req: Request, handler: F) -> Response<Body>
where
    F: Fn(&'static S, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let response = match handler(state, req).await {
        Ok(response) => response,
        Err(err) => {
            if err.status().is_server_error() {
                // The client sees a message; the log gets every cause.
                let cause = err.source().map(telemetry::chain).unwrap_or_default();
                tracing::error!(status = err.status().as_u16(), message = %err, %cause, "request failed");
            }
            err.into_response()
        }
    };
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}
