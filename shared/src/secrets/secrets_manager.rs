//! Secrets Manager's JSON API, called directly: a signed POST over the HTTPS
//! client Stripe uses. The AWS SDK would do the same request after building
//! an endpoint resolver from a partitions document, a TLS context from PEM
//! files and an interceptor pipeline, which cost a cold start about 1.4
//! million instructions and every binary several hundred KiB.
//!
//! Configured the way Lambda configures a function: region and credentials
//! from the environment (`AWS_REGION`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and the standard endpoint
//! settings (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL`).

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use super::sigv4::{self, Credentials, Scope};
use crate::{
    config,
    https::{self, HttpsClient},
    telemetry,
};

/// Per attempt: a cold start has Lambda's 10 s init phase for everything.
const TIMEOUT: Duration = Duration::from_millis(2500);
const ATTEMPTS: u32 = 3;
const SIGNING_NAME: &str = "secretsmanager";

#[derive(Debug, thiserror::Error)]
pub enum SecretsManagerError {
    #[error("{0}")]
    Misconfigured(String),
    /// AWS's error type and message; neither holds a secret value.
    #[error("Secrets Manager refused the request ({status}): {kind}: {message}")]
    Refused { status: u16, kind: String, message: String },
    #[error("Secrets Manager is unreachable: {0}")]
    Unreachable(String),
    #[error("Secrets Manager did not answer within {} ms", TIMEOUT.as_millis())]
    TimedOut,
    #[error("Secrets Manager's answer could not be read")]
    Unreadable,
}

impl SecretsManagerError {
    /// Worth another attempt: the network, a timeout, AWS's own failures and throttling.
    fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) | Self::TimedOut => true,
            Self::Refused { status, kind, .. } => *status >= 500 || *status == 429 || kind.contains("Throttling"),
            Self::Misconfigured(_) | Self::Unreadable => false,
        }
    }
}

pub struct SecretsManager {
    client: HttpsClient,
    endpoint: http::Uri,
    region: String,
    credentials: Credentials,
}

