#!/usr/bin/env python3
"""Cold start, CPU, memory, latency and size of every function, measured
against a floor (make bench).

Each release binary runs as a plain process against a minimal Lambda
Runtime API served here, with the local stand-ins behind it. The floor is
tools/bench-hello, the smallest lambda_runtime function, built in the same
profile and measured the same way in the same run:

- size:  the stripped binary, and the deployment zip (`bootstrap` deflated);
- init:  process start → its first `GET /runtime/invocation/next` (median of
         COLD_RUNS fresh processes): the work done before it can serve. Twice:
         with the secret from moto, and from a Secrets Manager endpoint served
         here that answers at once, so the stand-in's own speed is not ours;
- first: the first invocation of a fresh process, including the MongoDB
         connection and any Stripe call (median);
- warm:  WARM_REQUESTS invocations of one process, p50 and p99;
- CPU:   user + system time per warm request: the kernel's account of a
         process that served 1 + WARM_REQUESTS requests, less that of ones
         that served 1;
- RSS:   the peak resident memory of that process.

With BENCH_BEFORE=<git ref>, a few functions are also built at that ref (in
a worktree, with a target directory of its own) and their zip, cold start,
warm p50 and CPU set beside today's, in interleaved rounds. strace, where
installed, shows which certificate files a cold start reads (none: the
roots are compiled in).

Events are the files in events/, with a real token, ids and signature filled
in. Timings are wall-clock on this machine: compare them with each other, and
the ratios to the floor across machines, not with Lambda's own figures.
"""

import io
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tools.standins import services

ROOT = services.ROOT
RELEASE = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"
COLD_RUNS = int(os.environ.get("COLD_RUNS", "15"))
WARM_REQUESTS = int(os.environ.get("WARM_REQUESTS", "1000"))
# Every function behind a route (db-migrate is a deploy-time custom resource),
# or those named in BENCH_FUNCTIONS (comma-separated) while iterating on them.
FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if path.name != "db-migrate")
FUNCTIONS = [f for f in os.environ.get("BENCH_FUNCTIONS", ",".join(FUNCTIONS)).split(",") if f]
HELLO = "bench-hello"
# What main() runs to set up the events (a user, an admin, payments).
SETUP = ["user-register", "user-login", "payment-create"]
# Each of their requests is an argon2 hash (or a refusal that costs one):
# fewer warm requests, and no CPU target.
HASHING = {"user-register", "user-login", "user-create", "user-password"}
ZIP_LIMIT_KIB = 4096
# BENCH_BEFORE=<git ref> also builds these at that ref and sets them beside today's.
BEFORE = os.environ.get("BENCH_BEFORE", "")
BEFORE_ROUNDS = 3
COMPARED = ["user-get", "payment-get", "payment-confirm", "payment-refund"]


class Quiet(ThreadingHTTPServer):
    """Says nothing when a killed function drops its kept-alive connection."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class RuntimeApi:
    """Just enough of the Lambda Runtime API to drive one function process."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.first_next: float | None = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as Lambda's Runtime API: a connection per call
            # would bill both the floor and us for TCP set-ups Lambda never
            # makes. No Nagle: headers and body leave as separate writes.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

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

        self.server = Quiet(("127.0.0.1", 0), Handler)
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


