use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, oid::ObjectId, to_bson, DateTime, Document},
    options::ReturnDocument,
    Collection, Database,
};
use serde::{Deserialize, Serialize};

use super::{oid, record_of, user_oid, StoreError};
use crate::domain::{
    Cursor, CustomerId, Email, Page, PageLimit, PasswordHash, Role, User, UserId, UserName, UserPatch,
};

/// A user as stored in the `users` collection.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserDocument {
    #[serde(rename = "_id")]
    id: ObjectId,
    user_name: UserName,
    email: Email,
    password_hash: PasswordHash,
    #[serde(default)]
    role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer_id: Option<CustomerId>,
    #[serde(default)]
    token_version: u32,
    created_at: DateTime,
}

impl From<UserDocument> for User {
    fn from(doc: UserDocument) -> Self {
        let UserDocument { id, user_name, email, password_hash, role, customer_id, token_version, created_at: _ } = doc;
        Self { id: UserId::from(record_of(id)), user_name, email, password_hash, role, customer_id, token_version }
    }
}

/// The `users` collection. Email uniqueness is the unique index's job, so
/// concurrent registrations of one address cannot both succeed.
#[derive(Clone)]
pub struct Users(Collection<UserDocument>);

impl Users {
    pub fn new(db: &Database) -> Self {
        Self(db.collection(COLLECTION))
    }

    /// Stores a new user; [`StoreError::Duplicate`] if the email is taken.
    pub async fn insert(&self, user: &User) -> Result<(), StoreError> {
        let doc = UserDocument {
            id: user_oid(user.id),
            user_name: user.user_name.clone(),
            email: user.email.clone(),
            password_hash: user.password_hash.clone(),
            role: user.role,
            customer_id: user.customer_id.clone(),
            token_version: user.token_version,
            created_at: DateTime::now(),
        };
        self.0.insert_one(doc).await?;
        Ok(())
    }

    pub async fn get(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.0.find_one(doc! { "_id": user_oid(id) }).await?.map(User::from))
    }

    pub async fn by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(self.0.find_one(doc! { "email": email.as_str() }).await?.map(User::from))
    }

    /// Every user, oldest first.
    /// One page of every user, oldest account first.
    pub async fn page(&self, limit: PageLimit, after: Option<Cursor>) -> Result<Page<User>, StoreError> {
        let filter = match after {
            Some(after) => doc! { "_id": { "$gt": oid(after.record()) } },
            None => doc! {},
        };
        let cursor = self.0.find(filter).sort(doc! { "_id": 1 }).limit(i64::from(limit.get()) + 1).await?;
        let users: Vec<User> = cursor.map_ok(User::from).try_collect().await?;
        Ok(Page::of(users, limit, |user| user.id.record()))
    }

    /// Applies the patch and returns the user as it now is, or `None` if
    /// there is no such user. [`StoreError::Duplicate`] if the new email is
    /// taken.
    pub async fn update(&self, id: UserId, patch: &UserPatch) -> Result<Option<User>, StoreError> {
        let mut set = Document::new();
        if let Some(name) = &patch.user_name {
            set.insert("userName", name.as_str());
        }
        if let Some(email) = &patch.email {
            set.insert("email", email.as_str());
        }
        if let Some(customer) = &patch.customer_id {
            set.insert("customerId", customer.as_str());
        }
        self.set(doc! { "_id": user_oid(id) }, set).await
    }

    /// Removes the user and returns what was removed.
    pub async fn delete(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.0.find_one_and_delete(doc! { "_id": user_oid(id) }).await?.map(User::from))
    }

    /// Sets a new password hash and raises the token version, so every token
    /// issued before is refused from now on.
    pub async fn set_password(&self, id: UserId, hash: &PasswordHash) -> Result<Option<User>, StoreError> {
        let update = doc! {
            "$set": { "passwordHash": hash.as_phc(), "updatedAt": DateTime::now() },
            "$inc": { "tokenVersion": 1 },
        };
        let updated = self
            .0
            .find_one_and_update(doc! { "_id": user_oid(id) }, update)
            .return_document(ReturnDocument::After)
            .await?;
        Ok(updated.map(User::from))
    }

    pub async fn set_role(&self, id: UserId, role: Role) -> Result<Option<User>, StoreError> {
        let role = to_bson(&role).map_err(|err| StoreError::Corrupt(err.into()))?;
        self.set(doc! { "_id": user_oid(id) }, doc! { "role": role }).await
    }

    /// Saves the Stripe customer id unless the user already has one;
    /// answers whether this call saved it.
    pub async fn attach_customer(&self, id: UserId, customer: &CustomerId) -> Result<bool, StoreError> {
        let filter = doc! { "_id": user_oid(id), "customerId": { "$exists": false } };
        let update = doc! { "$set": { "customerId": customer.as_str(), "updatedAt": DateTime::now() } };
        Ok(self.0.update_one(filter, update).await?.modified_count > 0)
    }

    /// Swaps a customer id that Stripe no longer knows for its replacement,
    /// unless another request did so first; answers whether this one did.
    pub async fn replace_customer(&self, id: UserId, old: &CustomerId, new: &CustomerId) -> Result<bool, StoreError> {
        let filter = doc! { "_id": user_oid(id), "customerId": old.as_str() };
        let update = doc! { "$set": { "customerId": new.as_str(), "updatedAt": DateTime::now() } };
        Ok(self.0.update_one(filter, update).await?.modified_count > 0)
    }

    /// `$set`s the fields on the one user `filter` matches; the user as it
    /// now is.
    async fn set(&self, filter: Document, mut set: Document) -> Result<Option<User>, StoreError> {
        if set.is_empty() {
            return Ok(self.0.find_one(filter).await?.map(User::from));
        }
        set.insert("updatedAt", DateTime::now());
        let updated =
            self.0.find_one_and_update(filter, doc! { "$set": set }).return_document(ReturnDocument::After).await?;
        Ok(updated.map(User::from))
    }
}

pub(super) const COLLECTION: &str = "users";
