//! Our request bodies and query strings, parsed into domain values. Each
//! refusal names the field it is about.

use super::{query_param, ApiError, JsonObject, Request};
use crate::{
    domain::{
        Cuid, Cursor, CustomerId, Email, NewUser, PageLimit, Password, PaymentIntentId, PaymentMethodId, RefundAmount,
        UserName, UserPatch,
    },
    payments::Confirmation,
};

/// `CreateUserDto`: `{userName, email, password}`, all required.
pub fn new_user(req: &Request) -> Result<NewUser, ApiError> {
    let body = JsonObject::from_request(req, &["userName", "email", "password"])?;
    Ok(NewUser {
        user_name: body.required("userName", UserName::parse)?,
        email: body.required("email", Email::parse)?,
        password: body.required("password", Password::parse)?,
    })
}

/// `UpdateUserDto`: `{userName?, email?, customerId?}`.
pub fn user_patch(req: &Request) -> Result<UserPatch, ApiError> {
    let body = JsonObject::from_request(req, &["userName", "email", "customerId"])?;
    Ok(UserPatch {
        user_name: body.optional("userName", UserName::parse)?,
        email: body.optional("email", Email::parse)?,
        customer_id: body.optional("customerId", CustomerId::parse)?,
    })
}

/// `LoginDto`: `{email, password}`.
pub fn credentials(req: &Request) -> Result<(Email, Password), ApiError> {
    let body = JsonObject::from_request(req, &["email", "password"])?;
    Ok((body.required("email", Email::parse)?, body.required("password", Password::parse)?))
}

/// `{currentPassword, newPassword}`; the new one follows the registration rules.
pub fn password_change(req: &Request) -> Result<(Password, Password), ApiError> {
    let body = JsonObject::from_request(req, &["currentPassword", "newPassword"])?;
    Ok((body.required("currentPassword", Password::parse)?, body.required("newPassword", Password::parse)?))
}

/// `CreatePaymentDto`: `{cuid}`.
pub fn new_payment(req: &Request) -> Result<Cuid, ApiError> {
    JsonObject::from_request(req, &["cuid"])?.required("cuid", Cuid::parse)
}

/// `ConfirmPaymentDto`: `{cuid, paymentId, paymentMethodId}`.
pub fn confirmation(req: &Request) -> Result<Confirmation, ApiError> {
    let body = JsonObject::from_request(req, &["cuid", "paymentId", "paymentMethodId"])?;
    Ok(Confirmation {
        cuid: body.required("cuid", Cuid::parse)?,
        intent: body.required("paymentId", PaymentIntentId::parse)?,
        method: body.required("paymentMethodId", PaymentMethodId::parse)?,
    })
}

/// `{cuid, amount?}`: the refund's idempotency key and how much, in the
/// currency's smallest unit (everything not yet refunded when absent).
pub fn refund_request(req: &Request) -> Result<(Cuid, RefundAmount), ApiError> {
    let body = JsonObject::from_request(req, &["cuid", "amount"])?;
    let cuid = body.required("cuid", Cuid::parse)?;
    Ok((cuid, body.optional_integer("amount", RefundAmount::of)?.unwrap_or(RefundAmount::REST)))
}

/// `?limit=` (1–100, default 20) and `?cursor=` (from `x-next-cursor`).
pub fn page(req: &Request) -> Result<(PageLimit, Option<Cursor>), ApiError> {
    let limit = match query_param(req, "limit") {
        Some(raw) => PageLimit::parse(&raw).map_err(|why| ApiError::field("limit", why))?,
        None => PageLimit::default(),
    };
    let cursor = query_param(req, "cursor")
        .map(|raw| Cursor::parse(&raw))
        .transpose()
        .map_err(|why| ApiError::field("cursor", why))?;
    Ok((limit, cursor))
}