impl SecretsManager {
    pub fn from_env() -> Result<Self, SecretsManagerError> {
        let var = config::optional;
        let required = |name: &'static str| {
            var(name).ok_or_else(|| SecretsManagerError::Misconfigured(format!("{name} is not set")))
        };
        let credentials = Credentials {
            access_key_id: required("AWS_ACCESS_KEY_ID")?,
            secret_access_key: required("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
        };
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or_else(|| SecretsManagerError::Misconfigured("AWS_REGION is not set".into()))?;
        let endpoint = var("AWS_ENDPOINT_URL_SECRETS_MANAGER")
            .or_else(|| var("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| regional_endpoint(&region));
        Self::new(&endpoint, &region, credentials)
    }

    pub fn new(endpoint: &str, region: &str, credentials: Credentials) -> Result<Self, SecretsManagerError> {
        let endpoint = https::origin(endpoint)
            .and_then(|origin| origin.parse::<http::Uri>().map_err(|err| err.to_string()))
            .map_err(|why| SecretsManagerError::Misconfigured(format!("the Secrets Manager endpoint: {why}")))?;
        let client = https::client().map_err(SecretsManagerError::Misconfigured)?;
        Ok(Self { client, endpoint, region: region.to_owned(), credentials })
    }

    /// The secret's `SecretString`; `None` for a binary secret.
    pub async fn get_secret_string(&self, secret_id: &str) -> Result<Option<String>, SecretsManagerError> {
        let output = self.call("GetSecretValue", &serde_json::json!({ "SecretId": secret_id })).await?;
        Ok(output.get("SecretString").and_then(Value::as_str).map(str::to_owned))
    }

    /// One operation of the API (`GetSecretValue`, `CreateSecret`, ...),
    /// retried while the failure is transient.
    pub async fn call(&self, operation: &str, input: &Value) -> Result<Value, SecretsManagerError> {
        let body = input.to_string();
        let mut attempt = 1;
        loop {
            match self.attempt(operation, &body).await {
                Err(err) if err.is_transient() && attempt < ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn attempt(&self, operation: &str, body: &str) -> Result<Value, SecretsManagerError> {
        let target = format!("secretsmanager.{operation}");
        let host = self.endpoint.authority().map_or("", |authority| authority.as_str());
        let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target.as_str())];
        let path = self.endpoint.path();
        let signable = sigv4::Request { method: "POST", path, host, headers: &headers, body: body.as_bytes() };
        let scope = Scope { region: &self.region, service: SIGNING_NAME };
        let signed = sigv4::sign(&self.credentials, &scope, &signable, SystemTime::now());

        let mut request = Request::builder().method(Method::POST).uri(&self.endpoint).header(header::HOST, host);
        for (name, value) in headers.into_iter().chain(signed.iter().map(|(name, value)| (*name, value.as_str()))) {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|err| SecretsManagerError::Misconfigured(err.to_string()))?;
        let exchange = async {
            // The whole chain: hyper's own message is only "client error (Connect)".
            let unreachable =
                |err: &(dyn std::error::Error + 'static)| SecretsManagerError::Unreachable(telemetry::chain(err));
            let response = self.client.request(request).await.map_err(|err| unreachable(&err))?;
            let status = response.status();
            let bytes = response.into_body().collect().await.map_err(|err| unreachable(&err))?;
            Ok::<_, SecretsManagerError>((status, bytes.to_bytes()))
        };
        let (status, bytes) =
            tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| SecretsManagerError::TimedOut)??;
        read(status, &bytes)
    }
}

/// The public endpoint of the region's partition. Other partitions (and
/// FIPS or dual-stack endpoints) are reached by setting
/// `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
fn regional_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("https://secretsmanager.{region}.{suffix}")
}

fn read(status: StatusCode, bytes: &[u8]) -> Result<Value, SecretsManagerError> {
    let body = serde_json::from_slice::<Value>(bytes);
    if status.is_success() {
        return body.map_err(|_| SecretsManagerError::Unreadable);
    }
    let body = body.unwrap_or_default();
    let text = |key: &str| body.get(key).and_then(Value::as_str);
    // `__type` may carry a namespace: `com.amazonaws.secretsmanager#ResourceNotFoundException`.
    let kind = text("__type").map(|kind| kind.rsplit('#').next().unwrap_or(kind)).unwrap_or("UnknownError");
    let message = text("message").or_else(|| text("Message")).unwrap_or("no message");
    Err(SecretsManagerError::Refused { status: status.as_u16(), kind: kind.to_owned(), message: message.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_served_by_its_partitions_endpoint() {
        assert_eq!(regional_endpoint("eu-west-1"), "https://secretsmanager.eu-west-1.amazonaws.com");
        assert_eq!(regional_endpoint("us-gov-west-1"), "https://secretsmanager.us-gov-west-1.amazonaws.com");
        assert_eq!(regional_endpoint("cn-north-1"), "https://secretsmanager.cn-north-1.amazonaws.com.cn");
    }

    #[test]
    fn an_aws_error_is_read_as_its_type_and_message() {
        let body = br#"{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}"#;
        let err = read(StatusCode::BAD_REQUEST, body).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Secrets Manager refused the request (400): ResourceNotFoundException: \
             Secrets Manager can't find the specified secret."
        );
        assert!(!err.is_transient());
    }

    #[test]
    fn throttling_and_server_errors_are_retried_and_refusals_are_not() {
        let throttled = read(StatusCode::BAD_REQUEST, br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#);
        assert!(throttled.unwrap_err().is_transient());
        assert!(read(StatusCode::SERVICE_UNAVAILABLE, b"<html>busy</html>").unwrap_err().is_transient());
        let denied = read(StatusCode::BAD_REQUEST, br#"{"__type":"AccessDeniedException","Message":"no"}"#);
        assert!(!denied.unwrap_err().is_transient());
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_reported_with_its_cause_after_the_retries() {
        let credentials =
            Credentials { access_key_id: "AKID".into(), secret_access_key: "key".into(), session_token: None };
        // Port 1 on loopback: nothing listens there.
        let client = SecretsManager::new("http://127.0.0.1:1", "us-east-1", credentials).unwrap();
        let err = client.get_secret_string("app").await.unwrap_err();
        assert!(matches!(err, SecretsManagerError::Unreachable(_)), "{err:?}");
        assert!(err.to_string().to_lowercase().contains("connection refused"), "{err}");
    }

    #[test]
    fn a_success_that_is_not_json_is_unreadable_without_echoing_it() {
        let err = read(StatusCode::OK, b"jwtSecret=hunter2").unwrap_err();
        assert!(matches!(err, SecretsManagerError::Unreadable));
        assert!(!err.to_string().contains("hunter2"));
    }
}
