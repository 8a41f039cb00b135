//! Per-container state: built once at cold start, borrowed by every
//! invocation the container serves.

use mongodb::Database;

use crate::{
    auth::{Gate, Throttle, Tokens},
    config::{ConfigError, PaymentSettings, Settings},
    payments::Ledger,
    secrets::{AppSecret, SecretsClient},
    store::{self, LoginAttempts, PaymentClaims, Payments, Refunds, Users},
    stripe::Gateway,
};

pub struct AppState {
    pub settings: Settings,
    pub db: Database,
    pub users: Users,
    pub tokens: Tokens,
    pub throttle: Throttle,
}

impl AppState {
    /// Reads the environment and the secret; the cold-start path of every function.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let settings = Settings::from_env()?;
        let secret = AppSecret::fetch(&settings.secret_id).await?;
        Self::build(settings, &secret).await
    }

    /// The same, reading the secret with `secrets` (the operator CLI's
    /// client, with the whole AWS credential chain).
    pub async fn from_env_with(secrets: &SecretsClient) -> Result<Self, ConfigError> {
        let settings = Settings::from_env()?;
        let secret = AppSecret::fetch_with(secrets, &settings.secret_id).await?;
        Self::build(settings, &secret).await
    }

    pub async fn build(settings: Settings, secret: &AppSecret) -> Result<Self, ConfigError> {
        let db = store::connect(&secret.mongodb_uri, &settings.database).await?;
        let tokens = Tokens::new(&secret.jwt_secret, settings.jwt_ttl);
        let throttle = Throttle::new(LoginAttempts::new(&db), settings.login_backoff);
        Ok(Self { settings, users: Users::new(&db), db, tokens, throttle })
    }

    /// What logging in and changing a password take.
    pub fn gate(&self) -> Gate<'_> {
        Gate { users: &self.users, tokens: &self.tokens, throttle: &self.throttle }
    }
}

/// What the payment functions keep: the common state plus Stripe.
pub struct PaymentsState {
    pub app: AppState,
    pub payments: Payments,
    pub claims: PaymentClaims,
    pub refunds: Refunds,
    pub stripe: Gateway,
    pub webhook_secret: String,
}

impl PaymentsState {
    pub async fn from_env() -> Result<Self, ConfigError> {
        let settings = Settings::from_env()?;
        let product = PaymentSettings::from_env()?;
        let secret = AppSecret::fetch(&settings.secret_id).await?;
        Self::build(settings, product, &secret).await
    }

    /// The same, reading the secret with `secrets` (the operator CLI's).
    pub async fn from_env_with(secrets: &SecretsClient) -> Result<Self, ConfigError> {
        let settings = Settings::from_env()?;
        let product = PaymentSettings::from_env()?;
        let secret = AppSecret::fetch_with(secrets, &settings.secret_id).await?;
        Self::build(settings, product, &secret).await
    }

    pub async fn build(settings: Settings, product: PaymentSettings, secret: &AppSecret) -> Result<Self, ConfigError> {
        let (Some(stripe_key), Some(webhook_secret)) = (&secret.stripe_secret_key, &secret.stripe_webhook_secret)
        else {
            let missing: Vec<&str> = [
                ("stripeSecretKey", &secret.stripe_secret_key),
                ("stripeWebhookSecret", &secret.stripe_webhook_secret),
            ]
            .into_iter()
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key)
            .collect();
            return Err(ConfigError::SecretIncomplete { id: settings.secret_id.clone(), keys: missing.join(", ") });
        };
        let stripe = Gateway::new(stripe_key, &product.stripe_api_base, &product.price)?;
        let webhook_secret = webhook_secret.clone();
        let app = AppState::build(settings, secret).await?;
        Ok(Self {
            payments: Payments::new(&app.db),
            claims: PaymentClaims::new(&app.db),
            refunds: Refunds::new(&app.db),
            app,
            stripe,
            webhook_secret,
        })
    }

    /// The narrow view the payment steps take.
    pub fn ledger(&self) -> Ledger<'_> {
        Ledger {
            payments: &self.payments,
            claims: &self.claims,
            refunds: &self.refunds,
            users: &self.app.users,
            stripe: &self.stripe,
        }
    }
}

/// What `GET /config` hands to front ends: nothing secret.
pub struct PublicConfig {
    pub publishable_key: String,
}

impl PublicConfig {
    pub async fn from_env() -> Result<Self, ConfigError> {
        let settings = Settings::from_env()?;
        let secret = AppSecret::fetch(&settings.secret_id).await?;
        Self::build(&settings, &secret)
    }

    /// The secret's `stripePublishableKey`, which must be a publishable key:
    /// a secret key there would be handed to every browser.
    pub fn build(settings: &Settings, secret: &AppSecret) -> Result<Self, ConfigError> {
        let id = || settings.secret_id.clone();
        let key = secret
            .stripe_publishable_key
            .as_ref()
            .ok_or_else(|| ConfigError::SecretIncomplete { id: id(), keys: "stripePublishableKey".into() })?;
        if !key.starts_with("pk_") {
            return Err(ConfigError::SecretInvalid {
                id: id(),
                why: "stripePublishableKey must be a publishable key (pk_...)".into(),
            });
        }
        Ok(Self { publishable_key: key.clone() })
    }
}
