use std::collections::HashMap;

use mongodb::bson::{oid::ObjectId, DateTime};

use super::{Payment, PaymentCreatedDto, PaymentDto, Payments};
use crate::{
    domain::{Cuid, PaymentIntentId, PaymentMethodId},
    http::ApiError,
    state::PaymentsState,
    stripe::Intent,
    users::User,
};

/// Statuses where confirming again would be wrong: the payment is done, in
/// flight, or waiting for the customer, so we only report it.
const NOTHING_TO_CONFIRM: [&str; 5] = ["succeeded", "processing", "canceled", "requires_capture", "requires_action"];

/// POST /payment: the same (user, cuid) always yields the same PaymentIntent,
/// whether asked twice at once or a day apart.
pub async fn create(state: &PaymentsState, user: &User, cuid: &Cuid) -> Result<PaymentCreatedDto, ApiError> {
    let payments = Payments::new(&state.app.db);
    if let Some(existing) = payments.by_cuid(user.id(), cuid.as_str()).await? {
        let intent = refresh_intent(state, &existing.intent_id).await?;
        return Ok(created(&intent));
    }
    let customer = customer_of(state, user).await?;
    let metadata =
        HashMap::from([("userId".to_owned(), user.id().to_string()), ("cuid".to_owned(), cuid.as_str().to_owned())]);
    // Scoped to the user: two users may pick the same cuid.
    let key = format!("payment-{}-{}", user.id(), cuid.as_str());
    let product = &state.product;
    let intent = state.stripe.create_intent(&key, &customer, product.amount, &product.currency, metadata).await?;
    // Written only once Stripe has answered, so a failed attempt leaves
    // nothing behind to block a retry with the same cuid.
    let payment = Payment {
        object_id: ObjectId::new(),
        user_id: user.id().to_string(),
        cuid: cuid.as_str().to_owned(),
        intent_id: intent.id.clone(),
        amount: intent.amount,
        currency: intent.currency.clone(),
        status: intent.status.clone(),
        payment_method: intent.payment_method.clone(),
        created_at: DateTime::now(),
        status_event_at: 0,
        last_event_id: String::new(),
    };
    payments.insert(&payment).await?;
    Ok(created(&intent))
}

/// POST /payment/confirm, for the owner of the payment only.
pub async fn confirm(
    state: &PaymentsState,
    user: &User,
    cuid: &Cuid,
    intent: &PaymentIntentId,
    method: &PaymentMethodId,
) -> Result<PaymentDto, ApiError> {
    let payment = owned(state, user, intent).await?;
    if payment.cuid != cuid.as_str() {
        return Err(ApiError::field("cuid", "does not match this payment"));
    }
    if NOTHING_TO_CONFIRM.contains(&payment.status.as_str()) {
        return Ok(PaymentDto::from(&refresh_intent(state, &payment.intent_id).await?));
    }
    let key = format!("confirm-{}-{}", payment.intent_id, method.as_str());
    match state.stripe.confirm(&payment.intent_id, method.as_str(), &key).await {
        Ok(confirmed) => {
            Payments::new(&state.app.db).record(&confirmed).await?;
            Ok(PaymentDto::from(&confirmed))
        }
        Err(declined @ ApiError::PaymentRequired(_)) => {
            // Keep the record at whatever status Stripe now reports.
            refresh_intent(state, &payment.intent_id).await?;
            Err(declined)
        }
        Err(other) => Err(other),
    }
}

/// GET /payment/{id}: the caller's payment as Stripe sees it now.
pub async fn refresh(state: &PaymentsState, user: &User, intent: &PaymentIntentId) -> Result<PaymentDto, ApiError> {
    let payment = owned(state, user, intent).await?;
    Ok(PaymentDto::from(&refresh_intent(state, &payment.intent_id).await?))
}

/// Another user's payment answers exactly like a missing one, so ids
/// cannot be probed.
async fn owned(state: &PaymentsState, user: &User, intent: &PaymentIntentId) -> Result<Payment, ApiError> {
    Payments::new(&state.app.db)
        .owned(user.id(), intent.as_str())
        .await?
        .ok_or(ApiError::NotFound("Payment not found."))
}

async fn refresh_intent(state: &PaymentsState, intent: &str) -> Result<Intent, ApiError> {
    let intent = state.stripe.retrieve(intent).await?;
    Payments::new(&state.app.db).record(&intent).await?;
    Ok(intent)
}

fn created(intent: &Intent) -> PaymentCreatedDto {
    PaymentCreatedDto { payment: PaymentDto::from(intent), client_secret: intent.client_secret.clone() }
}

/// The user's Stripe customer, created at their first payment. Concurrent
/// first payments share one customer (idempotency key per user) and the
/// conditional update keeps whichever id was saved first.
async fn customer_of(state: &PaymentsState, user: &User) -> Result<String, ApiError> {
    if let Some(customer) = &user.customer_id {
        return Ok(customer.clone());
    }
    let created = state.stripe.create_customer(user.id(), &user.email, &user.user_name).await?;
    let users = state.app.users();
    if users.attach_customer(user.id(), &created).await? {
        return Ok(created);
    }
    let saved = users.get(user.id()).await?.and_then(|u| u.customer_id);
    Ok(saved.unwrap_or(created))
}
