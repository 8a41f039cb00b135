//! Direct calls to the Stripe emulator, for what a test must see or do at
//! Stripe itself (count intents, make a 3-D Secure card, complete 3DS).

use serde_json::Value;

use crate::service_env;

fn url(path: &str) -> String {
    format!("{}/v1/{path}", service_env("STRIPE_API_BASE").trim_end_matches('/'))
}

fn call(request: ureq::Request, form: &[(&str, &str)]) -> Value {
    let request = request.set("Authorization", "Bearer sk_test_local");
    let response = if form.is_empty() { request.call() } else { request.send_form(form) };
    match response {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response.into_json().expect("Stripe answers JSON"),
        Err(err) => panic!("the Stripe emulator is unreachable: {err}"),
    }
}

/// Every PaymentIntent at Stripe whose metadata names this user.
pub fn intents_of(user_id: &str) -> Vec<Value> {
    let all = call(ureq::get(&url("payment_intents?limit=100")), &[]);
    all["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|pi| pi["metadata"]["userId"] == user_id)
        .collect()
}

/// Every customer at Stripe whose metadata names this user.
pub fn customers_of(user_id: &str) -> Vec<Value> {
    let all = call(ureq::get(&url("customers?limit=100")), &[]);
    all["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["metadata"]["userId"] == user_id)
        .collect()
}

/// A card that asks for 3-D Secure authentication.
pub fn three_d_secure_card() -> String {
    let form = [
        ("type", "card"),
        ("card[number]", "4000002500003155"),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2034"),
        ("card[cvc]", "123"),
    ];
    let method = call(ureq::post(&url("payment_methods")), &form);
    method["id"].as_str().expect("a payment method id").to_owned()
}

/// What the customer's bank does when they pass 3-D Secure.
pub fn authenticate(intent: &str, client_secret: &str) {
    let form = [("client_secret", client_secret), ("success", "true")];
    let answer = call(ureq::post(&url(&format!("payment_intents/{intent}/_authenticate"))), &form);
    assert_eq!(answer["status"], "succeeded", "{answer}");
}
