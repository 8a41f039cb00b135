use std::{
    io::Read,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{service_env, services::HOW_TO_START};

/// A function's real binary running under AWS's Lambda Runtime Interface
/// Emulator (the core of `sam local invoke`), as a plain process.
pub struct Emulator {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
}

/// Copies a child's pipe into `sink` until it closes.
fn collect(mut pipe: impl Read + Send + 'static, sink: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut buffer) {
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
}

/// A loopback port nothing listens on (yet).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Where `cargo build --bins` put a binary of the workspace.
pub fn binary(function: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = std::env::var("LAMBDA_BIN_DIR").map(PathBuf::from).unwrap_or_else(|_| target.join("debug"));
    let path = dir.join(function);
    assert!(
        path.exists(),
        "{} is missing: build the functions first (`cargo build --workspace --bins`; `make test` does).",
        path.display()
    );
    path
}

impl Emulator {
    /// Starts `function` with the current environment plus `env` (which may
    /// override the function's timeout, `AWS_LAMBDA_FUNCTION_TIMEOUT`).
    pub fn start(function: &str, env: &[(&str, &str)]) -> Self {
        let rie = service_env("LAMBDA_RIE");
        assert!(PathBuf::from(&rie).exists(), "the Runtime Interface Emulator is missing at {rie}. {HOW_TO_START}");
        let (port, api_port) = (free_port(), free_port());
        let mut child = Command::new(rie)
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{api_port}"))
            .arg("--log-level")
            .arg("error")
            .arg(binary(function))
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_TIMEOUT", "30")
            // What the template's `LoggingConfig: {LogFormat: JSON}` sets on Lambda.
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the Runtime Interface Emulator");
        let output = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        collect(stdout, Arc::clone(&output));
        collect(stderr, Arc::clone(&output));
        let emulator = Self { child, port, output };
        emulator.wait_until_listening();
        emulator
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the emulator did not listen on port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the function and the emulator printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) for `needle` to be printed; answers all output.
    pub fn output_once_it_contains(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.output().contains(needle) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.output()
    }

    /// Invokes the function with an event; answers the Lambda's raw result.
    pub fn invoke(&self, event: &Value) -> Value {
        let url = format!("http://127.0.0.1:{}/2015-03-31/functions/function/invocations", self.port);
        let response = ureq::post(&url).timeout(Duration::from_secs(60)).send_string(&event.to_string());
        let text = match response {
            Ok(response) => response.into_string(),
            Err(ureq::Error::Status(_, response)) => response.into_string(),
            Err(err) => panic!("invoking through the emulator: {err}"),
        }
        .expect("reading the emulator's answer");
        if text.trim().is_empty() {
            // What the emulator answers when the function died before replying.
            return Value::Null;
        }
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("the emulator answered non-JSON: {text:?}"))
    }

    /// Invokes with an API Gateway event and returns (status, JSON body).
    pub fn call(&self, event: &Value) -> (u16, Value) {
        let result = self.invoke(event);
        let status = result["statusCode"].as_u64().unwrap_or_else(|| panic!("not an HTTP result: {result}")) as u16;
        let body = result["body"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
        (status, body)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
