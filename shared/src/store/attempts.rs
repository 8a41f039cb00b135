use std::time::{Duration, SystemTime};

use mongodb::{
    bson::{doc, DateTime},
    options::ReturnDocument,
    Collection, Database,
};
use serde::{Deserialize, Serialize};

use super::StoreError;

/// How long a counter outlives its last attempt (a TTL index removes it then).
const KEPT_FOR: Duration = Duration::from_secs(24 * 3600);

/// Attempts under one key (an account from one address, an address, a
/// user's password) since the key's last success.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttemptsDocument {
    #[serde(rename = "_id")]
    key: String,
    #[serde(default)]
    attempts: u32,
    #[serde(default)]
    allowed_up_to: Option<u32>,
    #[serde(default)]
    locked_until: Option<DateTime>,
    /// When the latest attempt let through or still being decided began.
    #[serde(default)]
    last_attempt_at: Option<DateTime>,
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
    /// When the attempt before this one began, if there was one.
    pub previous_at: Option<SystemTime>,
    /// When this one began (as stored, to the millisecond).
    pub at: SystemTime,
}

/// The `login_attempts` collection: counters that every function shares,
/// so throttling holds across containers.
#[derive(Clone)]
pub struct LoginAttempts(Collection<AttemptsDocument>);

impl LoginAttempts {
    pub fn new(db: &Database) -> Self {
        Self(db.collection(COLLECTION))
    }

    /// Counts one more attempt, atomically, so that concurrent attempts each
    /// get their own number, and says when the one before it began.
    pub async fn reserve(&self, key: &str) -> Result<Reservation, StoreError> {
        let now = DateTime::now();
        let expires = DateTime::from_system_time(now.to_system_time() + KEPT_FOR);
        let update = doc! { "$inc": { "attempts": 1 }, "$set": { "lastAttemptAt": now, "expiresAt": expires } };
        let before = self
            .0
            .find_one_and_update(doc! { "_id": key }, update)
            .upsert(true)
            .return_document(ReturnDocument::Before)
            .await?;
        Ok(match before {
            None => Reservation {
                attempt: 1,
                allowed_up_to: None,
                locked_until: None,
                previous_at: None,
                at: now.to_system_time(),
            },
            Some(before) => Reservation {
                attempt: before.attempts + 1,
                allowed_up_to: before.allowed_up_to,
                locked_until: before.locked_until.map(DateTime::to_system_time),
                previous_at: before.last_attempt_at.map(DateTime::to_system_time),
                at: now.to_system_time(),
            },
        })
    }

    /// Takes back an attempt that was refused before its password was
    /// checked: its number, and its start, so refusals never push back the
    /// moment an unanswered attempt counts as lost.
    pub async fn release(&self, key: &str, refused: &Reservation) -> Result<(), StoreError> {
        let ours = DateTime::from_system_time(refused.at);
        let restore = match refused.previous_at {
            Some(previous) => doc! { "$set": { "lastAttemptAt": DateTime::from_system_time(previous) } },
            None => doc! { "$unset": { "lastAttemptAt": "" } },
        };
        self.0.update_one(doc! { "_id": key, "lastAttemptAt": ours }, restore).await?;
        self.0.update_one(doc! { "_id": key }, doc! { "$inc": { "attempts": -1 } }).await?;
        Ok(())
    }

    /// Refuses attempts until `until`, then lets attempt `attempt + 1` through.
    pub async fn lock(&self, key: &str, attempt: u32, until: SystemTime) -> Result<(), StoreError> {
        let set = doc! { "lockedUntil": DateTime::from_system_time(until), "allowedUpTo": attempt + 1 };
        self.0.update_one(doc! { "_id": key }, doc! { "$set": set }).await?;
        Ok(())
    }

    /// Forgets the key's attempts (a success).
    pub async fn clear(&self, key: &str) -> Result<(), StoreError> {
        self.0.delete_one(doc! { "_id": key }).await?;
        Ok(())
    }

    /// Forgets every key that starts with `prefix` (an account, whatever
    /// the address).
    pub async fn clear_prefixed(&self, prefix: &str) -> Result<(), StoreError> {
        // The first string after every string that starts with `prefix`.
        let end = format!("{prefix}\u{10FFFF}");
        self.0.delete_many(doc! { "_id": { "$gte": prefix, "$lt": end } }).await?;
        Ok(())
    }
}

pub(super) const COLLECTION: &str = "login_attempts";
