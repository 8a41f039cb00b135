//! The real release-shaped binaries, run by AWS's Runtime Interface
//! Emulator with the `events/` files: what `sam local invoke` does, minus
//! Docker.

use std::{collections::BTreeSet, future::IntoFuture};

use api_tests::{put_secret, routes::template_routes, runtime, unique, Emulator, Event, TestApp};
use serde_json::json;

#[test]
fn register_and_login_work_through_the_real_binaries() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let email = format!("{}@example.com", unique("emu"));
    let credentials = json!({ "userName": "Alan Turing", "email": email, "password": "enigma-machine" });

    let register = app.emulator("user-register");
    let (status, body) = register.call(Event::of("user-register").body(credentials.clone()).json());
    assert_eq!(status, 201, "{body}");
    let token = body["access_token"].as_str().expect("a token");
    let user_id = app.state.tokens.verify(token).expect("a valid token");

    let (status, body) = register.call(Event::of("user-register").body(credentials).json());
    assert_eq!((status, body["statusCode"].clone()), (409, json!(409)), "{body}");

    let login = app.emulator("user-login");
    let (status, body) =
        login.call(Event::of("user-login").body(json!({ "email": email, "password": "enigma-machine" })).json());
    assert_eq!(status, 201, "{body}");
    assert_eq!(app.state.tokens.verify(body["access_token"].as_str().unwrap()).unwrap(), user_id);

    let (status, body) =
        login.call(Event::of("user-login").body(json!({ "email": email, "password": "wrong-password" })).json());
    assert_eq!((status, body["message"].clone()), (401, json!("Invalid email or password.")));

    let (status, body) = login.call(Event::of("user-login").raw_body("{\"email\":").json());
    assert_eq!((status, body["message"].clone()), (400, json!("Request body is not valid JSON.")));
    assert!(!login.output().contains("panicked"), "{}", login.output());
}

#[test]
fn the_unmodified_event_files_are_answered_by_their_functions() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let register = app.emulator("user-register");
    let (status, body) = register.call(Event::of("user-register").json());
    assert_eq!(status, 201, "{body}");
    let login = app.emulator("user-login");
    let (status, body) = login.call(Event::of("user-login").json());
    assert_eq!(status, 201, "{body}");
}

#[test]
fn a_secret_lacking_keys_answers_503_and_logs_the_missing_keys() {
    let rt = runtime();
    let secret_id = rt.block_on(put_secret(&json!({ "mongodbUri": "mongodb://127.0.0.1:1" })));
    let login = Emulator::start("user-login", &[("APP_SECRET_ID", secret_id.as_str())]);
    let (status, body) = login.call(Event::of("user-login").json());
    assert_eq!((status, &body["statusCode"]), (503, &json!(503)), "{body}");
    assert_eq!(body["message"], json!("The service is not ready, please retry."));
    let expected = format!("cold start failed: secret {secret_id} lacks jwtSecret");
    let output = login.output_once_it_contains(&expected);
    assert!(output.contains(&expected), "{output}");
    assert!(!output.contains("panicked"), "{output}");
}

#[test]
fn a_missing_secret_id_answers_503_naming_the_variable_in_the_log() {
    let login = Emulator::start("user-login", &[("APP_SECRET_ID", "")]);
    let (status, _) = login.call(Event::of("user-login").json());
    assert_eq!(status, 503);
    let expected = "cold start failed: environment variable APP_SECRET_ID is not set";
    assert!(login.output_once_it_contains(expected).contains(expected), "{}", login.output());
}

#[test]
fn a_function_whose_secret_appears_later_recovers_without_a_restart() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let secret_id = api_tests::unique("later-");
    let login = Emulator::start("user-login", &[("APP_SECRET_ID", secret_id.as_str())]);
    let (status, _) = login.call(Event::of("user-login").json());
    assert_eq!(status, 503, "no secret yet");
    let value = json!({ "mongodbUri": app.secret.core().mongodb_uri, "jwtSecret": app.secret.core().jwt_secret });
    rt.block_on(api_tests::put_secret_named(&secret_id, &value));
    let (status, body) = login.call(Event::of("user-login").json());
    assert_eq!(status, 401, "configured on the next request, and answering: {body}");
}

