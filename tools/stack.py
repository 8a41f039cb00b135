#!/usr/bin/env python3
"""The local stand-ins for the cloud, on free loopback ports.

    stack.py test      start them in memory, build, run every test and the
                       contract's fuzzing (tools/contract.py), stop them
    stack.py services  start them and print the environment for `cargo test`
    stack.py serve     start them with persistent data and serve the API

nx-27017 stands in for MongoDB Atlas, moto for AWS Secrets Manager and
localstripe (through tools/localstripe_launcher.py) for Stripe. The functions
reach all three through their ordinary configuration: a MongoDB URI and Stripe
keys in the secret, AWS_ENDPOINT_URL_SECRETS_MANAGER, STRIPE_API_BASE.
"""

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import contract  # noqa: E402  (tools/ is on the path from here on)
import readme_session  # noqa: E402
BIN = ROOT / ".venv" / "bin"
LOCAL = ROOT / ".local"
SECRET_ID = "payments-api/local"
# The Runtime Interface Emulator for this machine's architecture (the wheel ships both).
RIE_ARCH = {"aarch64": "arm64", "arm64": "arm64"}.get(os.uname().machine, "x86_64")
RIE = next((ROOT / ".venv" / "lib").glob(f"python3*/site-packages/samcli/local/rapid/aws-lambda-rie-{RIE_ARCH}"), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, alive=lambda: True) -> bool:
    """True once something listens on 127.0.0.1:port; False on timeout or once `alive()` is false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


class Processes:
    """The processes a run starts, each in its own session; leaving the
    `with` block stops every one of them, however it is left."""

    def __init__(self):
        self.running: list[subprocess.Popen] = []

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *_) -> None:
        for proc in reversed(self.running):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.running:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def spawn(self, args: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, start_new_session=True, **kwargs)
        self.running.append(proc)
        return proc

    def start(self, name: str, args: list[str], port: int, logs: Path) -> None:
        """Starts a server and waits until it listens on `port`."""
        log = logs / f"{name}.log"
        proc = self.spawn(args, stdout=log.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not wait_for_port(port, 60, alive=lambda: proc.poll() is None):
            state = f"exited with {proc.returncode}" if proc.poll() is not None else "did not listen within 60s"
            sys.exit(f"{name} {state} on 127.0.0.1:{port}; its log:\n{log.read_text()[-3000:]}")

    def all_alive(self) -> bool:
        return all(proc.poll() is None for proc in self.running)


@dataclass
class Services:
    """The environment that reaches the stand-ins, and the secret's value."""
    env: dict[str, str]
    secret: dict[str, str]


def start_services(procs: Processes, persistent: bool, run_dir: Path | None = None) -> Services:
    """Starts every stand-in and returns the environment that reaches them;
    their logs go to `run_dir` (by default .local/dev, or .local/test-<pid>)."""
    run_dir = run_dir or LOCAL / ("dev" if persistent else f"test-{os.getpid()}")
    run_dir.mkdir(parents=True, exist_ok=True)
    mongo_port, moto_port = free_port(), free_port()

    data = LOCAL / "mongo" if persistent else "memory"
    if persistent:
        (LOCAL / "mongo").mkdir(parents=True, exist_ok=True)
    procs.start("nx-27017", [str(BIN / "python"), str(ROOT / "tools" / "nx27017_launcher.py"), "--host", "127.0.0.1",
                             "-p", str(mongo_port), "--data-dir", str(data),
                             "--log-file", str(run_dir / "nx-27017.server.log"),
                             "--pid-file", str(run_dir / "nx-27017.pid")], mongo_port, run_dir)
    procs.start("moto", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)], moto_port, run_dir)
    stripe_base, stripe_key, publishable_key = start_stripe(procs, run_dir)

    env = {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{moto_port}",
        "AWS_REGION": "us-east-1",
        **require_signatures(f"http://127.0.0.1:{moto_port}"),
        "APP_SECRET_ID": SECRET_ID,
        "MONGODB_DATABASE": "payments",
        "STRIPE_API_BASE": stripe_base,
        "LAMBDA_RIE": str(RIE) if RIE else "",
    }
    secret = {
        "mongodbUri": f"mongodb://127.0.0.1:{mongo_port}/?directConnection=true",
        "jwtSecret": secrets.token_urlsafe(48),
        "stripeSecretKey": stripe_key,
        "stripeWebhookSecret": "whsec_" + secrets.token_hex(16),
        "stripePublishableKey": publishable_key,
    }
    create_secret(env, secret)
    return Services(env, secret)