def start(function: str, env: dict, release: Path = RELEASE,
          wrapper: tuple[str, ...] = ()) -> tuple[subprocess.Popen, RuntimeApi, float]:
    api = RuntimeApi()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*wrapper, str(release / function)], env={**os.environ, **env, "AWS_LAMBDA_RUNTIME_API": api.address,
                                        "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                                        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
                                        "AWS_LAMBDA_LOG_GROUP_NAME": "bench", "RUST_LOG": "warn"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return proc, api, started


def stop(proc: subprocess.Popen, api: RuntimeApi) -> tuple[float, float]:
    """Kills the process; (its user + system CPU in ms, its peak RSS in MiB).

    The peak is the kernel's high-water mark of the process itself (VmHWM),
    read before the kill: rusage's maxrss would include the Python process
    it was forked from."""
    status = Path(f"/proc/{proc.pid}/status").read_text()
    peak_kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    proc.kill()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = -9
    api.close()
    return (usage.ru_utime + usage.ru_stime) * 1000, peak_kib / 1024


def cold(function: str, event: dict, env: dict,
         release: Path = RELEASE) -> tuple[list[float], list[float], list[float], dict]:
    """COLD_RUNS fresh processes, one request each: inits, firsts, CPU, and the last answer."""
    inits, firsts, cpus = [], [], []
    for _ in range(COLD_RUNS):
        proc, api, started = start(function, env, release)
        first, result = api.invoke(event)
        inits.append((api.first_next - started) * 1000)
        firsts.append(first)
        cpus.append(stop(proc, api)[0])
    return inits, firsts, cpus, result


def warm(function: str, event: dict, env: dict, one_cpu_ms: float,
         release: Path = RELEASE) -> tuple[list[float], float, float]:
    """One process, one request, then the warm ones: their sorted latencies,
    CPU ms per warm request (less `one_cpu_ms`, a process that served one),
    and the process's peak RSS in MiB."""
    requests = WARM_REQUESTS // 10 if function in HASHING else WARM_REQUESTS
    proc, api, _ = start(function, env, release)
    api.invoke(event)
    latencies = sorted(api.invoke(event)[0] for _ in range(requests))
    cpu_ms, rss_mib = stop(proc, api)
    return latencies, max(cpu_ms - one_cpu_ms, 0) / requests, rss_mib


def measure(function: str, event: dict, env: dict, instant_env: dict) -> dict:
    inits, firsts, _, result = cold(function, event, env)
    instant_inits, _, one_cpus, _ = cold(function, event, instant_env)
    warm_ms, cpu_per_request, rss_mib = warm(function, event, instant_env, statistics.median(one_cpus))
    return {
        "function": function,
        "status": result.get("statusCode"),
        "binary_kib": (RELEASE / function).stat().st_size / 1024,
        "zip_kib": zip_kib(RELEASE / function),
        "init_ms": statistics.median(inits),
        "instant_init_ms": statistics.median(instant_inits),
        "first_ms": statistics.median(firsts),
        "p50_ms": warm_ms[len(warm_ms) // 2],
        "p99_ms": warm_ms[min(len(warm_ms) - 1, int(len(warm_ms) * 0.99))],
        "cpu_ms": cpu_per_request,
        "rss_mib": rss_mib,
    }


def zip_kib(binary: Path) -> float:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(binary, "bootstrap")
    return len(zipped.getvalue()) / 1024


def certificate_files_read(function: str, env: dict, event: dict) -> list[str] | None:
    """Every certificate file or directory the function opens or lists from
    its start to its first answer (strace); None without strace. The
    compiled-in roots should make this empty."""
    if not shutil.which("strace"):
        return None
    trace = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-strace-{function}-{os.getpid()}"
    proc, api, _ = start(function, env, wrapper=("strace", "-f", "-qq", "-e", "trace=%file,getdents64", "-o", str(trace)))
    api.invoke(event)
    proc.kill()
    proc.wait()
    api.close()
    lines = trace.read_text(errors="replace").splitlines()
    trace.unlink(missing_ok=True)
    certs = re.compile(r'"(/etc/ssl[^"]*|/etc/pki[^"]*|/usr/lib/ssl[^"]*|/usr/share/ca-certificates[^"]*|[^"]*\.(?:pem|crt))"')
    return sorted({match.group(1) for line in lines for match in [certs.search(line)] if match})


def before_and_after(ref: str, functions: list[str], events: dict, env: dict, instant_env: dict) -> list[dict]:
    """Zip size, cold start (instant secret), warm p50 and CPU per warm
    request of `functions` built from git `ref`, beside today's: the same
    machine, the same run."""
    tree = services.LOCAL / "bench-before"
    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), ref], cwd=ROOT, check=True, capture_output=True)
    target = services.LOCAL / "bench-before-target"
    binaries = [arg for name in sorted({*functions, HELLO}) for arg in ("--bin", name)]
    print(f"$ cargo build --release --workspace (at {ref})", flush=True)
    built = subprocess.call(["cargo", "build", "--release", "--workspace", *binaries], cwd=tree,
                            env={**os.environ, "CARGO_TARGET_DIR": str(target)})
    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    if built != 0:
        raise RuntimeError(f"building {ref} failed")
    rows = []
    for function in functions:
        event = events[function]()
        # Interleaved rounds, so a drift of the machine's speed falls on both.
        sides = {"before": target / "release", "after": RELEASE}
        inits, cpus, p50s = {side: [] for side in sides}, {side: [] for side in sides}, {side: [] for side in sides}
        for round_ in range(BEFORE_ROUNDS):
            # Each side goes first in turn, so an order effect falls on both.
            for side, release in sorted(sides.items(), reverse=round_ % 2 == 1):
                side_inits, _, one_cpus, _ = cold(function, event, instant_env, release)
                latencies, cpu_per_request, _ = warm(function, event, instant_env, statistics.median(one_cpus), release)
                inits[side] += side_inits
                cpus[side].append(cpu_per_request)
                p50s[side].append(latencies[len(latencies) // 2])
        row = {"function": function}
        for side, release in sides.items():
            row[f"zip_{side}"] = zip_kib(release / function)
            row[f"init_{side}"] = statistics.median(inits[side])
            row[f"cpu_{side}"] = statistics.median(cpus[side])
            row[f"p50_{side}"] = statistics.median(p50s[side])
        rows.append(row)
    return rows


class InstantSecrets:
    """A Secrets Manager endpoint that answers GetSecretValue at once."""

    def __init__(self, secret: dict):
        answer = json.dumps({"ARN": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{services.SECRET_ID}",
                             "Name": services.SECRET_ID, "SecretString": json.dumps(secret),
                             "VersionId": str(uuid.uuid4()), "VersionStages": ["AWSCURRENT"],
                             "CreatedDate": time.time()}).encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *_):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def indexed_read_ms(mongodb_uri: str, database: str, user_id: str) -> float:
    """p50 of one read by _id on the stand-in, from a client already connected."""
    import pymongo  # installed with nx-27017
    from bson import ObjectId

    users = pymongo.MongoClient(mongodb_uri)[database]["users"]
    users.find_one({"_id": ObjectId(user_id)})
    times = []
    for _ in range(WARM_REQUESTS):
        started = time.perf_counter()
        users.find_one({"_id": ObjectId(user_id)})
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]


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
        stop(proc, api)


