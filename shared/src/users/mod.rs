//! Users: registering, reading, changing and removing accounts, and the
//! operator's ways to make admins.

use crate::{
    auth::{
        password::{self, HashError},
        Caller, Denied, Gate, SigningFailed, Throttle,
    },
    domain::{Cursor, Email, NewUser, Page, PageLimit, Password, Role, User, UserId, UserName, UserPatch},
    store::{StoreError, Users},
    stripe::{Gateway, GatewayError},
};

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("no such user")]
    NotFound,
    #[error("the email is already registered")]
    EmailTaken,
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("hashing the password failed")]
    Hashing(#[from] HashError),
    #[error(transparent)]
    Signing(#[from] SigningFailed),
    #[error("Stripe could not be kept in step")]
    Stripe(#[from] GatewayError),
    #[error("the users store failed")]
    Store(#[source] StoreError),
}

impl From<StoreError> for UsersError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Duplicate(_) => Self::EmailTaken,
            other => Self::Store(other),
        }
    }
}

/// What updating and deleting a user take: the accounts and Stripe, where
/// each user's customer follows their account.
#[derive(Clone, Copy)]
pub struct Customers<'a> {
    pub users: &'a Users,
    pub stripe: &'a Gateway,
}

/// Opens an account and answers its first access token.
pub async fn register(gate: Gate<'_>, new: NewUser) -> Result<String, UsersError> {
    let user = open_account(gate.users, new).await?;
    Ok(gate.tokens.issue(&user)?)
}

/// POST /user: an admin opens an account for someone.
pub async fn create(users: &Users, caller: &Caller, new: NewUser) -> Result<User, UsersError> {
    caller.require_admin()?;
    open_account(users, new).await
}

/// Stores a new user with the `user` role.
async fn open_account(users: &Users, new: NewUser) -> Result<User, UsersError> {
    let user = User {
        id: UserId::generate(),
        user_name: new.user_name,
        email: new.email,
        password_hash: password::hash(&new.password).await?,
        role: Role::User,
        customer_id: None,
        token_version: 0,
    };
    users.insert(&user).await?;
    Ok(user)
}

/// A user: the caller themself, or anyone for an admin.
pub async fn get(users: &Users, caller: &Caller, id: UserId) -> Result<User, UsersError> {
    caller.require_self_or_admin(id)?;
    if caller.id() == id {
        // Authentication has just read it.
        return Ok(caller.user.clone());
    }
    users.get(id).await?.ok_or(UsersError::NotFound)
}

/// One page of every user, oldest account first; for admins.
pub async fn list(
    users: &Users,
    caller: &Caller,
    limit: PageLimit,
    after: Option<Cursor>,
) -> Result<Page<User>, UsersError> {
    caller.require_admin()?;
    Ok(users.page(limit, after).await?)
}

/// Applies a patch to the caller's own account, or (for an admin) anyone's;
/// only an admin may set the Stripe customer id. A new
/// email or name goes to the user's Stripe customer too, after our record:
/// if Stripe fails, the same request again completes it.
pub async fn update(
    Customers { users, stripe }: Customers<'_>,
    caller: &Caller,
    id: UserId,
    patch: UserPatch,
) -> Result<User, UsersError> {
    caller.require_self_or_admin(id)?;
    if patch.customer_id.is_some() && !caller.is_admin() {
        return Err(Denied::CustomerIdIsAdminOnly.into());
    }
    let user = users.update(id, &patch).await?.ok_or(UsersError::NotFound)?;
    if let (Some(customer), true) = (&user.customer_id, patch.email.is_some() || patch.user_name.is_some()) {
        match stripe.update_customer(customer, &user.email, &user.user_name).await {
            // Deleted at Stripe: the next payment makes a new one from the record.
            Ok(()) | Err(GatewayError::NotFound { .. }) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(user)
}

/// Removes the caller's own account, or (for an admin) anyone's, and the
/// user's Stripe customer first, so that their
/// personal data leaves Stripe too. If Stripe fails nothing is removed; if
/// our delete fails after Stripe's, the same request again completes it
/// (a customer already gone counts as deleted). Payment records stay.
pub async fn delete(
    Customers { users, stripe }: Customers<'_>,
    caller: &Caller,
    id: UserId,
) -> Result<User, UsersError> {
    caller.require_self_or_admin(id)?;
    let user = users.get(id).await?.ok_or(UsersError::NotFound)?;
    if let Some(customer) = &user.customer_id {
        stripe.delete_customer(customer).await?;
    }
    users.delete(id).await?.ok_or(UsersError::NotFound)
}

/// Makes an existing user an admin, by id: an email names whoever
/// registered it, or changed to it, first.
pub async fn promote(users: &Users, id: UserId) -> Result<User, UsersError> {
    users.set_role(id, Role::Admin).await?.ok_or(UsersError::NotFound)
}

/// Creates the admin, or resets an existing account's password and makes
/// it admin.
pub async fn seed_admin(
    users: &Users,
    throttle: &Throttle,
    email: &Email,
    password: &Password,
) -> Result<User, UsersError> {
    if users.by_email(email).await?.is_none() {
        let user_name = UserName::parse("Admin").expect("a valid name");
        let new = NewUser { user_name, email: email.clone(), password: password.clone() };
        match open_account(users, new).await {
            Ok(_) | Err(UsersError::EmailTaken) => {}
            Err(err) => return Err(err),
        }
    }
    let user = users.by_email(email).await?.ok_or(UsersError::NotFound)?;
    // Resetting the password revokes the tokens issued before, as a change
    // does, and lifts every lock on the account.
    users.set_password(user.id, &password::hash(password).await?).await?.ok_or(UsersError::NotFound)?;
    throttle.forget(email, user.id).await?;
    promote(users, user.id).await
}