def start_stripe(procs: Processes, run_dir: Path) -> tuple[str, str, str]:
    """The Stripe the run talks to: the account's test mode when
    STRIPE_TEST_SECRET_KEY (sk_test_...) is set, else localstripe on a free
    port. The functions and tests reach either through the same
    STRIPE_API_BASE and secret key. Returns (API base, secret key,
    publishable key)."""
    key = os.environ.get("STRIPE_TEST_SECRET_KEY", "")
    if key:
        if not key.startswith("sk_test_"):
            sys.exit("STRIPE_TEST_SECRET_KEY must be a test-mode secret key (sk_test_...)")
        print("Stripe: the account's test mode (STRIPE_TEST_SECRET_KEY); tests of the emulator's hooks will say so")
        return "https://api.stripe.com/", key, os.environ.get("STRIPE_TEST_PUBLISHABLE_KEY", "pk_test_unset")
    port = free_port()
    procs.start("localstripe", [str(BIN / "python"), str(ROOT / "tools" / "localstripe_launcher.py"),
                                "--port", str(port)], port, run_dir)
    # localstripe accepts any key; these only have Stripe's shape.
    return f"http://127.0.0.1:{port}/", "sk_test_local", "pk_test_local"


def require_signatures(moto_url: str) -> dict[str, str]:
    """Makes moto check what AWS checks: out of the box it answers any
    request, signed or not, with any key; AWS refuses an unknown access key
    (403 UnrecognizedClientException), a signature that does not match
    (SignatureDoesNotMatch) and an action the key's policy does not allow.
    This creates an IAM user allowed Secrets Manager, then switches on
    moto's own authentication, which recomputes each signature with
    botocore's SigV4. Returns the user's credentials."""
    import boto3  # installed with moto
    import urllib.request

    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="payments-local")
    iam.put_user_policy(UserName="payments-local", PolicyName="secrets", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}],
    }))
    key = iam.create_access_key(UserName="payments-local")["AccessKey"]
    # From now on every request is authenticated: no unauthenticated actions left.
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset-auth", data=b"0", method="POST",
                                                  headers={"content-type": "text/plain"})).read()
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def create_secret(env: dict[str, str], value: dict[str, str]) -> None:
    import boto3  # installed with moto

    client = boto3.client(
        "secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL_SECRETS_MANAGER"], region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_secret(Name=env["APP_SECRET_ID"], SecretString=json.dumps(value))


def cargo(args: list[str], env: dict[str, str]) -> int:
    print(f"$ cargo {' '.join(args)}", flush=True)
    return subprocess.call(["cargo", *args], cwd=ROOT, env={**os.environ, **env})


def sam(args: list[str]) -> int:
    print(f"$ sam {' '.join(args)}", flush=True)
    # Offline: a region for the linter, no telemetry, no credentials needed.
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), "SAM_CLI_TELEMETRY": "0"}
    return subprocess.call([str(BIN / "sam"), *args], cwd=ROOT, env=env)


def run_tests(procs: Processes, env: dict[str, str]) -> int:
    code = sam(["validate", "--lint"])
    # The Stripe emulator's own rules, on an emulator of their own.
    if code == 0:
        code = subprocess.call([str(BIN / "python"), str(ROOT / "tools" / "test_localstripe_rules.py")], cwd=ROOT)
    # The MongoDB stand-in's patches, on a stand-in of their own.
    if code == 0:
        code = subprocess.call([str(BIN / "python"), str(ROOT / "tools" / "test_nx27017_rules.py")], cwd=ROOT)
    # The emulator tests drive the real binaries, so build them first.
    if code == 0:
        code = cargo(["build", "--workspace", "--bins"], env)
    passed = failed = 0
    if code == 0:
        code, passed, failed = cargo_test(env)
    readme_line = "README session: not run (the tests above failed)"
    if code == 0:
        code, readme_line = readme_session.run(procs, env, gateway, free_port, make_admin)
    chaos_line = "chaos: not run (the tests above failed)"
    if code == 0:
        code, chaos_line = bounded_chaos()
    contract_line = "contract: not run (the tests above failed)"
    if code == 0:
        code, contract_line = contract.run(procs, env, gateway, free_port, make_admin)
    if code == 0 and os.environ.get("SKIP_SAM_BUILD") != "1":
        code = sam_build()
    # The closing lines for the whole run, whatever printed last.
    print(f"tests: {passed} passed, {failed} failed", flush=True)
    print(readme_line, flush=True)
    print(chaos_line, flush=True)
    print(contract_line, flush=True)
    return code


# The bounded chaos run of `make test`: fixed seeds, on the debug binaries
# just built (`make chaos` runs the release ones, 500 operations a seed).
CHAOS_SEEDS, CHAOS_OPERATIONS = "1,2,3", "150"


def bounded_chaos() -> tuple[int, str]:
    """tools/chaos.py on the fixed seeds, each on stand-ins of its own."""
    settings = {"CHAOS_SEEDS": CHAOS_SEEDS, "CHAOS_OPERATIONS": CHAOS_OPERATIONS, "CHAOS_PROFILE": "debug"}
    print(f"$ {' '.join(f'{k}={v}' for k, v in settings.items())} tools/chaos.py", flush=True)
    code = subprocess.call([str(BIN / "python"), str(ROOT / "tools" / "chaos.py")], cwd=ROOT,
                           env={**os.environ, **settings}, stdin=subprocess.DEVNULL)
    held = "every invariant held" if code == 0 else "an invariant broke (its report is above)"
    return code, f"chaos: seeds {CHAOS_SEEDS}, {CHAOS_OPERATIONS} operations each: {held}"


