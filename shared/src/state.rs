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
    users::Customers,
};

/// The core every function keeps: settings, MongoDB, users, tokens and
/// the login throttle.
pub struct CoreState {
    pub settings: Settings,
    pub db: Database,
    pub users: Users,
    pub tokens: Tokens,
    pub throttle: Throttle,
}

impl CoreState {
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
        let core = secret.core();
        let db = store::connect(&core.mongodb_uri, &settings.database).await?;
        let tokens = Tokens::new(&core.jwt_secret, settings.jwt_ttl);
        let throttle = Throttle::new(LoginAttempts::new(&db), settings.login_backoff);
        Ok(Self { settings, users: Users::new(&db), db, tokens, throttle })
    }

    /// What registering, logging in and changing a password take.
    pub fn gate(&self) -> Gate<'_> {
        Gate { users: &self.users, tokens: &self.tokens, throttle: &self.throttle }
    }
}

/// The core plus Stripe: what the functions that call Stripe keep (the
/// payment functions, and updating or deleting a user, whose Stripe
/// customer follows).
pub struct StripeState {
    pub core: CoreState,
    pub payments: Payments,
    pub claims: PaymentClaims,
    pub refunds: Refunds,
    pub stripe: Gateway,
    pub webhook_secret: String,
}

impl StripeState {
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
        let keys = secret.stripe()?;
        let stripe = Gateway::new(keys.secret_key, &product.stripe_api_base, &product.price)?;
        let webhook_secret = keys.webhook_secret.to_owned();
        let core = CoreState::build(settings, secret).await?;
        Ok(Self {
            payments: Payments::new(&core.db),
            claims: PaymentClaims::new(&core.db),
            refunds: Refunds::new(&core.db),
            core,
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
            users: &self.core.users,
            stripe: &self.stripe,
        }
    }

    /// The narrow view updating and deleting a user take: the user and
    /// their Stripe customer.
    pub fn customers(&self) -> Customers<'_> {
        Customers { users: &self.core.users, stripe: &self.stripe }
    }
}

/// What `GET /config` hands to front ends: nothing secret.
pub struct PublicConfig {
    pub publishable_key: String,
}

impl PublicConfig {
    pub async fn from_env() -> Result<Self, ConfigError> {
        let settings = Settings::from_env()?;
        Self::build(&AppSecret::fetch(&settings.secret_id).await?)
    }

    pub fn build(secret: &AppSecret) -> Result<Self, ConfigError> {
        Ok(Self { publishable_key: secret.publishable_key()?.to_owned() })
    }
}
