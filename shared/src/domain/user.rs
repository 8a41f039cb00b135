use serde::{Deserialize, Serialize};

use super::{CustomerId, Email, Password, PasswordHash, UserId, UserName};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    User,
    Admin,
}

/// A user account.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub user_name: UserName,
    pub email: Email,
    pub password_hash: PasswordHash,
    pub role: Role,
    pub customer_id: Option<CustomerId>,
    /// Raised by every password change: tokens carry the version they were
    /// issued at, and one of an older version is refused.
    pub token_version: u32,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// What registering (or an admin creating) a user takes.
#[derive(Debug)]
pub struct NewUser {
    pub user_name: UserName,
    pub email: Email,
    pub password: Password,
}

/// The fields an update may change; `None` leaves a field alone.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub user_name: Option<UserName>,
    pub email: Option<Email>,
    pub customer_id: Option<CustomerId>,
}
