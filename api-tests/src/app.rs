use std::{future::Future, time::Duration};

use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::{
    config::{PaymentSettings, Settings},
    domain::{Currency, Price, UserId},
    http::ApiError,
    lambda::answer,
    secrets::AppSecret,
    store, users, CoreState, StripeState,
};

use crate::{service_env, services::HOW_TO_START, unique, Event};

/// One test's view of the API: its own database on the shared local
/// services, and the handlers called exactly as the Lambda runtime calls them.
#[derive(Clone, Copy)]
pub struct TestApp {
    pub state: &'static CoreState,
    pub payments: &'static StripeState,
    pub secret: &'static AppSecret,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: http::HeaderMap,
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::with_login_backoff(Duration::from_secs(30)).await
    }

    /// An app whose first login lock lasts `backoff` (`LOGIN_BACKOFF_SECONDS`).
    pub async fn with_login_backoff(backoff: Duration) -> Self {
        // Function logs go to the test's captured output.
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn").try_init();
        let secret_id = service_env("APP_SECRET_ID");
        service_env("AWS_ENDPOINT_URL_SECRETS_MANAGER");
        let secret = AppSecret::fetch(&secret_id)
            .await
            .unwrap_or_else(|err| panic!("Secrets Manager (moto) is not reachable: {err}. {HOW_TO_START}"));
        let settings = Settings {
            secret_id,
            database: unique("test_"),
            jwt_ttl: Duration::from_secs(7200),
            login_backoff: backoff,
        };
        Self::with(settings, secret).await
    }

    pub async fn with(settings: Settings, secret: AppSecret) -> Self {
        let app = Self::build(settings, secret).await;
        store::migrate(&app.state.db)
            .await
            .unwrap_or_else(|err| panic!("MongoDB (nx-27017) is not reachable: {err}. {HOW_TO_START}"));
        app
    }

    async fn build(settings: Settings, secret: AppSecret) -> Self {
        Self::build_with_stripe(settings, secret, &service_env("STRIPE_API_BASE")).await
    }

    /// This app's database and secret, with Stripe at an address nothing
    /// listens on.
    pub async fn with_stripe_down(&self) -> Self {
        let closed_port = crate::free_port();
        let secret = AppSecret::fetch(&self.state.settings.secret_id).await.expect("the secret");
        Self::build_with_stripe(self.state.settings.clone(), secret, &format!("http://127.0.0.1:{closed_port}/")).await
    }

    async fn build_with_stripe(settings: Settings, secret: AppSecret, stripe_api_base: &str) -> Self {
        let product = PaymentSettings {
            stripe_api_base: format!("{}/", stripe_api_base.trim_end_matches('/')),
            price: Price { amount: 2000, currency: Currency::parse("usd").expect("a currency") },
        };
        let payments = StripeState::build(settings, product, &secret).await.expect("the test secret is valid");
        let payments: &'static StripeState = Box::leak(Box::new(payments));
        Self { state: &payments.core, payments, secret: Box::leak(Box::new(secret)) }
    }

    /// An app whose MongoDB URI points at a port nothing listens on.
    pub async fn with_database_down() -> Self {
        let closed_port = crate::free_port();
        let text = json!({
            "mongodbUri": format!("mongodb://127.0.0.1:{closed_port}/?directConnection=true"),
            "jwtSecret": "a-test-signing-secret-of-32-chars!",
            "stripeSecretKey": "sk_test_local",
            "stripeWebhookSecret": "whsec_local",
            "stripePublishableKey": "pk_test_local",
        });
        let secret = AppSecret::parse("unused", &text.to_string()).expect("a valid secret");
        let settings = Settings {
            secret_id: "unused".into(),
            database: unique("down_"),
            jwt_ttl: Duration::from_secs(60),
            login_backoff: Duration::from_secs(30),
        };
        Self::build(settings, secret).await
    }

    /// `function`'s real binary under the Runtime Interface Emulator, on
    /// this app's database.
    pub fn emulator(&self, function: &str) -> crate::Emulator {
        crate::Emulator::start(function, &[("MONGODB_DATABASE", self.state.settings.database.as_str())])
    }

    /// Runs a handler on an event, through the same path as the runtime.
    pub async fn send<F, Fut>(&self, handler: F, event: Event) -> TestResponse
    where
        F: Fn(&'static CoreState, Request) -> Fut,
        Fut: Future<Output = Result<Response<Body>, ApiError>>,
    {
        TestResponse::from(answer(self.state, event.into_request(), handler).await)
    }

    /// The same for a payment function.
    pub async fn send_payment<F, Fut>(&self, handler: F, event: Event) -> TestResponse
    where
        F: Fn(&'static StripeState, Request) -> Fut,
        Fut: Future<Output = Result<Response<Body>, ApiError>>,
    {
        TestResponse::from(answer(self.payments, event.into_request(), handler).await)
    }

    pub async fn create_payment(&self, token: &str, cuid: &str) -> TestResponse {
        let event = Event::of("payment-create").token(token).body(json!({ "cuid": cuid }));
        self.send_payment(payment_create::handle, event).await
    }

    pub async fn confirm_payment(&self, token: &str, cuid: &str, payment: &str, method: &str) -> TestResponse {
        let body = json!({ "cuid": cuid, "paymentId": payment, "paymentMethodId": method });
        self.send_payment(payment_confirm::handle, Event::of("payment-confirm").token(token).body(body)).await
    }

    pub async fn list_payments(&self, token: &str, query: &[(&str, &str)]) -> TestResponse {
        self.send_payment(payment_list::handle, Event::of("payment-list").token(token).query(query)).await
    }

    pub async fn get_payment(&self, token: &str, id: &str) -> TestResponse {
        self.send_payment(payment_get::handle, Event::of("payment-get").token(token).path_id(id)).await
    }

    pub async fn cancel_payment(&self, token: &str, id: &str) -> TestResponse {
        self.send_payment(payment_cancel::handle, Event::of("payment-cancel").token(token).path_id(id)).await
    }

    pub async fn refund_payment(&self, token: &str, id: &str, body: Value) -> TestResponse {
        let event = Event::of("payment-refund").token(token).path_id(id).body(body);
        self.send_payment(payment_refund::handle, event).await
    }

    pub async fn webhook(&self, payload: &str, signature: &str) -> TestResponse {
        let event = Event::of("payment-webhook").raw_body(payload).header("stripe-signature", signature);
        self.send_payment(payment_webhook::handle, event).await
    }

    pub async fn register(&self, body: Value) -> TestResponse {
        self.send(user_register::handle, Event::of("user-register").body(body)).await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        let body = json!({ "email": email, "password": password });
        self.send(user_login::handle, Event::of("user-login").body(body)).await
    }

    /// A login from the client address `ip`.
    pub async fn login_from(&self, ip: &str, email: &str, password: &str) -> TestResponse {
        let body = json!({ "email": email, "password": password });
        self.send(user_login::handle, Event::of("user-login").body(body).source_ip(ip)).await
    }

    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> TestResponse {
        let body = json!({ "currentPassword": current, "newPassword": new });
        self.send(user_password::handle, Event::of("user-password").token(token).body(body)).await
    }

    pub async fn create_user(&self, token: &str, body: Value) -> TestResponse {
        self.send(user_create::handle, Event::of("user-create").token(token).body(body)).await
    }

    pub async fn list_users(&self, token: &str) -> TestResponse {
        self.send(user_list::handle, Event::of("user-list").token(token)).await
    }

    pub async fn list_users_page(&self, token: &str, query: &[(&str, &str)]) -> TestResponse {
        self.send(user_list::handle, Event::of("user-list").token(token).query(query)).await
    }

    pub async fn get_user(&self, token: &str, id: &str) -> TestResponse {
        self.send(user_get::handle, Event::of("user-get").token(token).path_id(id)).await
    }

    pub async fn update_user(&self, token: &str, id: &str, body: Value) -> TestResponse {
        self.send_payment(user_update::handle, Event::of("user-update").token(token).path_id(id).body(body)).await
    }

    pub async fn delete_user(&self, token: &str, id: &str) -> TestResponse {
        self.send_payment(user_delete::handle, Event::of("user-delete").token(token).path_id(id)).await
    }

    /// A freshly registered user with a working token.
    pub async fn signed_up(&self) -> TestUser {
        let email = format!("{}@example.com", unique("user"));
        let password = "correct horse battery".to_owned();
        let response = self.register(json!({ "userName": "Test User", "email": email, "password": password })).await;
        assert_eq!(response.status, 201, "registering a test user: {}", response.text);
        let token = response.body["access_token"].as_str().expect("a token").to_owned();
        let id = self.state.tokens.verify(&token).expect("a valid token").to_string();
        TestUser { id, email, password, token }
    }

    /// A registered user promoted by the operator path.
    pub async fn admin(&self) -> TestUser {
        let user = self.signed_up().await;
        let id = UserId::parse(&user.id).expect("a valid user id");
        users::promote(&self.state.users, id).await.expect("promoting the user");
        user
    }
}

impl From<Response<Body>> for TestResponse {
    fn from(response: Response<Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = match response.into_body() {
            Body::Text(text) => text,
            Body::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => String::new(),
        };
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self { status, body, text, headers }
    }
}

impl TestResponse {
    /// Asserts the status, and that an error answer has the documented shape.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        if status >= 400 {
            assert_eq!(self.body["statusCode"], json!(status), "error body: {}", self.text);
            assert!(self.body["message"].is_string(), "error body lacks a message: {}", self.text);
            assert!(self.body["error"].is_string(), "error body lacks an error: {}", self.text);
        }
        self
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}
