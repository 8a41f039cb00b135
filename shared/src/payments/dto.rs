use serde::Serialize;

use super::Payment;
use crate::stripe::Intent;

/// `ReturnPaymentDto`. `paymentMethod` is null until one is attached.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDto {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub payment_method: Option<String>,
}

/// `PaymentCreatedDto`: the payment plus what the client needs to finish it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCreatedDto {
    #[serde(flatten)]
    pub payment: PaymentDto,
    pub client_secret: Option<String>,
}

impl From<Payment> for PaymentDto {
    fn from(payment: Payment) -> Self {
        Self {
            id: payment.intent_id,
            amount: payment.amount,
            currency: payment.currency,
            status: payment.status,
            payment_method: payment.payment_method,
        }
    }
}

impl From<&Intent> for PaymentDto {
    fn from(intent: &Intent) -> Self {
        Self {
            id: intent.id.clone(),
            amount: intent.amount,
            currency: intent.currency.clone(),
            status: intent.status.clone(),
            payment_method: intent.payment_method.clone(),
        }
    }
}
