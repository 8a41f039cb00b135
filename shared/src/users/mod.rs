//! Users: the stored document, what clients see of it, and its collection.

mod dto;
mod store;

pub use dto::UserDto;
pub use store::{NewUser, UserPatch, Users};

use mongodb::bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

use crate::{auth::password::PasswordHash, domain::UserId};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    User,
    Admin,
}

/// A user as stored in the `users` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "_id")]
    pub object_id: ObjectId,
    pub user_name: String,
    pub email: String,
    pub password_hash: PasswordHash,
    #[serde(default)]
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub created_at: DateTime,
    // `updatedAt` is written by every update but never read back: nx-27017
    // stores a `$set` date as a string (see README, divergences).
}

impl User {
    pub fn id(&self) -> UserId {
        self.object_id.into()
    }
}
