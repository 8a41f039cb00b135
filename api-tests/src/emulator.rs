use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{service_env, services::HOW_TO_START};

/// A function's real binary running under AWS's Lambda Runtime Interface
/// Emulator (the core of `sam local invoke`), as a plain process.
pub struct Emulator {
    child: Child,
    port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Where `cargo build --bins` put the function binaries.
fn binary(function: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = std::env::var("LAMBDA_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| target.join("debug"));
    let path = dir.join(function);
    assert!(path.exists(), "{} is missing: build the functions first (`cargo build --workspace --bins`; `make test` does).", path.display());
    path
}

impl Emulator {
    /// Starts `function` with the current environment plus `env`.
    pub fn start(function: &str, env: &[(&str, &str)]) -> Self {
        let rie = service_env("LAMBDA_RIE");
        assert!(
            PathBuf::from(&rie).exists(),
            "the Runtime Interface Emulator is missing at {rie}. {HOW_TO_START}"
        );
        let (port, api_port) = (free_port(), free_port());
        let child = Command::new(rie)
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{api_port}"))
            .arg("--log-level")
            .arg("error")
            .arg(binary(function))
            .envs(env.iter().copied())
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_TIMEOUT", "30")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the Runtime Interface Emulator");
        let emulator = Self { child, port };
        emulator.wait_until_listening();
        emulator
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the emulator did not listen on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Invokes the function with an event; answers the Lambda's raw result.
    pub fn invoke(&self, event: &Value) -> Value {
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/function/invocations",
            self.port
        );
        let response = ureq::post(&url)
            .timeout(Duration::from_secs(60))
            .send_string(&event.to_string());
        let text = match response {
            Ok(response) => response.into_string(),
            Err(ureq::Error::Status(_, response)) => response.into_string(),
            Err(err) => panic!("invoking through the emulator: {err}"),
        }
        .expect("reading the emulator's answer");
        serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("the emulator answered non-JSON: {text}"))
    }

    /// Invokes with an API Gateway event and returns (status, JSON body).
    pub fn call(&self, event: &Value) -> (u16, Value) {
        let result = self.invoke(event);
        let status = result["statusCode"]
            .as_u64()
            .unwrap_or_else(|| panic!("not an HTTP result: {result}")) as u16;
        let body = result["body"]
            .as_str()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        (status, body)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
