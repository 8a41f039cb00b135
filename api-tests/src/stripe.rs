//! Direct calls to the Stripe emulator, for what a test must see or do at
//! Stripe itself (count intents, make a 3-D Secure card, complete 3DS).

use serde_json::Value;

use crate::service_env;

fn url(path: &str) -> String {
    format!("{}/v1/{path}", service_env("STRIPE_API_BASE").trim_end_matches('/'))
}

/// The secret key of the Stripe the run talks to: the account's test mode
/// (`STRIPE_TEST_SECRET_KEY`) or the emulator, which takes any key.
fn secret_key() -> String {
    std::env::var("STRIPE_TEST_SECRET_KEY").unwrap_or_else(|_| "sk_test_local".to_owned())
}

/// Fails the test with the reason when it runs against Stripe's test mode:
/// `hook` exists only in the emulator.
fn emulator_only(hook: &str) {
    if std::env::var("STRIPE_TEST_SECRET_KEY").is_ok_and(|key| !key.is_empty()) {
        panic!("this test needs the Stripe emulator's test-only {hook}, which Stripe's test mode does not have");
    }
}

fn call(request: ureq::Request, form: &[(&str, &str)]) -> Value {
    let request = request.set("Authorization", &format!("Bearer {}", secret_key()));
    let response = if form.is_empty() { request.call() } else { request.send_form(form) };
    match response {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response.into_json().expect("Stripe answers JSON"),
        Err(err) => panic!("the Stripe emulator is unreachable: {err}"),
    }
}

/// Every object of a list endpoint, page by page.
fn list_all(resource: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = after.as_ref().map(|id| format!("&starting_after={id}")).unwrap_or_default();
        let page = call(ureq::get(&url(&format!("{resource}?limit=100{query}"))), &[]);
        let data = page["data"].as_array().cloned().unwrap_or_default();
        after = data.last().and_then(|last| last["id"].as_str()).map(str::to_owned);
        all.extend(data);
        if page["has_more"] != true || after.is_none() {
            return all;
        }
    }
}

/// Every PaymentIntent at Stripe whose metadata names this user.
pub fn intents_of(user_id: &str) -> Vec<Value> {
    list_all("payment_intents").into_iter().filter(|pi| pi["metadata"]["userId"] == user_id).collect()
}

/// Every customer at Stripe whose metadata names this user.
pub fn customers_of(user_id: &str) -> Vec<Value> {
    list_all("customers").into_iter().filter(|c| c["metadata"]["userId"] == user_id).collect()
}

/// A PaymentIntent as Stripe renders it.
pub fn intent(id: &str) -> Value {
    call(ureq::get(&url(&format!("payment_intents/{id}"))), &[])
}

/// A customer as Stripe renders it now (an error body once it is gone).
pub fn customer(id: &str) -> Value {
    call(ureq::get(&url(&format!("customers/{id}"))), &[])
}

/// A customer object as Stripe renders it.
pub fn new_customer() -> Value {
    call(ureq::post(&url("customers")), &[("email", "someone@example.com")])
}

/// Stripe's test payment method that asks for 3-D Secure authentication.
pub fn three_d_secure_card() -> String {
    "pm_card_threeDSecure2Required".to_owned()
}

/// Stripe's test payment method whose charge succeeds and is then disputed.
pub fn disputed_card() -> String {
    "pm_card_createDispute".to_owned()
}

/// Stripe's test payment method whose refunds succeed, then fail.
pub fn refund_failing_card() -> String {
    "pm_card_refundFail".to_owned()
}

/// What Stripe.js does in the browser: confirm the PaymentIntent with its
/// client secret and a card. Answers Stripe's status code and body.
pub fn confirm_in_browser(intent: &str, client_secret: &str, payment_method: &str) -> (u16, Value) {
    emulator_only("publishable key (pk_test_local)");
    let form = [("key", "pk_test_local"), ("client_secret", client_secret), ("payment_method", payment_method)];
    match ureq::post(&url(&format!("payment_intents/{intent}/confirm"))).send_form(&form) {
        Ok(response) => (response.status(), response.into_json().expect("Stripe answers JSON")),
        Err(ureq::Error::Status(status, response)) => (status, response.into_json().expect("Stripe answers JSON")),
        Err(err) => panic!("the Stripe emulator is unreachable: {err}"),
    }
}

/// Every successful charge of a PaymentIntent.
pub fn successful_charges_of(intent: &str) -> Vec<Value> {
    list_all("charges").into_iter().filter(|c| c["payment_intent"] == intent && c["status"] == "succeeded").collect()
}

/// Every refund of a PaymentIntent.
pub fn refunds_of(intent: &str) -> Vec<Value> {
    list_all("refunds").into_iter().filter(|r| r["payment_intent"] == intent).collect()
}

/// A PaymentIntent made at Stripe directly, as if our record of it were lost.
pub fn intent_made_elsewhere(customer: &str, metadata: &[(&str, &str)]) -> Value {
    let keys: Vec<String> = metadata.iter().map(|(k, _)| format!("metadata[{k}]")).collect();
    let mut form = vec![("amount", "2000"), ("currency", "usd"), ("customer", customer)];
    form.extend(keys.iter().map(String::as_str).zip(metadata.iter().map(|(_, v)| *v)));
    call(ureq::post(&url("payment_intents")), &form)
}

