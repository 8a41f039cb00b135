//! One HTTPS client for Stripe's form-encoded API: the secret key, the API
//! version this code reads, idempotency keys and a timeout per attempt.

use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde::de::DeserializeOwned;

use super::{wire, GatewayError};
use crate::https::{self, HttpsClient};

/// The API version whose objects `wire` reads.
const API_VERSION: &str = "2026-09-30.endive";
/// Per attempt; keeps a slow Stripe inside the functions' timeout.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Transport {
    client: HttpsClient,
    base: String,
    authorization: String,
}

/// The form fields of a request, in Stripe's encoding (`metadata[userId]`).
pub type Form<'a> = &'a [(&'a str, &'a str)];

impl Transport {
    /// `base` is Stripe's API origin (`https://api.stripe.com/`); a malformed
    /// one is refused here, at cold start.
    pub fn new(secret_key: &str, base: &str) -> Result<Self, String> {
        let base = https::origin(base)?;
        Ok(Self { client: https::client()?, base, authorization: format!("Bearer {secret_key}") })
    }

    /// Sends one request and reads the answer as `T`, or classifies the error.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        form: Form<'_>,
        idempotency_key: Option<&str>,
    ) -> Result<T, GatewayError> {
        let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let (uri, body) = match method {
            Method::GET | Method::DELETE if !encoded.is_empty() => (format!("{}{path}?{encoded}", self.base), ""),
            Method::GET | Method::DELETE => (format!("{}{path}", self.base), ""),
            _ => (format!("{}{path}", self.base), encoded.as_str()),
        };
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, &self.authorization)
            .header("Stripe-Version", API_VERSION)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|err| GatewayError::Unavailable(err.into()))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|err| GatewayError::Unavailable(err.into()))?;
            let status = response.status();
            let bytes = response.into_body().collect().await.map_err(|err| GatewayError::Unavailable(err.into()))?;
            Ok::<_, GatewayError>((status, bytes.to_bytes()))
        };
        let (status, bytes) = tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| GatewayError::TimedOut)??;
        read(status, &bytes)
    }
}

fn read<T: DeserializeOwned>(status: StatusCode, bytes: &[u8]) -> Result<T, GatewayError> {
    if status.is_success() {
        return serde_json::from_slice(bytes).map_err(|err| GatewayError::Unreadable(err.to_string()));
    }
    let error = serde_json::from_slice::<wire::ErrorBody>(bytes).map(|body| body.error).unwrap_or_default();
    Err(GatewayError::classify(status.as_u16(), error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_that_is_not_stripes_is_classified_by_its_status() {
        let html = b"<html>Bad Gateway</html>";
        let failing = read::<wire::Customer>(StatusCode::BAD_GATEWAY, html);
        assert!(matches!(failing, Err(GatewayError::Unavailable(_))), "{:?}", failing.err());
        let refused = read::<wire::Customer>(StatusCode::BAD_REQUEST, html);
        assert!(matches!(refused, Err(GatewayError::InvalidRequest { param: None, .. })), "{:?}", refused.err());
    }

    #[test]
    fn a_success_we_cannot_read_is_unreadable_not_a_panic() {
        let answer = read::<wire::PaymentIntent>(StatusCode::OK, br#"{"id": "pi_1"}"#);
        assert!(matches!(answer, Err(GatewayError::Unreadable(_))), "{:?}", answer.err());
    }

    #[test]
    fn an_expanded_charge_and_a_bare_payment_method_id_are_both_read() {
        let intent: wire::PaymentIntent = read(
            StatusCode::OK,
            br#"{"id": "pi_1", "amount": 2000, "currency": "usd", "status": "succeeded",
                 "payment_method": "pm_1", "client_secret": "pi_1_secret_x", "metadata": {},
                 "latest_charge": {"id": "ch_1", "amount_refunded": 500, "disputed": true}}"#,
        )
        .unwrap_or_else(|err| panic!("{err:?}"));
        assert_eq!(intent.payment_method.as_ref().map(wire::Expandable::id), Some("pm_1"));
        let charge = intent.latest_charge.as_ref().and_then(wire::Expandable::object).unwrap();
        assert_eq!((charge.amount_refunded, charge.disputed), (500, true));
    }
}
