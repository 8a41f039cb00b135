//! The local API (`make serve`: tools.gateway in front of the real
//! binaries under the runtime emulator) answers as the deployed one does.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use api_tests::{routes::root, service_env};

struct Gateway(Child, u16);

impl Drop for Gateway {
    /// SIGTERM, so the gateway stops the function processes it started.
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn gateway() -> Gateway {
    service_env("LAMBDA_RIE");
    let python = root().join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run `make test` (it creates .venv)", python.display());
    let port = api_tests::free_port();
    let child = Command::new(python)
        .args(["-m", "tools.gateway", "--port", &port.to_string()])
        .current_dir(root())
        .env("MONGODB_DATABASE", api_tests::unique("gateway_"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting python -m tools.gateway");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the local gateway did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Gateway(child, port)
}

fn answer(result: Result<ureq::Response, ureq::Error>) -> ureq::Response {
    match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(err) => panic!("the local gateway did not answer: {err}"),
    }
}

#[test]
fn a_body_that_is_not_utf8_gets_the_same_400_as_on_lambda() {
    let gateway = gateway();
    let url = format!("http://127.0.0.1:{}/user/register", gateway.1);
    let response =
        answer(ureq::post(&url).set("content-type", "application/json").send_bytes(&[0xff, 0xfe, b'{', 0x80]));
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.into_json().unwrap();
    assert_eq!(body["message"], "Request body is not valid JSON.", "{body}");
}

#[test]
fn an_unknown_route_is_api_gateways_404_and_preflights_get_cors_answers() {
    let gateway = gateway();
    let base = format!("http://127.0.0.1:{}", gateway.1);
    assert_eq!(answer(ureq::get(&format!("{base}/nowhere")).call()).status(), 404);
    let preflight = answer(
        ureq::request("OPTIONS", &format!("{base}/payment"))
            .set("Origin", "http://localhost:3000")
            .set("Access-Control-Request-Method", "POST")
            .call(),
    );
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("http://localhost:3000"));
    assert_eq!(preflight.header("access-control-allow-headers"), Some("authorization,content-type"));
    let config = answer(ureq::get(&format!("{base}/config")).set("Origin", "http://localhost:3000").call());
    assert_eq!(config.status(), 200);
    assert_eq!(config.header("access-control-expose-headers"), Some("x-next-cursor,retry-after"));
}

#[test]
fn a_literal_path_a_parameter_route_would_take_is_405_not_a_bad_id() {
    let gateway = gateway();
    for (method, path) in [("GET", "/user/login"), ("DELETE", "/user/register"), ("GET", "/payment/confirm")] {
        let url = format!("http://127.0.0.1:{}{path}", gateway.1);
        let response = answer(ureq::request(method, &url).set("authorization", "Bearer not-a-token").call());
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.header("allow"), Some("POST"), "{method} {path}");
    }
}
