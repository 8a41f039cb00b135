use http::{
    header::{ALLOW, RETRY_AFTER},
    HeaderValue, StatusCode,
};
use lambda_http::{Body, Response};
use serde_json::json;

/// Why something failed below the edge; logged with its whole chain, never sent.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Every way a request can fail, each with the status it answers. Messages
/// are written for the client; causes are logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    PaymentRequired(String),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    /// The path exists, the method does not; `Allow` lists the methods that do.
    #[error("{method} is not allowed here; allowed: {allow}.")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{0}")]
    Conflict(&'static str),
    #[error("Request body is larger than {0} bytes.")]
    PayloadTooLarge(usize),
    /// Slow down: retry after `retry_after` seconds.
    #[error("{message}")]
    TooManyRequests { message: &'static str, retry_after: u64 },
    /// A dependency (Stripe) failed or answered what we cannot use.
    #[error("{0}")]
    BadGateway(&'static str, #[source] Cause),
    /// Worth retrying after `retry_after` seconds.
    #[error("{message}")]
    ServiceUnavailable {
        message: &'static str,
        retry_after: u32,
        #[source]
        cause: Cause,
    },
    /// A fault of ours.
    #[error("Internal server error.")]
    Internal(#[source] Cause),
}

impl ApiError {
    pub fn field(name: &str, problem: impl std::fmt::Display) -> Self {
        Self::BadRequest(format!("{name} {problem}"))
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway(..) => StatusCode::BAD_GATEWAY,
            Self::ServiceUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The original service's error shape:
    /// `{"statusCode": 404, "message": "User not found.", "error": "Not Found"}`.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        let body = json!({
            "statusCode": status.as_u16(),
            "message": self.to_string(),
            "error": status.canonical_reason().unwrap_or("Error"),
        });
        let mut response = super::json(status, &body);
        if let Self::MethodNotAllowed { allow, .. } = &self {
            if let Ok(value) = HeaderValue::from_str(allow) {
                response.headers_mut().insert(ALLOW, value);
            }
        }
        let retry_after = match self {
            Self::ServiceUnavailable { retry_after, .. } => Some(u64::from(retry_after)),
            Self::TooManyRequests { retry_after, .. } => Some(retry_after),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(error: ApiError) -> serde_json::Value {
        match error.into_response().into_body() {
            Body::Text(text) => serde_json::from_str(&text).unwrap(),
            other => panic!("expected a text body, got {other:?}"),
        }
    }

    #[test]
    fn errors_use_the_original_services_shape() {
        let body = body_of(ApiError::NotFound("User not found."));
        assert_eq!(body, json!({"statusCode": 404, "message": "User not found.", "error": "Not Found"}));
    }

    #[test]
    fn internal_detail_is_not_sent_to_the_client() {
        let body = body_of(ApiError::Internal("connection string mongodb://u:p@h".into()));
        assert_eq!(body["message"], "Internal server error.");
        assert_eq!(body["statusCode"], 500);
    }

    #[test]
    fn a_405_says_which_methods_are_allowed() {
        let error = ApiError::MethodNotAllowed { method: "PUT".into(), allow: "GET, POST".into() };
        assert_eq!(error.into_response().headers()[ALLOW], "GET, POST");
    }

    #[test]
    fn a_503_says_when_to_retry() {
        let error = ApiError::ServiceUnavailable { message: "Busy.", retry_after: 2, cause: "busy".into() };
        assert_eq!(error.into_response().headers()[RETRY_AFTER], "2");
    }
}
