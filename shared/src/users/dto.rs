use serde::Serialize;

use super::User;

/// `ReturnUserDto`: all a client ever sees of a user.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    pub user_id: String,
    pub user_name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

impl From<User> for UserDto {
    fn from(user: User) -> Self {
        Self {
            user_id: user.object_id.to_hex(),
            user_name: user.user_name,
            email: user.email,
            customer_id: user.customer_id,
        }
    }
}