#[test]
fn log_lines_carry_lambdas_and_api_gateways_request_ids() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let login = app.emulator("user-login");
    let event = Event::of("user-login");
    login.call(event.json());
    let api_request_id = event.json()["requestContext"]["requestId"].as_str().unwrap().to_owned();
    let output = login.output_once_it_contains(&api_request_id);
    let line = output.lines().find(|l| l.contains("\"request\"") && l.contains(&api_request_id));
    let line = line.unwrap_or_else(|| panic!("no request line with {api_request_id}:\n{output}"));
    let line: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
    let spans = line["spans"].to_string();
    assert!(spans.contains("requestId"), "Lambda's request id: {line}");
    assert!(spans.contains(&api_request_id), "API Gateway's request id: {line}");
}

#[test]
fn create_and_confirm_work_through_the_real_binaries() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let user = rt.block_on(app.signed_up());
    let cuid = unique("c")[..25].to_owned();

    let create = app.emulator("payment-create");
    let event = Event::of("payment-create").token(&user.token).body(json!({ "cuid": cuid }));
    let (status, created) = create.call(event.json());
    assert_eq!(status, 201, "{created}");
    let (status, again) = create.call(event.json());
    assert_eq!((status, &again["id"]), (201, &created["id"]), "the same cuid gives the same intent");
    let id = created["id"].as_str().unwrap();

    let confirm = app.emulator("payment-confirm");
    let body = json!({ "cuid": cuid, "paymentId": id, "paymentMethodId": "pm_card_visa" });
    let (status, confirmed) = confirm.call(Event::of("payment-confirm").token(&user.token).body(body).json());
    assert_eq!(status, 201, "{confirmed}");
    assert_eq!(confirmed["status"], json!("succeeded"));

    let declined_cuid = unique("c")[..25].to_owned();
    let (_, second) =
        create.call(Event::of("payment-create").token(&user.token).body(json!({ "cuid": declined_cuid })).json());
    let body =
        json!({ "cuid": declined_cuid, "paymentId": second["id"], "paymentMethodId": "pm_card_chargeCustomerFail" });
    let (status, declined) = confirm.call(Event::of("payment-confirm").token(&user.token).body(body).json());
    assert_eq!((status, declined["statusCode"].clone()), (402, json!(402)), "{declined}");
}

thread_local! {
    /// The functions `invoke_once` started, for the test that must start them all.
    static INVOKED: std::cell::RefCell<BTreeSet<String>> = const { std::cell::RefCell::new(BTreeSet::new()) };
}

/// Runs `function` once under the emulator with `event`.
fn invoke_once(app: &TestApp, function: &str, event: &Event) -> (u16, serde_json::Value) {
    INVOKED.with(|invoked| invoked.borrow_mut().insert(function.to_owned()));
    app.emulator(function).call(event.json())
}

