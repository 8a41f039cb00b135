use std::time::{Duration, SystemTime};

use mongodb::{
    bson::{doc, DateTime},
    options::ReturnDocument,
    Collection, Database,
};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::domain::Email;

/// How long an account's counter outlives its last attempt (a TTL index
/// removes it then).
const KEPT_FOR: Duration = Duration::from_secs(24 * 3600);

/// Login attempts for one email since its last successful login.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttemptsDocument {
    #[serde(rename = "_id")]
    email: Email,
    #[serde(default)]
    attempts: u32,
    #[serde(default)]
    allowed_up_to: Option<u32>,
    #[serde(default)]
    locked_until: Option<DateTime>,
    expires_at: DateTime,
}

/// One attempt, counted before the password is looked at.
#[derive(Debug, Clone, Copy)]
pub struct Reservation {
    /// This attempt's number since the last success, 1 for the first.
    pub attempt: u32,
    /// The highest attempt number allowed through, once a lock was set.
    pub allowed_up_to: Option<u32>,
    pub locked_until: Option<SystemTime>,
}

/// The `login_attempts` collection: per-account counters that every
/// function shares, so throttling holds across containers.
#[derive(Clone)]
pub struct LoginAttempts(Collection<AttemptsDocument>);

impl LoginAttempts {
    pub fn new(db: &Database) -> Self {
        Self(db.collection(COLLECTION))
    }

    /// Counts one more attempt, atomically, so that concurrent attempts each
    /// get their own number.
    pub async fn reserve(&self, email: &Email) -> Result<Reservation, StoreError> {
        let expires = DateTime::from_system_time(SystemTime::now() + KEPT_FOR);
        let update = doc! { "$inc": { "attempts": 1 }, "$set": { "expiresAt": expires } };
        let counted = self
            .0
            .find_one_and_update(doc! { "_id": email.as_str() }, update)
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| StoreError::Corrupt(mongodb::error::Error::custom("an upsert returned no document")))?;
        Ok(Reservation {
            attempt: counted.attempts,
            allowed_up_to: counted.allowed_up_to,
            locked_until: counted.locked_until.map(DateTime::to_system_time),
        })
    }

    /// Takes back an attempt that was refused before its password was checked.
    pub async fn release(&self, email: &Email) -> Result<(), StoreError> {
        self.0.update_one(doc! { "_id": email.as_str() }, doc! { "$inc": { "attempts": -1 } }).await?;
        Ok(())
    }

    /// Refuses attempts until `until`, then lets attempt `attempt + 1` through.
    pub async fn lock(&self, email: &Email, attempt: u32, until: SystemTime) -> Result<(), StoreError> {
        let set = doc! { "lockedUntil": DateTime::from_system_time(until), "allowedUpTo": attempt + 1 };
        self.0.update_one(doc! { "_id": email.as_str() }, doc! { "$set": set }).await?;
        Ok(())
    }

    /// Forgets the account's attempts (a successful login).
    pub async fn clear(&self, email: &Email) -> Result<(), StoreError> {
        self.0.delete_one(doc! { "_id": email.as_str() }).await?;
        Ok(())
    }
}

pub(super) const COLLECTION: &str = "login_attempts";
