use crate::domain::{User, UserId};

/// The authenticated user behind a request, freshly loaded: a deleted
/// user's token stops working at once, and a demoted admin's at once too.
#[derive(Debug)]
pub struct Caller {
    pub user: User,
}

/// Why an authenticated caller may not do what they asked.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("only an admin may do this")]
    NotAdmin,
    #[error("users may only act on their own record")]
    NotTheirs,
    #[error("only an admin may set a user's customer id")]
    CustomerIdIsAdminOnly,
}

impl Caller {
    pub fn id(&self) -> UserId {
        self.user.id
    }

    pub fn is_admin(&self) -> bool {
        self.user.is_admin()
    }

    pub fn require_admin(&self) -> Result<(), Denied> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Denied::NotAdmin)
        }
    }

    /// Users act on their own record; admins on anyone's.
    pub fn require_self_or_admin(&self, target: UserId) -> Result<(), Denied> {
        if self.id() == target || self.is_admin() {
            Ok(())
        } else {
            Err(Denied::NotTheirs)
        }
    }
}
