use super::{Ledger, PaymentsError};
use crate::domain::{CustomerId, User};

/// The user's Stripe customer, created at their first payment. Concurrent
/// first payments share one customer (idempotency key per user) and the
/// conditional update keeps whichever id was saved first.
pub(super) async fn of(ledger: Ledger<'_>, user: &User) -> Result<CustomerId, PaymentsError> {
    if let Some(customer) = &user.customer_id {
        return Ok(customer.clone());
    }
    let created = ledger.stripe.create_customer(user.id, &user.email, &user.user_name, None).await?;
    if ledger.users.attach_customer(user.id, &created).await? {
        return Ok(created);
    }
    let saved = ledger.users.get(user.id).await?.and_then(|u| u.customer_id);
    Ok(saved.unwrap_or(created))
}

/// The customer was deleted at Stripe (from the dashboard, say): create a new
/// one, once, and save it in the old one's place.
pub(super) async fn replace(
    ledger: Ledger<'_>,
    user: &User,
    deleted: &CustomerId,
) -> Result<CustomerId, PaymentsError> {
    tracing::warn!(user = %user.id, customer = %deleted, "Stripe customer is gone; creating a new one");
    let created = ledger.stripe.create_customer(user.id, &user.email, &user.user_name, Some(deleted)).await?;
    if ledger.users.replace_customer(user.id, deleted, &created).await? {
        return Ok(created);
    }
    let saved = ledger.users.get(user.id).await?.and_then(|u| u.customer_id);
    Ok(saved.unwrap_or(created))
}