/// Refunds part of a payment at Stripe directly, as from the dashboard.
pub fn refund_at_stripe(intent: &str, amount: i64) {
    let amount = amount.to_string();
    let refund = call(ureq::post(&url("refunds")), &[("payment_intent", intent), ("amount", &amount)]);
    assert_eq!(refund["status"], "succeeded", "{refund}");
}

/// Deletes a customer at Stripe, as someone might from the dashboard.
pub fn delete_customer(id: &str) {
    let answer = call(ureq::delete(&url(&format!("customers/{id}"))), &[]);
    assert_eq!(answer["deleted"], true, "{answer}");
}

/// Makes Stripe give the next `times` requests whose path or idempotency key
/// contains `matching` this error (the emulator's test-only hook).
pub fn answer_next(matching: &str, times: u32, status: u16, error: &[(&str, &str)]) {
    emulator_only("answers (POST /_test/answers)");
    let (times, status) = (times.to_string(), status.to_string());
    let mut form = vec![("match", matching), ("times", times.as_str()), ("status", status.as_str())];
    form.extend_from_slice(error);
    let base = service_env("STRIPE_API_BASE");
    ureq::post(&format!("{}/_test/answers", base.trim_end_matches('/')))
        .send_form(&form)
        .unwrap_or_else(|err| panic!("queueing an answer at the Stripe emulator: {err}"));
}

/// Lets Stripe's 24-hour idempotency window pass for the keys that contain
/// `matching` (the emulator's test-only clock).
pub fn expire_keys(matching: &str) {
    emulator_only("clock (POST /_test/clock)");
    let base = service_env("STRIPE_API_BASE");
    ureq::post(&format!("{}/_test/clock", base.trim_end_matches('/')))
        .send_form(&[("advance", "86401"), ("match", matching)])
        .unwrap_or_else(|err| panic!("moving the Stripe emulator's clock: {err}"));
}

/// Every charge of a PaymentIntent, whatever its outcome.
pub fn charges_of(intent: &str) -> Vec<Value> {
    list_all("charges").into_iter().filter(|c| c["payment_intent"] == intent).collect()
}

/// What the customer's bank does when they pass 3-D Secure.
pub fn authenticate(intent: &str, client_secret: &str) {
    emulator_only("3-D Secure page (POST /v1/payment_intents/{id}/_authenticate)");
    let form = [("client_secret", client_secret), ("success", "true")];
    let answer = call(ureq::post(&url(&format!("payment_intents/{intent}/_authenticate"))), &form);
    assert_eq!(answer["status"], "succeeded", "{answer}");
}

/// A delivery Stripe made to a webhook endpoint: its signature header and
/// raw body.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub signature: String,
    pub payload: String,
}

impl Delivery {
    pub fn event(&self) -> Value {
        serde_json::from_str(&self.payload).expect("webhook payloads are JSON")
    }
}

/// A webhook endpoint registered with the Stripe emulator, listening on
/// loopback; it answers 200 and hands each delivery to the test.
pub struct WebhookEndpoint {
    deliveries: std::sync::mpsc::Receiver<Delivery>,
}

impl WebhookEndpoint {
    pub fn register(secret: &str) -> Self {
        emulator_only("webhook registration (POST /_config/webhooks), as Stripe cannot reach this machine");
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().unwrap();
        let (sender, deliveries) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let (mut length, mut signature) = (0usize, String::new());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    let lower = line.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("stripe-signature:") {
                        signature = line["stripe-signature:".len()..].trim().to_owned();
                    }
                    line.clear();
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let _ =
                    reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let payload = String::from_utf8_lossy(&body).into_owned();
                if sender.send(Delivery { signature, payload }).is_err() {
                    return;
                }
            }
        });
        let id = crate::unique("we_");
        let url = format!("{}/_config/webhooks/{id}", service_env("STRIPE_API_BASE").trim_end_matches('/'));
        let endpoint = format!("http://{address}/");
        ureq::post(&url)
            .send_form(&[("url", endpoint.as_str()), ("secret", secret)])
            .unwrap_or_else(|err| panic!("registering a webhook with the Stripe emulator: {err}"));
        Self { deliveries }
    }

    /// The next delivery of `event_type` about `intent` (the intent itself,
    /// or a charge of it), waiting up to 15 s.
    pub fn next(&self, event_type: &str, intent: &str) -> Delivery {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let delivery = self
                .deliveries
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("Stripe delivered no {event_type} for {intent} within 15 s"));
            let event = delivery.event();
            let object = &event["data"]["object"];
            if event["type"] == event_type && (object["id"] == intent || object["payment_intent"] == intent) {
                return delivery;
            }
        }
    }
}

impl WebhookEndpoint {
    /// A `Stripe-Signature` header for `payload`, signed now with `secret`
    /// as Stripe signs: HMAC-SHA256 of `{timestamp}.{payload}`, in hex.
    pub fn sign(payload: &str, secret: &str) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
        let mac = ring::hmac::sign(&key, format!("{now}.{payload}").as_bytes());
        let hex: String = mac.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("t={now},v1={hex}")
    }
}
