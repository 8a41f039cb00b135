//! The one JSON secret in AWS Secrets Manager that holds every credential.
//!
//! The endpoint comes from the standard AWS setting, so
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER` points a function at another endpoint
//! with no code path of its own (plain `http://` only to loopback).

mod aws;

use std::fmt;

use serde_json::Value;

pub use aws::{behavior_version, https_client, SecretsClient, SecretsError};

use crate::config::ConfigError;

/// Shortest JWT signing secret we accept: HS256 wants at least 256 bits.
const MIN_JWT_SECRET_LEN: usize = 32;

pub struct AppSecret {
    pub mongodb_uri: String,
    pub jwt_secret: String,
    pub stripe_secret_key: Option<String>,
    pub stripe_webhook_secret: Option<String>,
    /// Stripe.js's key, handed to front ends by `GET /config`.
    pub stripe_publishable_key: Option<String>,
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(<redacted>)")
    }
}

impl AppSecret {
    /// Reads and checks the secret with the client a function uses. One
    /// round trip, once per cold start.
    pub async fn fetch(secret_id: &str) -> Result<Self, ConfigError> {
        let client = SecretsClient::from_lambda_env()
            .map_err(|err| ConfigError::SecretUnavailable { id: secret_id.to_owned(), why: err.to_string() })?;
        Self::fetch_with(&client, secret_id).await
    }

    pub async fn fetch_with(client: &SecretsClient, secret_id: &str) -> Result<Self, ConfigError> {
        let unavailable = |why: String| ConfigError::SecretUnavailable { id: secret_id.to_owned(), why };
        let text = client
            .secret_string(secret_id)
            .await
            .map_err(|err| unavailable(err.to_string()))?
            .ok_or_else(|| unavailable("the secret has no string value".into()))?;
        Self::parse(secret_id, &text)
    }

    pub fn parse(secret_id: &str, text: &str) -> Result<Self, ConfigError> {
        let id = || secret_id.to_owned();
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
            return Err(ConfigError::SecretNotJson { id: id() });
        };
        let text_of = |key: &str| map.get(key).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
        let (mongodb_uri, jwt_secret) = (text_of("mongodbUri"), text_of("jwtSecret"));
        let missing: Vec<&str> = [("mongodbUri", &mongodb_uri), ("jwtSecret", &jwt_secret)]
            .into_iter()
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key)
            .collect();
        let (Some(mongodb_uri), Some(jwt_secret)) = (mongodb_uri, jwt_secret) else {
            return Err(ConfigError::SecretIncomplete { id: id(), keys: missing.join(", ") });
        };
        if jwt_secret.len() < MIN_JWT_SECRET_LEN {
            return Err(ConfigError::SecretInvalid {
                id: id(),
                why: format!("jwtSecret must be at least {MIN_JWT_SECRET_LEN} characters"),
            });
        }
        Ok(Self {
            mongodb_uri,
            jwt_secret,
            stripe_secret_key: text_of("stripeSecretKey"),
            stripe_webhook_secret: text_of("stripeWebhookSecret"),
            stripe_publishable_key: text_of("stripePublishableKey"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_JWT: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_complete_secret_parses() {
        let text = format!(r#"{{"mongodbUri": "mongodb://h", "jwtSecret": "{GOOD_JWT}"}}"#);
        let secret = AppSecret::parse("app", &text).unwrap();
        assert_eq!(secret.mongodb_uri, "mongodb://h");
        assert!(secret.stripe_secret_key.is_none());
    }

    #[test]
    fn missing_keys_are_all_named() {
        let err = AppSecret::parse("app", r#"{"other": 1}"#).unwrap_err();
        assert_eq!(err.to_string(), "secret app lacks mongodbUri, jwtSecret");
    }

    #[test]
    fn a_secret_that_is_not_json_is_refused() {
        let err = AppSecret::parse("app", "mongodb://h").unwrap_err();
        assert_eq!(err.to_string(), "secret app is not a JSON object");
    }

    #[test]
    fn a_short_jwt_secret_is_refused_without_showing_it() {
        let err = AppSecret::parse("app", r#"{"mongodbUri": "m", "jwtSecret": "short-secret"}"#).unwrap_err();
        assert!(err.to_string().contains("at least 32"), "{err}");
        assert!(!err.to_string().contains("short-secret"), "{err}");
    }
}