def stripe_signature(payload: str, secret: str) -> str:
    import hashlib
    import hmac
    now = int(time.time())
    mac = hmac.new(secret.encode(), f"{now}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={now},v1={mac}"


def main() -> int:
    # Features unified over the whole workspace, as `cargo lambda build
    # --release --bins` builds what SAM deploys; only the binaries used are linked.
    binaries = [arg for name in sorted({*FUNCTIONS, *SETUP, HELLO, "payments-admin"}) for arg in ("--bin", name)]
    if services.cargo(["build", "--release", "--workspace", *binaries], {}) != 0:
        return 1
    with services.Processes() as procs:
        stand_ins = services.start_services(procs, persistent=False)
        env = {**stand_ins.env, "MONGODB_DATABASE": "bench"}
        instant_env = {**env, "AWS_ENDPOINT_URL_SECRETS_MANAGER": InstantSecrets(stand_ins.secret).url}
        services.cargo(["run", "--quiet", "--release", "-p", "payments-admin", "--", "migrate"], env)
        once("user-register", event("user-register"), env)
        token = once("user-login", event("user-login"), env)["access_token"]
        me = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))["sub"]
        services.cargo(["run", "--quiet", "--release", "-p", "payments-admin", "--", "promote", me, "--yes"], env)
        payment = once("payment-create", event("payment-create", token), env)
        confirm = {"cuid": "cjld2cjxh0000qzrmn831i7rn", "paymentId": payment["id"], "paymentMethodId": "pm_card_visa"}
        unpaid = once("payment-create", event("payment-create", token, body={"cuid": "cbench0cancel0000000001"}), env)
        hook = json.loads(event("payment-webhook")["body"])
        hook["data"]["object"]["id"] = payment["id"]
        hook_body = json.dumps(hook)
        # Its own account: the first change revokes the token, so the rest are 401s.
        changer = once("user-register", event("user-register", body={
            "userName": "Bench", "email": "changer@example.com", "password": "analytical-engine"}), env)["access_token"]
        # Built when measured: a webhook signature is good for 5 minutes.
        events = {
            "user-register": lambda: event("user-register"),
            "user-login": lambda: event("user-login"),
            "user-password": lambda: event("user-password", changer, body={
                "currentPassword": "analytical-engine", "newPassword": "analytical-engine"}),
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
                "stripe-signature": stripe_signature(hook_body, stand_ins.secret["stripeWebhookSecret"])}),
            "config-get": lambda: event("config-get"),
            "openapi-get": lambda: event("openapi-get"),
            "route-fallback": lambda: event("route-fallback"),
            HELLO: lambda: event("user-get", token, me),
        }
        hello = measure(HELLO, events[HELLO](), env, instant_env)
        rows = [measure(function, events[function](), env, instant_env) for function in FUNCTIONS]
        read_ms = indexed_read_ms(stand_ins.secret["mongodbUri"], "bench", me)
        certificates = {f: certificate_files_read(f, env, events[f]()) for f in ("user-get", "payment-get") if f in FUNCTIONS}
        compared = (before_and_after(BEFORE, [f for f in COMPARED if f in FUNCTIONS], events, env, instant_env)
                    if BEFORE else [])
    report(hello, rows, read_ms)
    report_certificates(certificates)
    report_providers()
    report_before_and_after(hello, compared)
    return 0


