//! Per-container state: built once at cold start, borrowed by every
//! invocation the container serves.

use mongodb::Database;

use crate::{
    auth::Tokens,
    config::{ConfigError, Settings},
    db,
    secrets::AppSecret,
    users::Users,
};

pub struct AppState {
    pub settings: Settings,
    pub db: Database,
    pub tokens: Tokens,
}

impl AppState {
    /// Reads the environment and the secret; the cold-start path of every function.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let settings = Settings::from_env()?;
        let secret = AppSecret::fetch(&settings.secret_id).await?;
        Self::build(settings, &secret).await
    }

    pub async fn build(settings: Settings, secret: &AppSecret) -> Result<Self, ConfigError> {
        let db = db::connect(&secret.mongodb_uri, &settings.database).await?;
        let tokens = Tokens::new(&secret.jwt_secret, settings.jwt_ttl);
        Ok(Self {
            settings,
            db,
            tokens,
        })
    }

    pub fn users(&self) -> Users {
        Users::new(&self.db)
    }
}