#[test]
fn every_function_behind_the_api_answers_its_event_file() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());

    let (status, body) = invoke_once(&app, "config-get", &Event::of("config-get"));
    assert_eq!((status, body["publishableKey"].is_string()), (200, true), "config-get: {body}");
    let (status, body) = invoke_once(&app, "openapi-get", &Event::of("openapi-get"));
    assert_eq!((status, body["openapi"].is_string()), (200, true), "openapi-get: {body}");
    let (status, body) = invoke_once(&app, "route-fallback", &Event::of("route-fallback"));
    assert_eq!(status, 405, "route-fallback: {body}");

    let (status, body) = invoke_once(&app, "user-register", &Event::of("user-register"));
    assert_eq!(status, 201, "user-register: {body}");
    let (status, body) = invoke_once(&app, "user-login", &Event::of("user-login"));
    assert_eq!(status, 201, "user-login: {body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let me = app.state.tokens.verify(&token).unwrap().to_string();
    let id = shared::domain::UserId::parse(&me).unwrap();
    rt.block_on(shared::users::promote(&app.state.users, id)).unwrap();

    let (status, ada) = invoke_once(&app, "user-create", &Event::of("user-create").token(&token));
    assert_eq!((status, &ada["email"]), (201, &json!("ada@example.com")), "user-create: {ada}");
    let (status, body) = invoke_once(&app, "user-list", &Event::of("user-list").token(&token));
    assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(2)), "user-list: {body}");
    let (status, body) = invoke_once(&app, "user-get", &Event::of("user-get").token(&token).path_id(&me));
    assert_eq!((status, &body["userId"]), (200, &json!(me)), "user-get: {body}");
    let (status, body) = invoke_once(&app, "user-update", &Event::of("user-update").token(&token).path_id(&me));
    assert_eq!((status, &body["userName"]), (200, &json!("Alan M. Turing")), "user-update: {body}");

    let (status, created) = invoke_once(&app, "payment-create", &Event::of("payment-create").token(&token));
    assert_eq!(status, 201, "payment-create: {created}");
    let intent = created["id"].as_str().unwrap().to_owned();
    let confirm = Event::of("payment-confirm").token(&token).body(json!({
        "cuid": "cjld2cjxh0000qzrmn831i7rn", "paymentId": intent, "paymentMethodId": "pm_card_visa"
    }));
    let (status, body) = invoke_once(&app, "payment-confirm", &confirm);
    assert_eq!((status, &body["status"]), (201, &json!("succeeded")), "payment-confirm: {body}");
    let (status, body) = invoke_once(&app, "payment-get", &Event::of("payment-get").token(&token).path_id(&intent));
    assert_eq!((status, &body["id"]), (200, &json!(intent)), "payment-get: {body}");
    let (status, body) = invoke_once(&app, "payment-list", &Event::of("payment-list").token(&token));
    assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(1)), "payment-list: {body}");
    let refund = Event::of("payment-refund").token(&token).path_id(&intent);
    let (status, body) = invoke_once(&app, "payment-refund", &refund);
    assert_eq!((status, &body["amount"]), (201, &json!(500)), "payment-refund: {body}");
    let second = rt.block_on(app.create_payment(&token, "cjld2cjxh0001qzrmn831i7rn")).body["id"].clone();
    let cancel = Event::of("payment-cancel").token(&token).path_id(second.as_str().unwrap());
    let (status, body) = invoke_once(&app, "payment-cancel", &cancel);
    assert_eq!((status, &body["status"]), (201, &json!("canceled")), "payment-cancel: {body}");

    let mut stripe_event: serde_json::Value =
        serde_json::from_str(Event::of("payment-webhook").json()["body"].as_str().unwrap()).unwrap();
    stripe_event["data"]["object"]["id"] = json!(intent);
    let payload = stripe_event.to_string();
    let signature = api_tests::stripe::WebhookEndpoint::sign(&payload, &app.payments.webhook_secret);
    let webhook = Event::of("payment-webhook").raw_body(&payload).header("stripe-signature", &signature);
    let (status, body) = invoke_once(&app, "payment-webhook", &webhook);
    assert_eq!((status, &body["received"]), (200, &json!(true)), "payment-webhook: {body}");

    let ada_id = ada["userId"].as_str().unwrap();
    let (status, body) = invoke_once(&app, "user-delete", &Event::of("user-delete").token(&token).path_id(ada_id));
    assert_eq!((status, &body["userId"]), (200, &json!(ada_id)), "user-delete: {body}");

    let (status, body) = invoke_once(&app, "user-password", &Event::of("user-password").token(&token));
    assert_eq!(status, 201, "user-password: {body}");
    let (status, _) = invoke_once(&app, "user-get", &Event::of("user-get").token(&token).path_id(&me));
    assert_eq!(status, 401, "the token from before the change is refused");

    let behind_the_api: BTreeSet<String> = template_routes().into_iter().map(|(function, _)| function).collect();
    assert_eq!(INVOKED.with(|invoked| invoked.borrow().clone()), behind_the_api);
}

