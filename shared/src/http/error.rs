use http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

/// Every way a request can fail, each with the status it answers. Messages
/// are written for the client; anything internal is logged, never sent.
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
    #[error("{0}")]
    Conflict(&'static str),
    #[error("Request body is larger than {0} bytes.")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    BadGateway(String),
    #[error("{0}")]
    ServiceUnavailable(&'static str),
    /// A fault of ours. The detail goes to the log only.
    #[error("Internal server error.")]
    Internal(String),
}

impl ApiError {
    pub fn field(name: &str, problem: impl std::fmt::Display) -> Self {
        Self::BadRequest(format!("{name} {problem}"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
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
        super::json(status, &body)
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
}
