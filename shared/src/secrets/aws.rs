//! Secrets Manager through the AWS SDK, built for a cold start: rustls on
//! ring (the TLS stack MongoDB and Stripe already use), trusting the
//! compiled-in Amazon roots instead of scanning the certificate directory,
//! and a dated behaviour version, so an SDK upgrade cannot silently change
//! retries or timeouts.

use std::time::Duration;

use aws_config::{environment::EnvironmentVariableCredentialsProvider, SdkConfig};
use aws_sdk_secretsmanager::{
    config::{timeout::TimeoutConfig, BehaviorVersion, Credentials, Region, SharedHttpClient},
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::get_secret_value::GetSecretValueError,
    Client,
};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::config::{self, plain_http_only_to_loopback};

/// The roots AWS's endpoints chain to (Amazon Trust Services).
const AWS_ROOTS: &str = include_str!("../../certs/amazon-trust-services.pem");

/// Per attempt, and for the whole call with the SDK's retries (standard
/// mode, 3 attempts): well inside a cold start's budget.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(2500);
const CALL_TIMEOUT: Duration = Duration::from_secs(6);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The SDK behaviour this code was written and tested against.
pub fn behavior_version() -> BehaviorVersion {
    BehaviorVersion::v2026_11_17()
}

/// The HTTPS client every AWS call of ours uses. Failing to read the
/// compiled-in roots is an error, never a silent fall back to the
/// platform's store.
pub fn https_client() -> Result<SharedHttpClient, SecretsError> {
    let roots = TrustStore::empty().with_native_roots(false).with_pem_certificate(AWS_ROOTS.as_bytes());
    let tls = TlsContext::builder()
        .with_trust_store(roots)
        .build()
        .map_err(|err| SecretsError::Misconfigured(format!("the compiled-in Amazon roots: {err}")))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https())
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("{0}")]
    Misconfigured(String),
    /// AWS said no (an unknown key, a bad signature, no permission, no such
    /// secret): AWS's error code and message, which hold no secret value.
    #[error("Secrets Manager refused the request: {0}")]
    Refused(String),
    /// Unreachable, timing out or failing: worth trying again later.
    #[error("Secrets Manager is unavailable: {0}")]
    Unavailable(String),
}

/// A Secrets Manager client.
pub struct SecretsClient(Client);

impl SecretsClient {
    /// Configured as Lambda configures a function: the region and the
    /// execution role's credentials from the environment.
    pub fn from_lambda_env() -> Result<Self, SecretsError> {
        let region = config::optional("AWS_REGION")
            .or_else(|| config::optional("AWS_DEFAULT_REGION"))
            .ok_or_else(|| SecretsError::Misconfigured("AWS_REGION is not set".into()))?;
        let credentials = EnvironmentVariableCredentialsProvider::new();
        Self::built(
            aws_sdk_secretsmanager::Config::builder().region(Region::new(region)).credentials_provider(credentials),
        )
    }

    /// From a configuration `aws_config` loaded (the operator CLI: profiles,
    /// SSO, `credential_process`, instance and container roles).
    pub fn from_sdk_config(sdk: &SdkConfig) -> Result<Self, SecretsError> {
        if let Some(endpoint) = sdk.endpoint_url() {
            plain_http_only_to_loopback("the AWS profile's endpoint_url", endpoint)
                .map_err(SecretsError::Misconfigured)?;
        }
        Self::built(aws_sdk_secretsmanager::config::Builder::from(sdk))
    }

    /// With given keys: for tests that prove what AWS refuses.
    pub fn with_keys(region: &str, access_key_id: &str, secret_access_key: &str) -> Result<Self, SecretsError> {
        let credentials = Credentials::new(access_key_id, secret_access_key, None, None, "given");
        Self::built(
            aws_sdk_secretsmanager::Config::builder()
                .region(Region::new(region.to_owned()))
                .credentials_provider(credentials),
        )
    }

    fn built(builder: aws_sdk_secretsmanager::config::Builder) -> Result<Self, SecretsError> {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(CALL_TIMEOUT)
            .build();
        let mut builder =
            builder.behavior_version(behavior_version()).http_client(https_client()?).timeout_config(timeouts);
        if let Some((name, endpoint)) = endpoint_override() {
            plain_http_only_to_loopback(name, &endpoint).map_err(SecretsError::Misconfigured)?;
            builder = builder.endpoint_url(endpoint);
        }
        Ok(Self(Client::from_conf(builder.build())))
    }

    /// The secret's string value (`None` for a binary secret).
    pub async fn secret_string(&self, secret_id: &str) -> Result<Option<String>, SecretsError> {
        match self.0.get_secret_value().secret_id(secret_id).send().await {
            Ok(output) => Ok(output.secret_string().map(str::to_owned)),
            Err(err) => Err(classify(err)),
        }
    }
}

/// The standard endpoint settings: the service's own, else the global one.
fn endpoint_override() -> Option<(&'static str, String)> {
    ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"]
        .into_iter()
        .find_map(|name| config::optional(name).map(|value| (name, value)))
}

/// AWS's refusals (4xx: an unknown key, a bad signature, no permission, no
/// such secret) apart from what may pass (throttling, 5xx, the network).
fn classify(err: SdkError<GetSecretValueError, HttpResponse>) -> SecretsError {
    let refused = match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let throttled = service.err().code().is_some_and(|code| code.contains("Throttling"));
            (400..500).contains(&status) && status != 429 && !throttled
        }
        _ => false,
    };
    let why = DisplayErrorContext(&err).to_string();
    if refused {
        SecretsError::Refused(why)
    } else {
        SecretsError::Unavailable(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_roots_make_a_client() {
        assert!(https_client().is_ok());
        assert_eq!(AWS_ROOTS.matches("BEGIN CERTIFICATE").count(), 5);
    }
}
