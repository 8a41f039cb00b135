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

/// The secret, parsed and checked once, here. What every function needs
/// (MongoDB, the JWT key) is checked when it is read; Stripe's parts are
/// checked when a function asks for them, so a function without Stripe
/// starts without them.
pub struct AppSecret {
    id: String,
    core: CoreSecret,
    stripe_secret_key: Option<String>,
    stripe_webhook_secret: Option<String>,
    /// Stripe.js's key, handed to front ends by `GET /config`.
    stripe_publishable_key: Option<String>,
}

/// What every function takes from the secret.
pub struct CoreSecret {
    pub mongodb_uri: String,
    /// At least [`MIN_JWT_SECRET_LEN`] characters.
    pub jwt_secret: String,
}

/// What the functions that call Stripe take from the secret: both keys.
pub struct StripeSecret<'a> {
    pub secret_key: &'a str,
    pub webhook_secret: &'a str,
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
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
            return Err(ConfigError::SecretNotJson { id: secret_id.to_owned() });
        };
        let text_of = |key: &str| map.get(key).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
        let core = match (text_of("mongodbUri"), text_of("jwtSecret")) {
            (Some(mongodb_uri), Some(jwt_secret)) => CoreSecret { mongodb_uri, jwt_secret },
            (uri, jwt) => {
                return Err(lacking(secret_id, &[("mongodbUri", uri.is_some()), ("jwtSecret", jwt.is_some())]))
            }
        };
        if core.jwt_secret.len() < MIN_JWT_SECRET_LEN {
            return Err(invalid(secret_id, format!("jwtSecret must be at least {MIN_JWT_SECRET_LEN} characters")));
        }
        Ok(Self {
            id: secret_id.to_owned(),
            core,
            stripe_secret_key: text_of("stripeSecretKey"),
            stripe_webhook_secret: text_of("stripeWebhookSecret"),
            stripe_publishable_key: text_of("stripePublishableKey"),
        })
    }

    pub fn core(&self) -> &CoreSecret {
        &self.core
    }

    /// Both Stripe keys, or an error naming each one missing.
    pub fn stripe(&self) -> Result<StripeSecret<'_>, ConfigError> {
        match (&self.stripe_secret_key, &self.stripe_webhook_secret) {
            (Some(secret_key), Some(webhook_secret)) => Ok(StripeSecret { secret_key, webhook_secret }),
            (secret_key, webhook_secret) => Err(lacking(
                &self.id,
                &[("stripeSecretKey", secret_key.is_some()), ("stripeWebhookSecret", webhook_secret.is_some())],
            )),
        }
    }

    /// `stripePublishableKey`, which must be a publishable key: a secret
    /// key there would be handed to every browser.
    pub fn publishable_key(&self) -> Result<&str, ConfigError> {
        let key = self.stripe_publishable_key.as_deref();
        let key = key.ok_or_else(|| lacking(&self.id, &[("stripePublishableKey", false)]))?;
        if !key.starts_with("pk_") {
            return Err(invalid(&self.id, "stripePublishableKey must be a publishable key (pk_...)".into()));
        }
        Ok(key)
    }
}

/// `keys` are (name, present) pairs; the error names the absent ones.
fn lacking(id: &str, keys: &[(&str, bool)]) -> ConfigError {
    let missing: Vec<&str> = keys.iter().filter(|(_, present)| !present).map(|(key, _)| *key).collect();
    ConfigError::SecretIncomplete { id: id.to_owned(), keys: missing.join(", ") }
}

fn invalid(id: &str, why: String) -> ConfigError {
    ConfigError::SecretInvalid { id: id.to_owned(), why }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_JWT: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_complete_secret_parses() {
        let text = format!(r#"{{"mongodbUri": "mongodb://h", "jwtSecret": "{GOOD_JWT}"}}"#);
        let secret = AppSecret::parse("app", &text).unwrap();
        assert_eq!(secret.core().mongodb_uri, "mongodb://h");
        assert_eq!(secret.stripe().err().unwrap().to_string(), "secret app lacks stripeSecretKey, stripeWebhookSecret");
    }

    #[test]
    fn missing_keys_are_all_named() {
        let err = AppSecret::parse("app", r#"{"other": 1}"#).unwrap_err();
        assert_eq!(err.to_string(), "secret app lacks mongodbUri, jwtSecret");
    }

    #[test]
    fn stripe_keys_come_in_pairs_and_the_missing_one_is_named() {
        let text = format!(r#"{{"mongodbUri": "m", "jwtSecret": "{GOOD_JWT}", "stripeSecretKey": "sk_test_1"}}"#);
        let secret = AppSecret::parse("app", &text).unwrap();
        assert_eq!(secret.stripe().err().unwrap().to_string(), "secret app lacks stripeWebhookSecret");
        let text = format!(
            r#"{{"mongodbUri": "m", "jwtSecret": "{GOOD_JWT}", "stripeSecretKey": "sk_test_1", "stripeWebhookSecret": "whsec_1"}}"#
        );
        let secret = AppSecret::parse("app", &text).unwrap();
        let stripe = secret.stripe().unwrap();
        assert_eq!((stripe.secret_key, stripe.webhook_secret), ("sk_test_1", "whsec_1"));
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
