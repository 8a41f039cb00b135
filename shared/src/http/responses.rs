//! What clients see: our response bodies, in the original service's names.

use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use super::{json, ApiError};
use crate::{
    domain::{Cursor, Intent, Page, Payment, Refund, User},
    payments::Applied,
};

/// `AuthGrantDto`, the answer to register and login.
#[derive(Serialize)]
pub struct AuthGrant {
    pub access_token: String,
}

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
            user_id: user.id.to_string(),
            user_name: user.user_name.into(),
            email: user.email.into(),
            customer_id: user.customer_id.map(String::from),
        }
    }
}

/// `ReturnPaymentDto`. `paymentMethod` is null until one is attached.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDto {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: &'static str,
    pub payment_method: Option<String>,
    pub amount_refunded: i64,
}

impl From<Payment> for PaymentDto {
    fn from(payment: Payment) -> Self {
        Self {
            id: payment.intent_id.into(),
            amount: payment.amount,
            currency: payment.currency.into(),
            status: payment.status.as_str(),
            payment_method: payment.payment_method.map(String::from),
            amount_refunded: payment.amount_refunded,
        }
    }
}

impl From<&Intent> for PaymentDto {
    fn from(intent: &Intent) -> Self {
        Self {
            id: intent.id.to_string(),
            amount: intent.amount,
            currency: intent.currency.to_string(),
            status: intent.status.as_str(),
            payment_method: intent.payment_method.as_ref().map(ToString::to_string),
            amount_refunded: intent.amount_refunded,
        }
    }
}

impl From<Intent> for PaymentDto {
    fn from(intent: Intent) -> Self {
        Self::from(&intent)
    }
}

/// `PaymentCreatedDto`: the payment plus what the client needs to finish it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCreatedDto {
    #[serde(flatten)]
    pub payment: PaymentDto,
    pub client_secret: Option<String>,
}

impl From<Intent> for PaymentCreatedDto {
    fn from(intent: Intent) -> Self {
        Self {
            payment: PaymentDto::from(&intent),
            client_secret: intent.client_secret.as_ref().map(|secret| secret.expose().to_owned()),
        }
    }
}

/// The answer to a refund.
#[derive(Debug, Serialize)]
pub struct RefundDto {
    pub id: String,
    pub amount: i64,
    pub status: &'static str,
}

impl From<Refund> for RefundDto {
    fn from(refund: Refund) -> Self {
        Self { id: refund.id.into(), amount: refund.amount, status: refund.status.as_str() }
    }
}

/// A page of payments; `x-next-cursor` says where the next one starts.
pub fn payment_page(page: Page<Payment>) -> Result<Response<Body>, ApiError> {
    paged(page.items.into_iter().map(PaymentDto::from).collect::<Vec<_>>(), page.next)
}

/// A page of users; `x-next-cursor` says where the next one starts.
pub fn user_page(page: Page<User>) -> Result<Response<Body>, ApiError> {
    paged(page.items.into_iter().map(UserDto::from).collect::<Vec<_>>(), page.next)
}

fn paged(body: Vec<impl Serialize>, next: Option<Cursor>) -> Result<Response<Body>, ApiError> {
    let mut response = json(StatusCode::OK, &body);
    if let Some(next) = next {
        let value = HeaderValue::from_str(&next.to_string()).map_err(ApiError::internal)?;
        response.headers_mut().insert("x-next-cursor", value);
    }
    Ok(response)
}

/// `GET /config`: what a front end needs for Stripe.js.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrontEndConfig<'a> {
    pub publishable_key: &'a str,
}

/// The webhook's answer: `handled` says whether our records moved.
#[derive(Serialize)]
pub struct WebhookAck {
    received: bool,
    handled: bool,
}

impl From<Option<Applied>> for WebhookAck {
    fn from(applied: Option<Applied>) -> Self {
        Self { received: true, handled: applied == Some(Applied::Moved) }
    }
}
