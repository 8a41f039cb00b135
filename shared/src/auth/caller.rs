use lambda_http::Request;

use crate::{
    domain::UserId,
    http::{bearer_token, ApiError},
    state::AppState,
    users::{Role, User},
};

/// The authenticated user behind a request, freshly loaded: a deleted
/// user's token stops working at once, and a demoted admin's at once too.
#[derive(Debug)]
pub struct Caller {
    pub user: User,
}

/// Checks the bearer token and loads its user; any failure is a 401.
pub async fn authenticate(state: &AppState, req: &Request) -> Result<Caller, ApiError> {
    let user_id = state.tokens.verify(bearer_token(req)?)?;
    match state.users().get(user_id).await? {
        Some(user) => Ok(Caller { user }),
        None => Err(ApiError::Unauthorized("Invalid or expired token.")),
    }
}

impl Caller {
    pub fn id(&self) -> UserId {
        self.user.id()
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("Only an admin may do this."))
        }
    }

    /// Users act on their own record; admins on anyone's.
    pub fn require_self_or_admin(&self, target: UserId) -> Result<(), ApiError> {
        if self.id() == target || self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("You may only access your own user."))
        }
    }
}
