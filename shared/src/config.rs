//! Everything a function reads from its environment, read once per cold start.

use std::time::Duration;

use crate::domain::{Currency, Price};

/// Why a cold start could not complete. Each message names what is missing
/// or wrong and never contains a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    #[error("environment variable {name} is invalid: {why}")]
    InvalidEnv { name: &'static str, why: String },
    #[error("could not read secret {id} from Secrets Manager: {why}")]
    SecretUnavailable { id: String, why: String },
    #[error("secret {id} is not a JSON object")]
    SecretNotJson { id: String },
    #[error("secret {id} lacks {keys}")]
    SecretIncomplete { id: String, keys: String },
    #[error("secret {id} is invalid: {why}")]
    SecretInvalid { id: String, why: String },
    #[error("MongoDB settings are invalid: {0}")]
    Database(String),
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Id or ARN of the JSON secret holding the MongoDB URI, JWT secret and Stripe keys.
    pub secret_id: String,
    pub database: String,
    pub jwt_ttl: Duration,
    /// The first lock after five failed logins; it doubles from there.
    pub login_backoff: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            secret_id: required("APP_SECRET_ID")?,
            database: optional("MONGODB_DATABASE").unwrap_or_else(|| "payments".to_owned()),
            jwt_ttl: Duration::from_secs(parsed("JWT_TTL_SECONDS", 7200)?),
            login_backoff: Duration::from_secs(parsed("LOGIN_BACKOFF_SECONDS", 30)?),
        })
    }
}

/// What the payment functions add: where Stripe is and what the product costs.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// Ends with `/`; async-stripe appends `v1/...`.
    pub stripe_api_base: String,
    /// The product's price. Never taken from a request.
    pub price: Price,
}

impl PaymentSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut base = optional("STRIPE_API_BASE").unwrap_or_else(|| "https://api.stripe.com/".to_owned());
        plain_http_only_to_loopback("STRIPE_API_BASE", &base)
            .map_err(|why| ConfigError::InvalidEnv { name: "STRIPE_API_BASE", why })?;
        if !base.ends_with('/') {
            base.push('/');
        }
        let raw = optional("PAYMENT_CURRENCY").unwrap_or_else(|| "usd".to_owned());
        let currency = Currency::parse(&raw)
            .map_err(|why| ConfigError::InvalidEnv { name: "PAYMENT_CURRENCY", why: format!("{why}, got {raw:?}") })?;
        let amount = parsed("PAYMENT_AMOUNT", 2000)?;
        let amount = i64::try_from(amount)
            .map_err(|_| ConfigError::InvalidEnv { name: "PAYMENT_AMOUNT", why: "too large".into() })?;
        Ok(Self { stripe_api_base: base, price: Price { amount, currency } })
    }
}

/// Refuses a plain `http://` URL whose host is not loopback: a request (and
/// its credentials) would cross the network in clear text. The error names
/// the variable.
pub fn plain_http_only_to_loopback(name: &str, url: &str) -> Result<(), String> {
    // Schemes are case-insensitive (RFC 3986 §3.1): `HTTP://` is plain too.
    let url = url.trim();
    let Some(rest) = url.get(..7).filter(|scheme| scheme.eq_ignore_ascii_case("http://")).map(|_| &url[7..]) else {
        return Ok(());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(host, _)| host),
    };
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(format!("{name} is plain http:// to {host:?}; only a loopback address may be, use https://"))
    }
}

pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

pub(crate) fn required(name: &'static str) -> Result<String, ConfigError> {
    optional(name).ok_or(ConfigError::MissingEnv(name))
}

/// A positive integer from the environment, or `default` when unset.
pub(crate) fn parsed(name: &'static str, default: u64) -> Result<u64, ConfigError> {
    match optional(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(value) if value > 0 => Ok(value),
            _ => Err(ConfigError::InvalidEnv { name, why: format!("expected a positive integer, got {raw:?}") }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_allowed() {
        for url in [
            "https://api.stripe.com/",
            "http://127.0.0.1:8420/",
            "http://localhost:4566",
            "http://[::1]:9000/",
            "http://127.8.0.1",
        ] {
            assert_eq!(plain_http_only_to_loopback("X", url), Ok(()), "{url}");
        }
    }

    #[test]
    fn plain_http_elsewhere_is_refused_naming_the_variable() {
        for url in
            ["http://api.stripe.com/", "http://10.0.0.1:80", "http://127.0.0.1.evil.com/", "http://[2001:db8::1]/"]
        {
            let err = plain_http_only_to_loopback("STRIPE_API_BASE", url).unwrap_err();
            assert!(err.starts_with("STRIPE_API_BASE is plain http://"), "{url}: {err}");
        }
    }
}
