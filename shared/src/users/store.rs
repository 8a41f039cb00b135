use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, oid::ObjectId, DateTime, Document},
    options::ReturnDocument,
    Collection, Database,
};

use super::{Role, User};
use crate::{
    auth::password::{self, PasswordHash},
    db::{is_duplicate_key, unavailable},
    domain::{CustomerId, Email, Password, UserId, UserName},
    http::{ApiError, JsonObject, Request},
};

const EMAIL_TAKEN: ApiError = ApiError::Conflict("Email is already registered.");

pub struct NewUser {
    pub user_name: UserName,
    pub email: Email,
    pub password: Password,
}

impl NewUser {
    /// `CreateUserDto`: `{userName, email, password}`, all required.
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let body = JsonObject::from_request(req, &["userName", "email", "password"])?;
        Ok(Self {
            user_name: body.required("userName", UserName::parse)?,
            email: body.required("email", Email::parse)?,
            password: body.required("password", Password::parse)?,
        })
    }
}

/// The fields PATCH /user/{id} may change; `None` leaves a field alone.
#[derive(Default)]
pub struct UserPatch {
    pub user_name: Option<UserName>,
    pub email: Option<Email>,
    pub customer_id: Option<CustomerId>,
}

impl UserPatch {
    /// `UpdateUserDto`: `{userName?, email?, customerId?}`.
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let body = JsonObject::from_request(req, &["userName", "email", "customerId"])?;
        Ok(Self {
            user_name: body.optional("userName", UserName::parse)?,
            email: body.optional("email", Email::parse)?,
            customer_id: body.optional("customerId", CustomerId::parse)?,
        })
    }
}

/// The `users` collection. Email uniqueness is the unique index's job, so
/// concurrent registrations of one address cannot both succeed.
pub struct Users(Collection<User>);

impl Users {
    pub fn new(db: &Database) -> Self {
        Self(db.collection("users"))
    }

    pub async fn create(&self, new: NewUser) -> Result<User, ApiError> {
        let password_hash: PasswordHash = password::hash(&new.password).await?;
        let user = User {
            object_id: ObjectId::new(),
            user_name: new.user_name.as_str().to_owned(),
            email: new.email.as_str().to_owned(),
            password_hash,
            role: Role::User,
            customer_id: None,
            created_at: DateTime::now(),
        };
        match self.0.insert_one(&user).await {
            Ok(_) => Ok(user),
            Err(err) if is_duplicate_key(&err) => Err(EMAIL_TAKEN),
            Err(err) => Err(unavailable(err)),
        }
    }

    pub async fn get(&self, id: UserId) -> Result<Option<User>, ApiError> {
        self.0.find_one(doc! { "_id": id.object_id() }).await.map_err(unavailable)
    }

    pub async fn by_email(&self, email: &Email) -> Result<Option<User>, ApiError> {
        self.0.find_one(doc! { "email": email.as_str() }).await.map_err(unavailable)
    }

    /// Every user, oldest first.
    pub async fn list(&self) -> Result<Vec<User>, ApiError> {
        let cursor = self.0.find(doc! {}).sort(doc! { "_id": 1 }).await.map_err(unavailable)?;
        cursor.try_collect().await.map_err(unavailable)
    }

    /// Applies the patch and returns the user as it now is, or `None` if
    /// there is no such user.
    pub async fn update(&self, id: UserId, patch: UserPatch) -> Result<Option<User>, ApiError> {
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
        if set.is_empty() {
            return self.get(id).await;
        }
        set.insert("updatedAt", DateTime::now());
        // update_one, not findAndModify: nx-27017's findAndModify answers
        // "no document" where MongoDB reports the duplicate key.
        match self.0.update_one(doc! { "_id": id.object_id() }, doc! { "$set": set }).await {
            Ok(result) if result.matched_count == 0 => Ok(None),
            Ok(_) => self.get(id).await,
            Err(err) if is_duplicate_key(&err) => Err(EMAIL_TAKEN),
            Err(err) => Err(unavailable(err)),
        }
    }

    /// Removes the user and returns what was removed. Their payments stay.
    pub async fn delete(&self, id: UserId) -> Result<Option<User>, ApiError> {
        self.0.find_one_and_delete(doc! { "_id": id.object_id() }).await.map_err(unavailable)
    }

    pub async fn set_password(&self, email: &Email, password: &Password) -> Result<(), ApiError> {
        let hash = mongodb::bson::to_bson(&password::hash(password).await?)
            .map_err(|err| ApiError::Internal(err.to_string()))?;
        self.0
            .update_one(
                doc! { "email": email.as_str() },
                doc! { "$set": { "passwordHash": hash, "updatedAt": DateTime::now() } },
            )
            .await
            .map(drop)
            .map_err(unavailable)
    }

    /// Saves the Stripe customer id unless the user already has one;
    /// answers whether this call saved it.
    pub async fn attach_customer(&self, id: UserId, customer: &str) -> Result<bool, ApiError> {
        let filter = doc! { "_id": id.object_id(), "customerId": { "$exists": false } };
        let update = doc! { "$set": { "customerId": customer, "updatedAt": DateTime::now() } };
        let result = self.0.update_one(filter, update).await.map_err(unavailable)?;
        Ok(result.modified_count > 0)
    }

    pub async fn set_role(&self, email: &Email, role: Role) -> Result<Option<User>, ApiError> {
        let role = mongodb::bson::to_bson(&role).map_err(|err| ApiError::Internal(err.to_string()))?;
        self.0
            .find_one_and_update(
                doc! { "email": email.as_str() },
                doc! { "$set": { "role": role, "updatedAt": DateTime::now() } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(unavailable)
    }
}