#[test]
fn a_failed_login_is_counted_in_embedded_metric_format() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let login = app.emulator("user-login");
    let wrong = Event::of("user-login").body(json!({ "email": "nobody@example.com", "password": "wrong password" }));
    let (status, _) = login.call(wrong.json());
    assert_eq!(status, 401);
    let output = login.output_once_it_contains("\"LoginsFailed\":1");
    let line = output.lines().find(|l| l.contains("\"LoginsFailed\":1")).unwrap_or_else(|| panic!("{output}"));
    let metric: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
    assert_eq!(metric["_aws"]["CloudWatchMetrics"][0]["Namespace"], json!("PaymentsApi"), "{metric}");
}

/// A Secrets Manager that takes the connection and never answers, like one
/// frozen mid-request.
fn frozen_endpoint() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

#[test]
fn a_cold_start_whose_secret_read_hangs_answers_503_before_the_deadline() {
    let (_frozen, endpoint) = frozen_endpoint();
    let get = Emulator::start(
        "user-get",
        &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint.as_str()), ("AWS_LAMBDA_FUNCTION_TIMEOUT", "6")],
    );
    let started = std::time::Instant::now();
    let (status, body) = get.call(Event::of("user-get").token("any").path_id("0123456789abcdef01234567").json());
    assert_eq!((status, body["message"].as_str()), (503, Some("The service is not ready, please retry.")));
    assert!(started.elapsed() < std::time::Duration::from_secs(6), "answered after {:?}", started.elapsed());
    assert!(!get.output().contains("Task timed out"), "{}", get.output());
}

#[test]
fn hostile_query_strings_headers_and_signatures_get_json_answers_and_the_function_lives_on() {
    let config = Emulator::start("config-get", &[]);
    let mut raw_query = Event::of("config-get").json().clone();
    raw_query["rawQueryString"] = json!("x=\"<a>");
    let (status, body) = config.call(&raw_query);
    assert!(status == 200 || status == 400, "{status} {body}");
    assert!(body.is_object(), "a JSON body: {body}");

    for value in ["a\u{1}b", "\u{7f}", "x\ny"] {
        let (status, body) = config.call(Event::of("config-get").header("x-probe", value).json());
        assert_eq!(
            (status, body["message"].as_str()),
            (400, Some("Header x-probe holds a character HTTP does not allow."))
        );
    }
    let (status, body) = config.call(Event::of("config-get").header("host", "bad host<>").json());
    assert_eq!(status, 200, "{body}");
    let (status, _) = config.call(Event::of("config-get").json());
    assert_eq!(status, 200, "the same process still answers");
    assert!(!config.output().contains("panicked"), "{}", config.output());

    let webhook = Emulator::start("payment-webhook", &[]);
    for t in [i64::MIN, i64::MAX] {
        let event = Event::of("payment-webhook").header("stripe-signature", &format!("t={t},v1=00"));
        let (status, _) = webhook.call(event.json());
        assert_eq!(status, 401, "t={t}");
    }
    assert!(!webhook.output().contains("panicked"), "{}", webhook.output());
}

#[test]
fn a_failover_during_get_user_is_a_503_from_the_real_binary() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let user = rt.block_on(app.signed_up());
    let get = app.emulator("user-get");
    let event = Event::of("user-get").token(&user.token).path_id(&user.id);
    assert_eq!(get.call(event.json()).0, 200, "warm and well first");
    // NotWritablePrimary, as a replica set answers while it elects a new
    // primary: more times than the driver's own retry of a read.
    let failing = mongodb::bson::doc! { "nxFailNext": "find", "code": 10107, "times": 2 };
    rt.block_on(app.state.db.run_command(failing).into_future()).expect("the MongoDB stand-in's test hook");
    let (status, body) = get.call(event.json());
    assert_eq!((status, body["message"].as_str()), (503, Some("Database is unavailable, please retry.")));
}
