"""The stand-ins for the cloud, on free loopback ports: nx-27017 for MongoDB
Atlas, moto for AWS Secrets Manager and localstripe (through
localstripe_launcher) for Stripe; and the processes a run starts.

The functions reach all three through their ordinary configuration: a
MongoDB URI and Stripe keys in the secret, AWS_ENDPOINT_URL_SECRETS_MANAGER,
STRIPE_API_BASE. This module imports nothing of tools/ (layer 1, see
tools/__init__.py): the gateway and the entry points (tools.stack,
tools.chaos, tools.bench, ...) build on it. The launchers run as modules
(`python -m tools.standins.<launcher>`) from the repository's root.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # tools/standins/services.py -> the repository
BIN = ROOT / ".venv" / "bin"
# Where runs keep their data and logs; a test of the stack itself moves it.
LOCAL = Path(os.environ.get("PAYMENTS_LOCAL_DIR", ROOT / ".local"))
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


def start_launcher(module: str, args: list[str], port: int, log) -> subprocess.Popen:
    """A stand-in's launcher alone, as a module from the repository's root,
    once it listens on `port` (the stand-ins' own tests start theirs so)."""
    python = BIN / "python"
    proc = subprocess.Popen([str(python) if python.exists() else sys.executable, "-m", module, *args],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT)
    if wait_for_port(port, 30, alive=lambda: proc.poll() is None):
        return proc
    if proc.poll() is not None:
        raise RuntimeError(f"the launcher exited with {proc.returncode}")
    proc.kill()
    raise RuntimeError("the launcher did not listen within 30 s")


# Every signal that ends a run and can be caught (SIGKILL and SIGSTOP cannot:
# what a killed run leaves is stopped by the next one, see Processes).
STOP_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2,
                signal.SIGALRM)
# How long the processes get to stop on SIGTERM before SIGKILL.
GRACE = 5.0
PIDS = LOCAL / "pids"


class Stopped(BaseException):
    """A stop signal arrived: leave the run, stopping what it started."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.code = 128 + signum


def stop_on_signals() -> None:
    """Turns every catchable stop signal into `Stopped` in the main thread,
    so that `with Processes()` blocks are left through their cleanup."""
    def stop(signum, _frame):
        raise Stopped(signum)
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of a process, or None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[3])


def is_running(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def descendants(pids: list[int]) -> list[int]:
    """Every process below `pids` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _stat(int(entry.name))
        if stat is not None:
            children.setdefault(stat[1], []).append(int(entry.name))
    found, todo = [], list(pids)
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal(pids: list[int], signum: int) -> None:
    """Signals each process and its process group, ignoring the gone."""
    for pid in pids:
        for send in (os.killpg, os.kill):
            try:
                send(pid, signum)
            except (ProcessLookupError, PermissionError):
                pass


def stop_all(pids: list[int], grace: float = GRACE) -> None:
    """SIGTERM to every process and everything below it (a function's
    binary runs in a process group of its own under the emulator), then
    SIGKILL to whatever still runs after `grace` seconds."""
    everything = [*pids, *descendants(pids)]
    _signal(everything, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(is_running(pid) for pid in everything):
        time.sleep(0.05)
    _signal([*everything, *descendants(everything)], signal.SIGKILL)


class Processes:
    """The processes a run starts, each in its own session; leaving the
    `with` block stops every one of them and everything they started,
    however it is left: a second signal during the cleanup is ignored rather
    than cutting it short. A run killed outright (SIGKILL) cannot clean up:
    its process ids stay in .local/pids/<pid>, and the next run stops them."""

    def __init__(self):
        self.running: list[subprocess.Popen] = []
        # The servers `start` started: the run is over when one of them ends
        # (a function's container may die and be replaced).
        self.servers: list[subprocess.Popen] = []
        self.closed, self.lock = False, threading.Lock()
        PIDS.mkdir(parents=True, exist_ok=True)
        self.record = PIDS / str(os.getpid())
        stop_leftovers()

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *_) -> None:
        # No process starts once stopping began (a request the gateway is
        # still serving would start a container nobody stops).
        with self.lock:
            self.closed = True
        main = threading.current_thread() is threading.main_thread()
        ignored = {signum: signal.signal(signum, signal.SIG_IGN) for signum in STOP_SIGNALS} if main else {}
        try:
            stop_all([proc.pid for proc in self.running])
            for proc in self.running:
                proc.poll()  # reap
            self.record.unlink(missing_ok=True)
        finally:
            for signum, handler in ignored.items():
                signal.signal(signum, handler)

    def spawn(self, args: list[str], **kwargs) -> subprocess.Popen:
        with self.lock:
            if self.closed:
                raise RuntimeError("the run is stopping: no new process")
            proc = subprocess.Popen(args, start_new_session=True, **kwargs)
            self.running.append(proc)
            self.record.write_text("\n".join(f"{p.pid} {_started(p.pid)}" for p in self.running if p.poll() is None))
        return proc

    def start(self, name: str, args: list[str], port: int, logs: Path) -> None:
        """Starts a server and waits until it listens on `port`."""
        log = logs / f"{name}.log"
        # From the repository's root, where `python -m tools.standins.<launcher>` finds the package.
        proc = self.spawn(args, stdout=log.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT)
        self.servers.append(proc)
        if not wait_for_port(port, 60, alive=lambda: proc.poll() is None):
            state = f"exited with {proc.returncode}" if proc.poll() is not None else "did not listen within 60s"
            sys.exit(f"{name} {state} on 127.0.0.1:{port}; its log:\n{log.read_text()[-3000:]}")

    def all_alive(self) -> bool:
        """Whether every server `start` started still runs."""
        return all(proc.poll() is None for proc in self.servers)


def _started(pid: int) -> str:
    """When a process started (clock ticks since boot): with its pid, names
    it even once the pid is reused."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def stop_leftovers() -> None:
    """Stops what runs killed outright left behind: the processes in
    .local/pids/<pid> of a run that no longer runs, each still the process
    that was recorded (same pid, same start time)."""
    for record in PIDS.glob("[0-9]*"):
        if is_running(int(record.name)):
            continue
        ours = []
        for line in record.read_text().splitlines():
            pid, _, started = line.partition(" ")
            if pid.isdigit() and started != "?" and _started(int(pid)) == started:
                ours.append(int(pid))
        stop_all(ours, grace=1.0)
        record.unlink(missing_ok=True)


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
    procs.start("nx-27017", [str(BIN / "python"), "-m", "tools.standins.nx27017_launcher", "--host", "127.0.0.1",
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
    procs.start("localstripe", [str(BIN / "python"), "-m", "tools.standins.localstripe_launcher",
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


def make_admin(env: dict[str, str], email: str, password: str) -> None:
    """Indexes, then `email` as an admin with `password` (payments-admin)."""
    admin = ["run", "--quiet", "-p", "payments-admin", "--"]
    if cargo([*admin, "migrate"], env) != 0:
        sys.exit("migrate failed")
    if cargo([*admin, "seed-admin", email], {**env, "ADMIN_PASSWORD": password}) != 0:
        sys.exit("seeding the admin failed")
