#!/usr/bin/env python3
"""Cold start, latency and size of every function, measured (make bench).

Each release binary runs as a plain process against a minimal Lambda
Runtime API served here, with the local stand-ins behind it:

- size:  the stripped binary, and the deployment zip (`bootstrap` deflated);
- init:  process start → its first `GET /runtime/invocation/next` (median of
         COLD_RUNS fresh processes): the work done before it can serve;
- first: the first invocation of a fresh process, including the MongoDB
         connection and any Stripe call (median of the same runs);
- warm:  WARM_REQUESTS invocations of one process, p50 and p99.

Events are the files in events/, with a real token, ids and signature filled
in. Timings are wall-clock on this machine: compare them with each other and
with later runs here, not with Lambda's own figures.
"""

import io
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack  # noqa: E402

ROOT = stack.ROOT
RELEASE = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"
COLD_RUNS = int(os.environ.get("COLD_RUNS", "7"))
WARM_REQUESTS = int(os.environ.get("WARM_REQUESTS", "300"))
FUNCTIONS = [
    "user-register", "user-login", "user-create", "user-list", "user-get", "user-update", "user-delete",
    "payment-create", "payment-confirm", "payment-get", "payment-list", "payment-cancel", "payment-refund",
    "payment-webhook",
]


class RuntimeApi:
    """Just enough of the Lambda Runtime API to drive one function process."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.first_next: float | None = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_):
                pass

            def do_GET(self):
                if api.first_next is None:
                    api.first_next = time.perf_counter()
                event = api.events.get()
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", str(uuid.uuid4()))
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                payload = self.rfile.read(length)
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                api.results.put((time.perf_counter(), self.path, payload))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def invoke(self, event: dict) -> tuple[float, dict]:
        started = time.perf_counter()
        self.events.put(event)
        finished, path, payload = self.results.get(timeout=60)
        if not path.endswith("/response"):
            raise RuntimeError(f"invocation failed: {path} {payload[:300]!r}")
        return (finished - started) * 1000, json.loads(payload)

    def close(self):
        self.server.shutdown()


def start(function: str, env: dict) -> tuple[subprocess.Popen, RuntimeApi, float]:
    api = RuntimeApi()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(RELEASE / function)], env={**os.environ, **env, "AWS_LAMBDA_RUNTIME_API": api.address,
                                        "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                                        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
                                        "AWS_LAMBDA_LOG_GROUP_NAME": "bench", "RUST_LOG": "warn"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return proc, api, started


def measure(function: str, event: dict, env: dict) -> dict:
    inits, firsts = [], []
    for _ in range(COLD_RUNS):
        proc, api, started = start(function, env)
        first, result = api.invoke(event)
        inits.append((api.first_next - started) * 1000)
        firsts.append(first)
        proc.kill()
        proc.wait()
        api.close()
    proc, api, _ = start(function, env)
    warm = sorted(api.invoke(event)[0] for _ in range(WARM_REQUESTS))
    proc.kill()
    proc.wait()
    api.close()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(RELEASE / function, "bootstrap")
    return {
        "function": function,
        "status": result.get("statusCode"),
        "binary_kib": (RELEASE / function).stat().st_size / 1024,
        "zip_kib": len(zipped.getvalue()) / 1024,
        "init_ms": statistics.median(inits),
        "first_ms": statistics.median(firsts),
        "p50_ms": warm[len(warm) // 2],
        "p99_ms": warm[min(len(warm) - 1, int(len(warm) * 0.99))],
    }


def event(function: str, token: str | None = None, path_id: str | None = None, body: dict | None = None,
          raw_body: str | None = None, headers: dict | None = None) -> dict:
    ev = json.loads((ROOT / "events" / f"{function}.json").read_text())
    if token:
        ev["headers"]["authorization"] = f"Bearer {token}"
    if path_id:
        route = ev["routeKey"].split(" ", 1)[1].replace("{id}", path_id)
        ev["pathParameters"] = {"id": path_id}
        ev["rawPath"] = ev["requestContext"]["http"]["path"] = route
    if body is not None:
        ev["body"] = json.dumps(body)
    if raw_body is not None:
        ev["body"] = raw_body
    ev["headers"].update(headers or {})
    return ev


def once(function: str, ev: dict, env: dict) -> dict:
    proc, api, _ = start(function, env)
    try:
        return json.loads(api.invoke(ev)[1]["body"])
    finally:
        proc.kill()
        proc.wait()
        api.close()


def stripe_signature(payload: str, secret: str) -> str:
    import hashlib
    import hmac
    now = int(time.time())
    mac = hmac.new(secret.encode(), f"{now}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={now},v1={mac}"


def main() -> int:
    if stack.cargo(["build", "--release", "--workspace", "--bins"], {}) != 0:
        return 1
    with stack.Processes() as procs:
        services = stack.start_services(procs, persistent=False)
        env = {**services.env, "MONGODB_DATABASE": "bench"}
        stack.cargo(["run", "--quiet", "--release", "-p", "payments-admin", "--", "migrate"], env)
        once("user-register", event("user-register"), env)
        token = once("user-login", event("user-login"), env)["access_token"]
        stack.cargo(["run", "--quiet", "--release", "-p", "payments-admin", "--", "promote", "aturing@example.com"], env)
        me = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))["sub"]
        payment = once("payment-create", event("payment-create", token), env)
        confirm = {"cuid": "cjld2cjxh0000qzrmn831i7rn", "paymentId": payment["id"], "paymentMethodId": "pm_card_visa"}
        unpaid = once("payment-create", event("payment-create", token, body={"cuid": "cbench0cancel0000000001"}), env)
        hook = json.loads(event("payment-webhook")["body"])
        hook["data"]["object"]["id"] = payment["id"]
        hook_body = json.dumps(hook)
        # Built when measured: a webhook signature is good for 5 minutes.
        events = {
            "user-register": lambda: event("user-register"),
            "user-login": lambda: event("user-login"),
            "user-create": lambda: event("user-create", token),
            "user-list": lambda: event("user-list", token),
            "user-get": lambda: event("user-get", token, me),
            "user-update": lambda: event("user-update", token, me),
            "user-delete": lambda: event("user-delete", token, "5f9f1c9b9c9c9c9c9c9c9c9c"),
            "payment-create": lambda: event("payment-create", token),
            "payment-confirm": lambda: event("payment-confirm", token, body=confirm),
            "payment-get": lambda: event("payment-get", token, payment["id"]),
            "payment-list": lambda: event("payment-list", token),
            # The first cancels (201), the rest find it canceled (409).
            "payment-cancel": lambda: event("payment-cancel", token, unpaid["id"]),
            # The first refunds 500 (201), the rest answer the same refund.
            "payment-refund": lambda: event("payment-refund", token, payment["id"]),
            "payment-webhook": lambda: event("payment-webhook", raw_body=hook_body, headers={
                "stripe-signature": stripe_signature(hook_body, services.secret["stripeWebhookSecret"])}),
        }
        rows = [measure(function, events[function](), env) for function in FUNCTIONS]
    print(f"\n{COLD_RUNS} cold starts and {WARM_REQUESTS} warm requests per function; "
          f"{os.cpu_count()} CPUs, {os.uname().machine}, release profile\n")
    print("| function | status | binary KiB | zip KiB | init ms | first request ms | warm p50 ms | warm p99 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['function']} | {r['status']} | {r['binary_kib']:.0f} | {r['zip_kib']:.0f} | {r['init_ms']:.1f} "
              f"| {r['first_ms']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
