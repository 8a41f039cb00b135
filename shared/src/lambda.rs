//! The bridge between a handler and the Lambda runtime: events read
//! leniently (`http::event`), per-container state built once (and retried until
//! it is), a time budget per request, and errors logged with their causes.

use std::{
    error::Error,
    future::Future,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use lambda_http::{
    lambda_runtime::{self, Context, LambdaEvent},
    request::RequestContext,
    service_fn, Body, Request, RequestExt, Response,
};
use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::{
    config::ConfigError,
    http::{event, ApiError},
    telemetry,
};

/// Kept back from the invocation's deadline, so our answer (and its log
/// line) always leaves before Lambda would kill the invocation.
const DEADLINE_MARGIN: Duration = Duration::from_millis(1500);
/// The budget when there is no deadline to read (handlers called directly).
const DEFAULT_BUDGET: Duration = Duration::from_secs(25);
/// How long the cold start may take before the first request: Lambda's
/// init phase allows 10 s, but an emulator (and SnapStart-like set-ups)
/// count it against the first invocation. Past it, the first request
/// builds the state within its own budget.
const INIT_BUDGET: Duration = Duration::from_secs(3);

/// Serves invocations with `handler` until the container is retired. The
/// state is built by `init` at cold start; if that fails (a missing secret,
/// a bad URI, a DNS failure), the function still starts, answers 503 and
/// tries `init` again on the next request.
pub async fn run<S, I, IFut, F, Fut>(init: I, handler: F) -> Result<(), lambda_http::Error>
where
    S: Send + Sync + 'static,
    I: Fn() -> IFut + Copy + Send + Sync + 'static,
    IFut: Future<Output = Result<S, ConfigError>> + Send,
    F: Fn(&'static S, Request) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    lambda_http::tracing::init_default_subscriber();
    let state: &'static OnceCell<S> = Box::leak(Box::new(OnceCell::new()));
    // Ready before the first request when it can be; retried otherwise.
    let _ = configured(state, init, INIT_BUDGET).await;
    // lambda_runtime's own loop, not lambda_http's: the event is read by
    // `event::request`, which answers what lambda_http would crash on.
    lambda_runtime::run(service_fn(move |invocation: LambdaEvent<serde_json::Value>| async move {
        let (payload, context) = invocation.into_parts();
        let response = match event::request(payload) {
            Ok(req) => {
                let req = req.with_lambda_context(context);
                match configured(state, init, budget(req.lambda_context_ref())).await {
                    Ok(state) => answer(state, req, handler).await,
                    Err(unavailable) => logged(req, unavailable),
                }
            }
            Err(unreadable) => {
                tracing::warn!(message = %unreadable, "event refused before routing");
                unreadable.into_response()
            }
        };
        Ok::<_, lambda_http::Error>(event::gateway_response(response))
    }))
    .await
}

/// The state, built now if it is not yet, within `budget` (a hung secret
/// read or DNS lookup must not outlive the invocation); a failure is logged
/// (its cause names no secret value) and answered as a 503.
async fn configured<S, I, IFut>(state: &'static OnceCell<S>, init: I, budget: Duration) -> Result<&'static S, ApiError>
where
    I: Fn() -> IFut,
    IFut: Future<Output = Result<S, ConfigError>>,
{
    let not_ready = |cause: Box<dyn Error + Send + Sync>| ApiError::ServiceUnavailable {
        message: "The service is not ready, please retry.",
        retry_after: 5,
        cause,
    };
    match tokio::time::timeout(budget, state.get_or_try_init(init)).await {
        Ok(Ok(state)) => Ok(state),
        Ok(Err(err)) => {
            tracing::error!(error = %telemetry::chain(&err), "cold start failed: {err}");
            Err(not_ready(err.into()))
        }
        Err(_) => {
            tracing::error!(budget_ms = budget.as_millis() as u64, "cold start did not finish within its budget");
            Err(not_ready(format!("the cold start took longer than {} ms", budget.as_millis()).into()))
        }
    }
}

/// Runs one request through a handler within its time budget and turns its
/// error, if any, into the JSON error answer. Tests call this too, so they
/// see exactly what API Gateway would.
pub async fn answer<S, F, Fut>(state: &'static S, req: Request, handler: F) -> Response<Body>
where
    F: Fn(&'static S, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let span = request_span(&req);
    async move {
        let started = Instant::now();
        let budget = budget(req.lambda_context_ref());
        let (method, path) = (req.method().clone(), req.uri().path().to_owned());
        let result = within(budget, handler(state, req)).await;
        let response = result.unwrap_or_else(|err| {
            log_failure(&err);
            err.into_response()
        });
        let ms = started.elapsed().as_millis() as u64;
        tracing::info!(%method, path, status = response.status().as_u16(), ms, "request");
        response
    }
    .instrument(span)
    .await
}

/// The handler's answer, or a 503 once the budget is spent.
async fn within(
    budget: Duration,
    answer: impl Future<Output = Result<Response<Body>, ApiError>>,
) -> Result<Response<Body>, ApiError> {
    match tokio::time::timeout(budget, answer).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::ServiceUnavailable {
            message: "The request took too long, please retry.",
            retry_after: 1,
            cause: format!("no answer within the {} ms budget", budget.as_millis()).into(),
        }),
    }
}

fn logged(req: Request, err: ApiError) -> Response<Body> {
    let _entered = request_span(&req).entered();
    log_failure(&err);
    err.into_response()
}

/// API Gateway's request id, beside the runtime's own span (Lambda's request
/// id), on every line logged for the request.
fn request_span(req: &Request) -> tracing::Span {
    let api_request_id = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    };
    tracing::info_span!("request", apiRequestId = api_request_id.as_deref().unwrap_or("-"))
}

/// Until the invocation's deadline, less a margin.
fn budget(context: Option<&Context>) -> Duration {
    let Some(context) = context.filter(|c| c.deadline > 0) else {
        return DEFAULT_BUDGET;
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Duration::from_millis(context.deadline).saturating_sub(now).saturating_sub(DEADLINE_MARGIN)
}

fn log_failure(err: &ApiError) {
    if err.status().is_server_error() {
        // The client sees a message; the log gets every cause.
        let cause = err.source().map(telemetry::chain).unwrap_or_default();
        tracing::error!(status = err.status().as_u16(), message = %err, %cause, "request failed");
    }
}
