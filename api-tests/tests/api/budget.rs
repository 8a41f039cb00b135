//! A dependency that accepts connections and never answers (a primary
//! failing over, a frozen Stripe) still gets the usual JSON error before the
//! invocation's deadline, under the runtime emulator.

use std::{
    net::TcpListener,
    time::{Duration, Instant},
};

use api_tests::{put_secret, runtime, Emulator, Event, TestApp};
use serde_json::json;

/// A server that accepts every connection and never says a word.
fn frozen_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    address
}

const TIMEOUT_SECONDS: u64 = 5;

#[test]
fn a_frozen_database_is_503_before_the_deadline() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let user = rt.block_on(app.signed_up());
    let frozen = frozen_server();
    let secret = json!({
        "mongodbUri": format!("mongodb://{frozen}/?directConnection=true"),
        "jwtSecret": app.secret.core().jwt_secret,
    });
    let secret_id = rt.block_on(put_secret(&secret));
    let timeout = TIMEOUT_SECONDS.to_string();
    let get = Emulator::start(
        "user-get",
        &[("APP_SECRET_ID", secret_id.as_str()), ("AWS_LAMBDA_FUNCTION_TIMEOUT", timeout.as_str())],
    );
    let started = Instant::now();
    let (status, body) = get.call(Event::of("user-get").token(&user.token).path_id(&user.id).json());
    assert_eq!((status, &body["statusCode"]), (503, &json!(503)), "{body}");
    assert!(started.elapsed() < Duration::from_secs(TIMEOUT_SECONDS), "took {:?}", started.elapsed());
}

#[test]
fn a_frozen_stripe_in_a_request_of_several_calls_is_answered_before_the_deadline() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let user = rt.block_on(app.signed_up());
    let stripe = format!("http://{}/", frozen_server());
    let timeout = TIMEOUT_SECONDS.to_string();
    let create = Emulator::start(
        "payment-create",
        &[
            ("MONGODB_DATABASE", app.state.settings.database.as_str()),
            ("STRIPE_API_BASE", stripe.as_str()),
            ("AWS_LAMBDA_FUNCTION_TIMEOUT", timeout.as_str()),
        ],
    );
    let started = Instant::now();
    let (status, body) = create.call(Event::of("payment-create").token(&user.token).json());
    assert!([502, 503].contains(&status), "{status} {body}");
    assert_eq!(body["statusCode"], json!(status), "{body}");
    assert!(started.elapsed() < Duration::from_secs(TIMEOUT_SECONDS), "took {:?}", started.elapsed());
    let (status, _) = create.call(Event::of("payment-create").token(&user.token).json());
    assert!([502, 503].contains(&status), "the function still answers after a timed-out request");
}