# Strings only aws-config's SSO and credential_process providers carry.
OPERATOR_PROVIDERS = (b"sso_start_url", b"sso_session", b"credential_process")


def operator_providers_linked(binary: Path) -> int:
    """How many of the operator CLI's credential-provider strings a binary holds."""
    data = binary.read_bytes()
    return sum(data.count(marker) for marker in OPERATOR_PROVIDERS)


def report_providers() -> None:
    print("\nThe operator CLI's credential providers (SSO, credential_process) linked in:\n")
    for name in ["payments-admin", *FUNCTIONS]:
        if (RELEASE / name).exists():
            print(f"- {name}: {'yes' if operator_providers_linked(RELEASE / name) else 'no'}")


def report_certificates(certificates: dict) -> None:
    print("\nCertificate files read from start to first answer (strace):\n")
    for function, files in certificates.items():
        print(f"- {function}: " + ("strace is not installed (apt-get install strace)" if files is None
                                  else "none" if not files else ", ".join(files)))


def report_before_and_after(hello: dict, rows: list[dict]) -> None:
    if not rows:
        return
    print(f"\nBefore ({BEFORE}) and after (the working tree), built and measured in this run, "
          f"{BEFORE_ROUNDS} interleaved rounds: init with the instant secret (median of "
          f"{BEFORE_ROUNDS}×{COLD_RUNS}; {HELLO}: {hello['instant_init_ms']:.1f} ms), warm p50 and CPU per "
          f"warm request (median of the rounds):\n")
    print("| function | zip KiB before | after | init ms before | after | after / floor "
          "| warm p50 ms before | after | CPU ms/request before | after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['function']} | {r['zip_before']:.0f} | {r['zip_after']:.0f} | {r['init_before']:.1f} "
              f"| {r['init_after']:.1f} | {r['init_after'] / hello['instant_init_ms']:.1f}× "
              f"| {r['p50_before']:.2f} | {r['p50_after']:.2f} | {r['cpu_before']:.3f} | {r['cpu_after']:.3f} |")


def report(hello: dict, rows: list[dict], read_ms: float) -> None:
    print(f"\n{COLD_RUNS} cold starts (each with moto's secret and with an instant one) and {WARM_REQUESTS} warm "
          f"requests per function ({WARM_REQUESTS // 10} for the hashing ones); "
          f"{os.cpu_count()} CPUs, {os.uname().machine}, release profile\n")
    print("| function | status | zip KiB | init ms | init ms, instant secret | first request ms | warm p50 ms "
          "| warm p99 ms | CPU ms/request | peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in [hello, *rows]:
        print(f"| {r['function']} | {r['status']} | {r['zip_kib']:.0f} | {r['init_ms']:.1f} | {r['instant_init_ms']:.1f} "
              f"| {r['first_ms']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['cpu_ms']:.3f} | {r['rss_mib']:.1f} |")
    print(f"\nRatios to {HELLO} (init with the instant secret):\n")
    print("| function | init | warm p50 | CPU/request | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    ratio = lambda r, key: r[key] / hello[key] if hello[key] else float("inf")  # noqa: E731
    for r in rows:
        print(f"| {r['function']} | {ratio(r, 'instant_init_ms'):.1f}× | {ratio(r, 'p50_ms'):.1f}× "
              f"| {ratio(r, 'cpu_ms'):.1f}× | {ratio(r, 'rss_mib'):.1f}× |")
    worst_init = max(rows, key=lambda r: r["instant_init_ms"])
    biggest = max(rows, key=lambda r: r["zip_kib"])
    targets = [
        (f"init with the instant secret ≤ 2.5× {HELLO}'s (worst: {worst_init['function']})",
         ratio(worst_init, "instant_init_ms"), 2.5, "×"),
        (f"every zip ≤ {ZIP_LIMIT_KIB} KiB (biggest: {biggest['function']})", biggest["zip_kib"], ZIP_LIMIT_KIB, " KiB"),
    ]
    get = next((r for r in rows if r["function"] == "user-get"), None)
    if get:
        targets[1:1] = [
            ("CPU per warm GET /user/{id} ≤ 1.5× the floor's", ratio(get, "cpu_ms"), 1.5, "×"),
            (f"warm GET /user/{{id}} p50 ≤ the floor's + one indexed read ({hello['p50_ms']:.2f} + {read_ms:.2f} ms)",
             get["p50_ms"], hello["p50_ms"] + read_ms, " ms"),
        ]
    print("\nTargets:\n")
    for name, value, limit, unit in targets:
        print(f"- {'met' if value <= limit else 'MISSED'}: {name}: {value:.2f}{unit} (limit {limit:.2f}{unit})")


if __name__ == "__main__":
    sys.exit(main())