def cargo_test(env: dict[str, str]) -> tuple[int, int, int]:
    """`cargo test --workspace`, streamed, with its per-binary results summed."""
    args = ["test", "--workspace", "--all-targets", "--no-fail-fast"]
    print(f"$ cargo {' '.join(args)}", flush=True)
    proc = subprocess.Popen(["cargo", *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    passed = failed = 0
    for line in proc.stdout:
        print(line, end="", flush=True)
        result = re.match(r"test result: \w+\. (\d+) passed; (\d+) failed", line)
        if result:
            passed += int(result.group(1))
            failed += int(result.group(2))
    return proc.wait(), passed, failed


def sam_build() -> int:
    """What `sam build` packages: arm64 where the target installs, else x86_64.

    sam builds one function at a time, each a fat-LTO link on one core. One
    `cargo lambda build` of every binary first, with the flags sam uses, runs
    the links side by side; sam then finds each binary fresh and packages it."""
    arm = subprocess.call(["rustup", "target", "add", "aarch64-unknown-linux-gnu"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0
    architecture = "arm64" if arm else "x86_64"
    print(f"sam build for {architecture}" + ("" if arm else " (rustup could not add aarch64-unknown-linux-gnu)"), flush=True)
    os.environ["PATH"] = f"{BIN}:{os.environ['PATH']}"  # cargo-lambda and zig come from the virtualenv
    code = cargo(["lambda", "build", "--release", *(["--arm64"] if arm else []), "--bins"], {})
    return code or sam(["build", "--parameter-overrides", f"Architecture={architecture}"])


def seed_admin(env: dict[str, str]) -> tuple[str, str]:
    """Indexes plus one admin, whose password is kept in .local across runs."""
    creds_file = LOCAL / "admin.json"
    if creds_file.exists():
        creds = json.loads(creds_file.read_text())
    else:
        creds = {"email": "admin@example.com", "password": secrets.token_urlsafe(12)}
        creds_file.write_text(json.dumps(creds))
        creds_file.chmod(0o600)
    make_admin(env, creds["email"], creds["password"])
    return creds["email"], creds["password"]


def make_admin(env: dict[str, str], email: str, password: str) -> None:
    """Indexes, then `email` as an admin with `password` (payments-admin)."""
    admin = ["run", "--quiet", "-p", "payments-admin", "--"]
    if cargo([*admin, "migrate"], env) != 0:
        sys.exit("migrate failed")
    if cargo([*admin, "seed-admin", email], {**env, "ADMIN_PASSWORD": password}) != 0:
        sys.exit("seeding the admin failed")


def gateway(procs: Processes, env: dict[str, str], port: int, log=None, bin_dir: Path = ROOT / "target" / "debug",
            **options):
    """The whole API on 127.0.0.1:port: tools/gateway.py, an API Gateway that
    invokes the real binaries in `bin_dir` under the Lambda Runtime Interface
    Emulator; their output goes to `log` if given. `options` are gateway.serve's
    (`timeout`, `concurrency`)."""
    import gateway as local_gateway

    if not RIE:
        sys.exit("the Lambda Runtime Interface Emulator is missing from .venv (aws-sam-cli); run `make` again")
    return local_gateway.serve(procs, env, port, bin_dir, ROOT / "Cargo.toml", str(RIE),
                               free_port, wait_for_port, log, **options)


def serve(procs: Processes, env: dict[str, str], email: str, password: str) -> int:
    """The whole API at API_PORT, until Ctrl-C."""
    if cargo(["build", "--workspace", "--bins"], env) != 0:
        return 1
    port = int(os.environ.get("API_PORT", "9000"))
    threading.Thread(target=gateway(procs, env, port).serve_forever, daemon=True).start()
    print(f"\nThe API is at http://127.0.0.1:{port} (the contract: /openapi.json).")
    print(f"Admin: {email} / {password}")
    print("Ctrl-C stops everything.\n", flush=True)
    while procs.all_alive():
        time.sleep(1)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["test", "services", "serve"])
    mode = parser.parse_args().mode
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with Processes() as procs:
            env = start_services(procs, persistent=mode == "serve").env
            if mode == "test":
                return run_tests(procs, env)
            if mode == "serve":
                return serve(procs, env, *seed_admin(env))
            print("\nLocal services are up. In another shell:\n")
            for key, value in env.items():
                print(f"export {key}={value}")
            print("\nCtrl-C stops them.", flush=True)
            while procs.all_alive():
                time.sleep(1)
            return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
