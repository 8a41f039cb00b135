#!/usr/bin/env python3
"""The chaos run (issue 19): the real function binaries under the Lambda
Runtime Interface Emulator, behind tools.gateway, against the local
stand-ins, driven by simulated clients while faults are injected at random
points; then Stripe's truth (the emulator) and the database are compared.

    CHAOS_PROFILE=debug .venv/bin/python -m tools.chaos
    CHAOS_SEED=1234 CHAOS_OPERATIONS=500 .venv/bin/python -m tools.chaos
    CHAOS_SEEDS=1,2,3 CHAOS_OPERATIONS=60 CHAOS_PROFILE=debug .venv/bin/python -m tools.chaos

Environment: CHAOS_SEED (default: random, printed), CHAOS_OPERATIONS (500),
CHAOS_SEEDS (a comma list: several runs, each on fresh stand-ins),
CHAOS_PROFILE (`release`: the binaries in target/release; `debug` for
target/debug; nothing is built here), CHAOS_FUNCTION_TIMEOUT (seconds per
invocation, 6: the functions' budget is 1.5 s less). The exit code is 1 when
any invariant broke. Each run keeps its evidence in .local/chaos-<pid>/<seed>/:
journal.jsonl (every operation, request, answer, fault and webhook delivery;
passwords redacted), functions.log (the functions' output) and the
stand-ins' logs.

What runs:

- the stand-ins (services.start_services, in memory), the indexes and an admin
  (`payments-admin migrate`, `seed-admin`), and the API through
  tools.gateway with up to 3 containers per function;
- USERS clients and the admin, running a schedule drawn from the seed:
  register, login, create (a cuid), confirm (good, declined, 3-D Secure,
  refund-failing and disputed test cards), 3-D Secure finished in the
  "browser" (the emulator's _authenticate), cancel, get, list, password
  change, and refunds by the admin (partial, full, replayed cuids). A few
  operations run at once (each client's own in order), and some requests
  are sent twice at once (the same cuid);
- every client retries after a timeout or a 5xx exactly as docs/api.md tells
  clients (the same request: same cuid, same body), at most MAX_ATTEMPTS times,
  honouring Retry-After up to RETRY_AFTER_CAP seconds; ABANDON_RATE of the
  faulted requests are abandoned instead (the client went away), and some
  3-D Secure results are only known through webhooks (the page was closed);
- the run is Stripe's webhook sender: it pulls the emulator's events
  (GET /v1/events), keeps the types the endpoint subscribes to, and delivers
  each, signed with stripeWebhookSecret, now, late, twice, out of order or
  never, as the seed decides; a delivery that fails is delivered again later,
  as Stripe retries, and WEBHOOK_KILL_RATE of them have their container
  killed mid-delivery;
- faults, on about FAULT_RATE of the operations: the function's container
  SIGKILLed mid-request (while Stripe is frozen, while Stripe's answer is
  held back by /_test/hold, while MongoDB is frozen before the Stripe call,
  once Stripe acted and while MongoDB is frozen so the write is pending, or
  after a random delay), sometimes with Stripe's idempotency keys expired
  (/_test/clock, 25 h) before the retry; MongoDB frozen (SIGSTOP) longer
  than the request budget; Stripe frozen for seconds; Stripe answering 429
  or 500 (/_test/answers);
- at the end: every late webhook delivered (the "never" ones stay lost),
  `payments-admin reconcile --since 1d`, then the invariants.

Invariants: 1. exactly one PaymentIntent per (user, cuid) a client got a 201
for (at most one for any cuid sent), and every id answered for it is that
one and the recorded one; 2. at most one succeeded charge per PaymentIntent;
3. a payment's refunds (not failed) never exceed its amount, each refund cuid
is at most one Stripe refund, exactly one when it was answered 201, and
every answer for it named that refund; 4. every stored payment's status and
amountRefunded equal Stripe's, every PaymentIntent of ours has its record,
and every refund of ours its record with Stripe's status and amount;
5. no answer was a 500 or missing, except for invocations the run killed
(their 500 is API Gateway's); 6. every (method, route, status) answered is
one the OpenAPI document lists; 7. no password, access token, client
secret, jwtSecret, stripeWebhookSecret or Stripe key appears in the
functions' log; and `reconcile` ran.

Reproducible: CHAOS_SEED=<n> replays the same schedule: the same operations
in the same order, with the same cards, amounts, cuids, races, faults and
webhook fates. Thread timing is not replayed: which request a fault lands in
the middle of, which payment an operation picks when it depends on earlier
answers, and which events one pull of the emulator returns may differ, so a
broken invariant may need its seed run a few times.
"""

import base64
import hashlib
import hmac
import json
import os
import queue
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tools import gateway as local_gateway
from tools.standins import services
from tools.standins.services import ROOT

USERS = 6
# Operations in flight at once (each client's own stay in order).
CONCURRENT = 3
# Containers per function: concurrent requests to one function run side by side, as at Lambda.
CONTAINERS = 3
FAULT_RATE = 0.16
RACE_RATE = 0.08
# Faulted requests whose client goes away instead of retrying: what is left
# behind is for the webhooks and `reconcile` to settle.
ABANDON_RATE = 0.15
MAX_ATTEMPTS = 5
RETRY_PAUSE = 0.1
RETRY_AFTER_CAP = 1.0
FUNCTION_TIMEOUT = int(os.environ.get("CHAOS_FUNCTION_TIMEOUT", "6"))
BUDGET = FUNCTION_TIMEOUT - 1.5
CLIENT_TIMEOUT = FUNCTION_TIMEOUT + 10
HOLD_SECONDS = 1.5
# Stripe's idempotency keys live 24 h; this is 25.
KEY_EXPIRY_SECONDS = 90000
FUNCTIONS = ["user-register", "user-login", "user-password", "user-get", "user-list", "payment-create",
             "payment-confirm", "payment-cancel", "payment-refund", "payment-get", "payment-list", "payment-webhook"]
# The event types the endpoint is subscribed to (docs/api.md, "The webhook").
SUBSCRIBED = {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
              "payment_intent.processing", "payment_intent.requires_action", "charge.refunded",
              "charge.dispute.created", "charge.dispute.closed", "refund.created", "refund.updated",
              "refund.failed", "charge.refund.updated"}
INJECTED = "chaos: injected"

USER_OPS = {"create": 22, "confirm": 22, "cancel": 5, "authenticate": 5, "get": 8, "list": 6, "password": 4,
            "login": 3, "get_user": 3}
ADMIN_SHARE = 0.17
ADMIN_OPS = {"refund": 85, "list_users": 15}
RACEABLE = {"register", "create", "confirm", "cancel", "refund"}
CARDS = {"pm_card_visa": 40, "pm_card_visa_chargeDeclined": 10, "pm_card_chargeDeclinedInsufficientFunds": 7,
         "pm_card_threeDSecure2Required": 15, "pm_card_refundFail": 14, "pm_card_createDispute": 4,
         "pm_card_mastercard": 10}
FAULTS = {"kill/stripe-frozen": 3, "kill/stripe-held": 3, "kill/db-write-pending": 3, "kill/db-frozen": 2,
          "kill/after-delay": 3, "mongo-frozen-long": 1, "stripe-frozen": 2, "stripe-429": 2, "stripe-500": 2}
# Operations whose main request reaches only MongoDB.
DB_ONLY = {"register", "login", "password", "list", "get_user", "list_users"}
DB_FAULTS = {"kill/db-frozen": 2, "kill/after-delay": 3, "mongo-frozen-long": 1}
FATES = {"now": 50, "late": 20, "twice": 10, "out-of-order": 10, "never": 10}
# Deliveries whose payment-webhook container is killed mid-invocation (Stripe then delivers again).
WEBHOOK_KILL_RATE = 0.06


def weighted(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def make_cuid(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "c" + "".join(rng.choice(alphabet) for _ in range(24))


# ---------------------------------------------------------------- schedule

@dataclass
class Fault:
    kind: str
    delay: float  # seconds into the invocation before the kill (or before freezing MongoDB)
    fraction: float  # or that fraction of the route's typical duration, for a kill at a random moment
    duration: float  # how long a freeze lasts
    times: int  # injected answers
    expire_keys: bool  # let Stripe's 24 h pass before the retry of a killed request
    abandon: bool  # the client goes away instead of retrying (the tab was closed)

    def describe(self) -> str:
        return self.kind + (" +key-expiry" if self.expire_keys else "") + (" +abandoned" if self.abandon else "")


@dataclass
class Op:
    index: int
    actor: int  # 0..USERS-1 a client, USERS the admin
    kind: str
    seed: str  # the operation's own random stream
    fault: Fault | None
    race: bool


def schedule(seed: int, operations: int) -> list[Op]:
    """The run's operations, from the seed alone. FAULT_RATE of them (at
    least one) carry a fault, at places the seed picks."""
    rng = random.Random(seed)
    places = range(min(USERS, operations), operations)
    faulty = set(rng.sample(places, min(len(places), max(1, round(FAULT_RATE * operations)))))
    ops = []
    for index in range(operations):
        if index < USERS:
            actor, kind = index, "register"
        elif rng.random() < ADMIN_SHARE:
            actor, kind = USERS, weighted(rng, ADMIN_OPS)
        else:
            actor, kind = rng.randrange(USERS), weighted(rng, USER_OPS)
        fault = None
        if index in faulty:
            name = weighted(rng, DB_FAULTS if kind in DB_ONLY else FAULTS)
            fault = Fault(name, delay=rng.uniform(0.02, 0.3), fraction=rng.uniform(0.0, 1.0),
                          duration=rng.uniform(1.0, 3.0),
                          times=rng.choice([1, 2, 3, 5]),
                          expire_keys=name.startswith("kill/") and kind not in DB_ONLY and rng.random() < 0.4,
                          abandon=rng.random() < ABANDON_RATE)
            fault.abandon = fault.abandon and not fault.expire_keys
        race = kind in RACEABLE and rng.random() < RACE_RATE
        ops.append(Op(index, actor, kind, f"{seed}/{index}/{rng.getrandbits(32)}", fault, race))
    return ops


# ---------------------------------------------------------------- HTTP

def http(method: str, url: str, body=None, headers: dict | None = None, timeout: float = 30):
    """(status or None when no answer came, body bytes, headers)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers or {})
    except (OSError, ValueError, urllib.error.URLError) as err:  # timeouts, resets, refused
        return None, str(err).encode(), {}


def parse(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


class Stripe:
    """The emulator, as the run reads it (and as a browser and Stripe's
    webhook sender use it)."""

    def __init__(self, base: str, key: str):
        self.base, self.key = base.rstrip("/"), key

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return http(method, self.base + path, data, headers, timeout=60)

    def read(self, path: str) -> dict:
        """A GET the run relies on: retried through injected answers and hiccups."""
        for _ in range(20):
            status, raw, _ = self.request("GET", path)
            if status == 200:
                return json.loads(raw)
            time.sleep(0.2)
        raise RuntimeError(f"the Stripe emulator keeps failing GET {path}: {status} {raw[:200]!r}")

    def all(self, resource: str) -> list[dict]:
        """Every object of a list, paged with starting_after."""
        found, after = [], None
        while True:
            page = self.read(f"/v1/{resource}?limit=100" + (f"&starting_after={after}" if after else ""))
            found += page["data"]
            if not page.get("has_more") or not page["data"]:
                return found
            after = page["data"][-1]["id"]

    def hook(self, name: str, form: dict) -> int | None:
        return self.request("POST", f"/_test/{name}", form)[0]


# ---------------------------------------------------------------- the clients' world

@dataclass
class Payment:
    cuid: str
    id: str | None = None
    secret: str | None = None
    status: str = "requires_payment_method"


@dataclass
class Account:
    name: str
    email: str
    password: str
    token: str | None = None
    user_id: str | None = None
    registered: bool = False
    passwords: list[str] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)


def subject(token: str) -> str:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]


class Run:
    """One seed's run, on its own stand-ins."""

    def __init__(self, seed: int, operations: int, profile: str):
        self.seed, self.operations, self.profile = seed, operations, profile
        self.bin_dir = ROOT / "target" / profile
        self.dir = ROOT / ".local" / f"chaos-{os.getpid()}" / str(seed)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.fault_lock = threading.Lock()
        self.journal = (self.dir / "journal.jsonl").open("w")
        self.next_id = 0
        self.killed: set[str] = set()
        self.answers: list[dict] = []
        self.faults: Counter = Counter()
        self.faults_missed: Counter = Counter()
        self.retries: Counter = Counter()
        self.races = 0
        self.abandoned = 0
        self.sent_creates: set[tuple[str, str]] = set()
        self.created: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.refunds_sent: set[tuple[str, str]] = set()
        self.refunds_answered: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.refund_asks: list[tuple[str, str, int | None]] = []
        self.tokens: set[str] = set()
        self.client_secrets: set[str] = set()
        self.queued_answers: list[str] = []
        self.durations: dict[str, list[float]] = defaultdict(list)  # recent unfaulted answers, per route
        self.routes, _ = local_gateway.routes()
        self.contract = contract_statuses()

    # ---- bookkeeping

    def log(self, entry: dict) -> None:
        with self.lock:
            self.journal.write(json.dumps({"t": round(time.time(), 3), **entry}) + "\n")

    def new_id(self) -> str:
        with self.lock:
            self.next_id += 1
            return f"{self.seed}-{self.next_id}"

    def route(self, method: str, path: str) -> tuple[str, str]:
        """(route key, function) as API Gateway picks them."""
        bare = urllib.parse.urlsplit(path).path
        for route_method, pattern, key, function in self.routes:
            if route_method == method and pattern.match(bare):
                return key, function
        return f"{method} $default", "route-fallback"

    # ---- processes

    def signal(self, which: str, sig: int) -> None:
        os.killpg(self.pids[which], sig)

    def freeze(self, which: str) -> None:
        self.signal(which, signal.SIGSTOP)

    def thaw(self, which: str) -> None:
        self.signal(which, signal.SIGCONT)

    def container_of(self, function: str, cid: str, wait: float):
        """The container invoking request `cid`, once it is; None if it is
        not within `wait` seconds (it ended, or waits for a container)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            for container in list(self.server.functions.get(function, [])):
                event = container.current
                if event and event.get("headers", {}).get("x-chaos-request") == cid:
                    return container
            time.sleep(0.001)
        return None

    def kill(self, container, cid: str) -> bool:
        """Kills the container; whichever request it was invoking is marked
        killed (its 500 is the platform's). True if that was `cid`."""
        def noted(event: dict | None) -> None:  # before the kill, so before the 500 reaches its client
            victim = (event or {}).get("headers", {}).get("x-chaos-request")
            if victim:
                with self.lock:
                    self.killed.add(victim)

        event = container.kill(noted)
        victim = (event or {}).get("headers", {}).get("x-chaos-request")
        self.log({"kill": container.name, "target": cid, "victim": victim})
        return victim == cid

    # ---- faults

    def stripe_match(self, op_kind: str, target: dict) -> tuple[str, str, str] | None:
        """(answer match, hold match, hold method) for the Stripe call the
        operation's request makes; None when it makes none."""
        pi, cuid, op_kind = target.get("intent"), target.get("cuid"), target.get("action", op_kind)
        if op_kind == "create" and target.get("user"):
            return f"payment-{target['user']}-{cuid}", "/v1/payment_intents", "POST"
        if op_kind == "confirm" and pi:
            return f"confirm-{pi}", f"/v1/payment_intents/{pi}/confirm", "POST"
        if op_kind == "cancel" and pi:
            return f"/v1/payment_intents/{pi}/cancel", f"/v1/payment_intents/{pi}/cancel", "POST"
        if op_kind == "refund" and pi:
            return f"refund-{pi}-{target.get('refund_cuid')}", "/v1/refunds", "POST"
        if op_kind in ("get", "authenticate") and pi:
            return f"/v1/payment_intents/{pi}", f"/v1/payment_intents/{pi}", "GET"
        return None

    def typical(self, route: str) -> float:
        """The route's median duration lately, in seconds."""
        with self.lock:
            recent = sorted(self.durations.get(route, []))
        return recent[len(recent) // 2] if recent else 0.05

    def fault(self, fault: Fault, op_kind: str, target: dict, cid: str, route: str, function: str,
              go: threading.Event) -> None:
        """Carries out `fault` around request `cid` (sent once `go` is set)."""
        match = self.stripe_match(op_kind, target)
        moment = fault.fraction * self.typical(route)
        kind, landed = fault.kind, True
        with self.fault_lock:
            frozen = []
            try:
                if kind in ("stripe-429", "stripe-500"):
                    if match is None:
                        landed = False
                    else:
                        status = 429 if kind == "stripe-429" else 500
                        error = ({"type": "invalid_request_error", "code": "rate_limit"} if status == 429
                                 else {"type": "api_error"})
                        self.stripe.hook("answers", {"match": match[0], "status": status, "times": fault.times,
                                                     "message": INJECTED, **error})
                        with self.lock:
                            self.queued_answers.append(match[0])
                    go.set()
                elif kind in ("stripe-frozen", "mongo-frozen-long"):
                    which = "stripe" if kind == "stripe-frozen" else "mongo"
                    self.freeze(which)
                    frozen.append(which)
                    go.set()
                    time.sleep(fault.duration if kind == "stripe-frozen" else BUDGET + 1.0)
                else:  # a kill
                    held = kind in ("kill/stripe-held", "kill/db-write-pending") and match
                    if held:
                        self.stripe.hook("hold", {"match": match[1], "seconds": HOLD_SECONDS, "times": 1,
                                                  "method": match[2]})
                    if kind == "kill/stripe-frozen":
                        self.freeze("stripe")
                        frozen.append("stripe")
                    if kind == "kill/db-frozen":
                        self.freeze("mongo")
                        frozen.append("mongo")
                    go.set()
                    container = self.container_of(function, cid, FUNCTION_TIMEOUT)
                    if container is None:
                        landed = False
                    else:
                        if kind == "kill/db-write-pending":
                            # Stripe acts at once and its answer is held; the
                            # database is frozen before the answer arrives, so
                            # the write after it is pending when the kill comes.
                            time.sleep(0.3 if held else moment)
                            self.freeze("mongo")
                            frozen.append("mongo")
                            time.sleep(HOLD_SECONDS if held else 0.3)
                        elif kind == "kill/stripe-held":
                            time.sleep(0.3 + fault.delay)
                        elif kind == "kill/after-delay":
                            time.sleep(0.6 * moment)  # the invocation began a little after the request
                        else:
                            time.sleep(fault.delay)
                        landed = self.kill(container, cid)
            finally:
                go.set()
                for which in frozen:
                    self.thaw(which)
        with self.lock:
            (self.faults if landed else self.faults_missed)[kind] += 1
        self.log({"fault": kind, "request": cid, "landed": landed})

    # ---- the client's side of HTTP

    def call(self, op: Op, method: str, path: str, body=None, token: str | None = None,
             fault: Fault | None = None, target: dict | None = None) -> tuple[int | None, object]:
        """One request as a client sends it: retried after a timeout or a 5xx
        (the same request again), at most MAX_ATTEMPTS times."""
        key, function = self.route(method, path)
        status, payload = None, None
        for attempt in range(MAX_ATTEMPTS):
            cid = self.new_id()
            headers = {"Content-Type": "application/json", "x-chaos-request": cid}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            orchestrator = None
            if fault is not None and attempt == 0:
                go = threading.Event()
                orchestrator = threading.Thread(target=self.fault, daemon=True,
                                                args=(fault, op.kind, target or {}, cid, key, function, go))
                orchestrator.start()
                go.wait()
            started = time.monotonic()
            status, raw, answer_headers = http(method, self.base + path, body, headers, timeout=CLIENT_TIMEOUT)
            if orchestrator is not None:
                orchestrator.join()
            payload = parse(raw)
            with self.lock:
                killed = cid in self.killed
                self.answers.append({"id": cid, "route": key, "status": status, "killed": killed, "op": op.index})
                if orchestrator is None and status is not None and status < 500:
                    recent = self.durations[key]
                    recent.append(time.monotonic() - started)
                    del recent[:-30]
            self.log({"request": cid, "op": op.index, "attempt": attempt, "method": method, "path": path,
                      "body": redacted(body), "status": status, "answer": redacted(payload) if status else None,
                      "ms": int((time.monotonic() - started) * 1000), "killed": killed})
            if status is not None and status < 500:
                return status, payload
            if attempt == MAX_ATTEMPTS - 1:
                break
            if fault is not None and fault.abandon and attempt == 0:
                with self.lock:
                    self.abandoned += 1
                self.log({"abandoned": cid, "op": op.index})
                break
            if killed and fault is not None and fault.expire_keys and attempt == 0:
                self.stripe.hook("clock", {"advance": KEY_EXPIRY_SECONDS})
                with self.lock:
                    self.faults["idempotency-keys-expired"] += 1
                self.log({"fault": "idempotency-keys-expired", "request": cid})
            with self.lock:
                self.retries["no answer" if status is None else str(status)] += 1
            try:
                wait = float(answer_headers.get("Retry-After") or answer_headers.get("retry-after") or RETRY_PAUSE)
            except ValueError:
                wait = RETRY_PAUSE
            time.sleep(min(max(wait, RETRY_PAUSE), RETRY_AFTER_CAP))
        return status, payload

    def both(self, op: Op, race: bool, *args, **kwargs) -> list[tuple[int | None, object]]:
        """The request, and when racing the same request again at the same
        time (without the fault)."""
        if not race:
            return [self.call(op, *args, **kwargs)]
        with self.lock:
            self.races += 1
        second: list = []
        twin = threading.Thread(target=lambda: second.append(self.call(op, *args, **{**kwargs, "fault": None})))
        twin.start()
        first = self.call(op, *args, **kwargs)
        twin.join()
        return [first, *second]

    # ---- accounts

    def login(self, account: Account, op: Op, fault: Fault | None = None, candidates: list[str] | None = None) -> bool:
        """Logs in with the current password, then with the latest earlier
        one (a password change whose answer was lost may or may not have
        happened)."""
        tries = list(dict.fromkeys(candidates or [account.password, *reversed(account.passwords)]))[:2]
        for password in tries:
            status, payload = self.call(op, "POST", "/user/login", {"email": account.email, "password": password},
                                        fault=fault)
            fault = None
            if status == 201:
                account.token, account.password = payload["access_token"], password
                account.user_id = subject(account.token)
                self.tokens.add(account.token)
                return True
            if status != 401:
                return False
        return False

    def authed(self, account: Account, op: Op, method: str, path: str, body=None, fault=None, target=None,
               race=False) -> list[tuple[int | None, object]]:
        """A request with the account's token; a 401 (a token revoked by a
        password change whose answer was lost) logs in again once."""
        if account.token is None and not self.login(account, op):
            return [(None, None)]
        answers = self.both(op, race, method, path, body, account.token, fault=fault, target=target)
        if any(status == 401 for status, _ in answers) and self.login(account, op):
            answers = [self.call(op, method, path, body, account.token)]
        return answers

    # ---- operations

    def perform(self, op: Op) -> None:
        rng = random.Random(op.seed)
        self.log({"op": op.index, "actor": op.actor, "kind": op.kind,
                  "fault": op.fault.describe() if op.fault else None, "race": op.race})
        if op.actor == USERS:
            return self.admin_op(op, rng)
        account = self.accounts[op.actor]
        if not account.registered and op.kind != "register":
            return self.register(account, Op(op.index, op.actor, "register", op.seed, op.fault, False))
        getattr(self, "op_" + op.kind)(account, op, rng)

    def register(self, account: Account, op: Op) -> None:
        body = {"userName": account.name, "email": account.email, "password": account.password}
        answers = self.both(op, op.race, "POST", "/user/register", body, fault=op.fault)
        for status, payload in answers:
            if status == 201:
                account.token, account.registered = payload["access_token"], True
                account.user_id = subject(account.token)
                self.tokens.add(account.token)
        if not account.registered and any(status == 409 for status, _ in answers):
            account.registered = True  # registered by an attempt whose answer was lost
            self.login(account, op)

    def op_register(self, account: Account, op: Op, rng: random.Random) -> None:
        self.register(account, op)

    def op_login(self, account: Account, op: Op, rng: random.Random) -> None:
        self.login(account, op, op.fault)

    def op_create(self, account: Account, op: Op, rng: random.Random) -> None:
        unanswered = [p for p in account.payments if p.id is None]
        if unanswered and rng.random() < 0.5:
            payment = rng.choice(unanswered)  # a client trying its earlier cuid again
        else:
            payment = Payment(make_cuid(rng))
            account.payments.append(payment)
        if account.token is None and not self.login(account, op):
            return
        with self.lock:
            self.sent_creates.add((account.user_id, payment.cuid))
        target = {"action": "create", "user": account.user_id, "cuid": payment.cuid}
        for status, body in self.authed(account, op, "POST", "/payment", {"cuid": payment.cuid}, op.fault, target,
                                        op.race):
            if status == 201:
                payment.id, payment.secret, payment.status = body["id"], body.get("clientSecret"), body["status"]
                with self.lock:
                    self.created[(account.user_id, payment.cuid)].add(body["id"])
                    if payment.secret:
                        self.client_secrets.add(payment.secret)

    def op_confirm(self, account: Account, op: Op, rng: random.Random) -> None:
        known = [p for p in account.payments if p.id]
        waiting = [p for p in known if p.status in ("requires_payment_method", "requires_confirmation")]
        if not known:
            return self.op_create(account, op, rng)
        payment = rng.choice(waiting if waiting and rng.random() < 0.85 else known)
        card = weighted(rng, CARDS)
        body = {"cuid": payment.cuid, "paymentId": payment.id, "paymentMethodId": card}
        target = {"action": "confirm", "intent": payment.id}
        for status, answer in self.authed(account, op, "POST", "/payment/confirm", body, op.fault, target, op.race):
            if status == 201:
                payment.status = answer["status"]
            elif status == 402:
                payment.status = "requires_payment_method"

    def op_cancel(self, account: Account, op: Op, rng: random.Random) -> None:
        known = [p for p in account.payments if p.id]
        open_ = [p for p in known if p.status not in ("succeeded", "canceled")]
        if not known:
            return self.op_create(account, op, rng)
        payment = rng.choice(open_ if open_ and rng.random() < 0.8 else known)
        for status, answer in self.authed(account, op, "POST", f"/payment/{payment.id}/cancel", None, op.fault,
                                          {"action": "cancel", "intent": payment.id}, op.race):
            if status == 201:
                payment.status = answer["status"]

    def op_authenticate(self, account: Account, op: Op, rng: random.Random) -> None:
        """3-D Secure finished (or failed) in the browser, at Stripe; then the
        client reads the payment."""
        pending = [p for p in account.payments if p.id and p.secret and p.status == "requires_action"]
        if not pending:
            return self.op_get(account, op, rng)
        payment = rng.choice(pending)
        success = rng.random() < 0.75
        status, raw, _ = self.stripe.request("POST", f"/v1/payment_intents/{payment.id}/_authenticate",
                                             {"client_secret": payment.secret, "success": str(success).lower()})
        self.log({"op": op.index, "authenticate": payment.id, "success": success, "status": status})
        if op.fault is not None or rng.random() < 0.6:  # else the page was closed: webhooks tell the API
            self.get_payment(account, op, payment)

    def op_get(self, account: Account, op: Op, rng: random.Random) -> None:
        known = [p for p in account.payments if p.id]
        if not known:
            return self.op_list(account, op, rng)
        self.get_payment(account, op, rng.choice(known))

    def get_payment(self, account: Account, op: Op, payment: Payment) -> None:
        for status, answer in self.authed(account, op, "GET", f"/payment/{payment.id}", None, op.fault,
                                          {"action": "get", "intent": payment.id}):
            if status == 200:
                payment.status = answer["status"]

    def op_list(self, account: Account, op: Op, rng: random.Random) -> None:
        self.authed(account, op, "GET", f"/payment?limit={rng.choice([1, 5, 20, 100])}", None, op.fault)

    def op_get_user(self, account: Account, op: Op, rng: random.Random) -> None:
        if account.user_id:
            self.authed(account, op, "GET", f"/user/{account.user_id}", None, op.fault)
        else:
            self.login(account, op, op.fault)

    def op_password(self, account: Account, op: Op, rng: random.Random) -> None:
        new = "pw-" + "".join(rng.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(16))
        if account.token is None and not self.login(account, op):
            return
        old = account.password
        account.passwords.append(new)
        status, payload = self.call(op, "POST", "/user/password", {"currentPassword": old, "newPassword": new},
                                    account.token, fault=op.fault)
        if status == 201:
            account.token, account.password = payload["access_token"], new
            self.tokens.add(account.token)
            return
        # The answer was lost, or a retry was refused because an attempt whose
        # answer was lost had changed it: log in with the new one, else the old.
        account.token = None
        self.login(account, op, candidates=[new, old])

    def admin_op(self, op: Op, rng: random.Random) -> None:
        admin = self.admin
        if op.kind == "list_users":
            self.authed(admin, op, "GET", f"/user?limit={rng.choice([5, 20, 100])}", None, op.fault)
            return
        everyone = [p for account in self.accounts for p in account.payments if p.id]
        succeeded = [p for p in everyone if p.status == "succeeded"]
        if not everyone:
            self.authed(admin, op, "GET", "/user?limit=20", None, op.fault)
            return
        replay = [ask for ask in self.refund_asks] if rng.random() < 0.1 else []
        if replay:
            intent, refund_cuid, amount = rng.choice(replay)  # the same refund asked again: the same answer
        else:
            intent = rng.choice(succeeded if succeeded and rng.random() < 0.85 else everyone).id
            refund_cuid = make_cuid(rng)
            amount = None if rng.random() < 0.35 else rng.choice([1, 100, 500, 999, 1000, 1500, rng.randint(1, 2000)])
            self.refund_asks.append((intent, refund_cuid, amount))
        body = {"cuid": refund_cuid} if amount is None else {"cuid": refund_cuid, "amount": amount}
        with self.lock:
            self.refunds_sent.add((intent, refund_cuid))
        target = {"action": "refund", "intent": intent, "refund_cuid": refund_cuid}
        for status, answer in self.authed(admin, op, "POST", f"/payment/{intent}/refund", body, op.fault, target,
                                          op.race):
            if status == 201:
                with self.lock:
                    self.refunds_answered[(intent, refund_cuid)].add(answer["id"])

    # ---- the run

    def execute(self) -> bool:
        started = time.monotonic()
        print(f"chaos: seed {self.seed}, {self.operations} operations, {self.profile} binaries "
              f"(CHAOS_SEED={self.seed} replays it); evidence in {self.dir.relative_to(ROOT)}", flush=True)
        with services.Processes() as procs:
            stand_ins = services.start_services(procs, persistent=False, run_dir=self.dir)
            self.env = {**os.environ, **stand_ins.env}
            self.secret = stand_ins.secret
            self.pids = {}
            for proc in procs.running:
                args = " ".join(map(str, proc.args))
                if "nx27017_launcher" in args:
                    self.pids["mongo"] = proc.pid
                elif "localstripe_launcher" in args:
                    self.pids["stripe"] = proc.pid
            if set(self.pids) != {"mongo", "stripe"}:
                sys.exit("chaos: the run needs nx-27017 and localstripe (not Stripe's test mode)")
            self.stripe = Stripe(stand_ins.env["STRIPE_API_BASE"], stand_ins.secret["stripeSecretKey"])
            admin_password = secrets.token_urlsafe(15)
            self.admin_cli("migrate")
            self.admin_cli("seed-admin", "chaos-admin@example.com", env={"ADMIN_PASSWORD": admin_password})
            port = services.free_port()
            self.functions_log = self.dir / "functions.log"
            with self.functions_log.open("w") as log:
                self.server = local_gateway.serve(procs, stand_ins.env, port, self.bin_dir, log,
                                            timeout=FUNCTION_TIMEOUT, concurrency=CONTAINERS)
                threading.Thread(target=self.server.serve_forever, daemon=True).start()
                self.base = f"http://127.0.0.1:{port}"
                rng = random.Random(f"{self.seed}/accounts")
                self.accounts = [Account(f"Chaos User {i}", f"chaos-{self.seed}-{i}@example.com",
                                         "pw-" + "".join(rng.choice("abcdefghijkmnpqrstuvwxyz23456789")
                                                         for _ in range(16)))
                                 for i in range(USERS)]
                for account in self.accounts:
                    account.passwords.append(account.password)
                self.admin = Account("admin", "chaos-admin@example.com", admin_password, registered=True,
                                     passwords=[admin_password])
                if not self.login(self.admin, Op(-1, USERS, "login", "", None, False)):
                    sys.exit("chaos: the admin cannot log in")
                self.webhooks = Webhooks(self)
                ops = schedule(self.seed, self.operations)
                self.drive(ops)
                self.webhooks.settle()
                self.drain_answers()
                self.reconcile = self.admin_cli("reconcile", "--since", "1d", check=False)
                results = self.invariants()
                self.server.shutdown()
        self.journal.close()
        held = all(ok for _, ok, _ in results)
        self.report(results, time.monotonic() - started)
        return held

    def admin_cli(self, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        binary = self.bin_dir / "payments-admin"
        done = subprocess.run([str(binary), *args], env={**self.env, **(env or {})}, capture_output=True, text=True,
                              timeout=300)
        self.log({"payments-admin": list(args), "code": done.returncode, "stdout": done.stdout[-4000:],
                  "stderr": done.stderr[-4000:]})
        if check and done.returncode != 0:
            sys.exit(f"chaos: payments-admin {args[0]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return done

    def drive(self, ops: list[Op]) -> None:
        """Each actor's operations in order on its own thread, CONCURRENT at
        a time overall; the webhook sender ticks every other operation."""
        permits = threading.Semaphore(CONCURRENT)
        queues = [queue.Queue() for _ in range(USERS + 1)]
        failures: list[str] = []

        def actor(q: queue.Queue) -> None:
            while (op := q.get()) is not None:
                try:
                    self.perform(op)
                except Exception as err:  # a bug of the run itself: say so, keep going
                    import traceback

                    failures.append(f"op {op.index} ({op.kind}): {err!r}")
                    self.log({"op": op.index, "harness-error": traceback.format_exc()})
                finally:
                    permits.release()

        threads = [threading.Thread(target=actor, args=(q,), daemon=True) for q in queues]
        for thread in threads:
            thread.start()
        pump = threading.Thread(target=self.webhooks.loop, daemon=True)
        pump.start()
        for op in ops:
            permits.acquire()
            queues[op.actor].put(op)
            if op.index % 2:
                self.webhooks.tick()
        for q in queues:
            q.put(None)
        for thread in threads:
            thread.join()
        self.webhooks.stop()
        pump.join()
        if failures:
            print(f"chaos: {len(failures)} operation(s) failed in the harness itself: {failures[:3]}", flush=True)
        self.harness_failures = failures

    def drain_answers(self) -> None:
        """Uses up injected answers no request met, so that nothing after the
        run meets them."""
        for match in set(self.queued_answers):
            path, headers = (match, {}) if match.startswith("/") else ("/v1/chaos_drain", {"Idempotency-Key": match})
            for _ in range(10):
                status, raw, _ = self.stripe.request("GET", path, headers=headers)
                if INJECTED not in raw.decode(errors="replace"):
                    break

    # ---- invariants

    def invariants(self) -> list[tuple[str, bool, list[str]]]:
        import pymongo

        intents = self.stripe.all("payment_intents")
        charges = self.stripe.all("charges")
        refunds = self.stripe.all("refunds")
        client = pymongo.MongoClient(self.secret["mongodbUri"], serverSelectionTimeoutMS=10000)
        db = client[self.env.get("MONGODB_DATABASE", "payments")]
        records = list(db.payments.find({}))
        refund_records = list(db.refunds.find({}))
        client.close()
        self.truth = {"intents": len(intents), "charges": len(charges), "refunds": len(refunds),
                      "records": len(records), "refund records": len(refund_records)}
        results = []

        # 1. One PaymentIntent per (user, cuid).
        by_owner = defaultdict(list)
        for intent in intents:
            meta = intent.get("metadata") or {}
            if meta.get("userId") and meta.get("cuid"):
                by_owner[(meta["userId"], meta["cuid"])].append(intent["id"])
        record_of = {(str(r["userId"]), r["cuid"]): r["intentId"] for r in records}
        bad = []
        for owner, ids in by_owner.items():
            if len(ids) > 1:
                bad.append(f"user {owner[0]} cuid {owner[1]}: {len(ids)} intents {ids}")
        for owner, answered in self.created.items():
            ids = by_owner.get(owner, [])
            if len(ids) != 1:
                if len(ids) == 0:
                    bad.append(f"user {owner[0]} cuid {owner[1]}: answered {sorted(answered)} but no intent at Stripe")
                continue
            if answered != {ids[0]}:
                bad.append(f"user {owner[0]} cuid {owner[1]}: answered {sorted(answered)}, Stripe has {ids[0]}")
            if owner in record_of and record_of[owner] != ids[0]:
                bad.append(f"user {owner[0]} cuid {owner[1]}: record {record_of[owner]}, Stripe has {ids[0]}")
        for owner in by_owner:
            if owner not in self.sent_creates:
                bad.append(f"user {owner[0]} cuid {owner[1]}: an intent no client asked for")
        results.append(("1. exactly one PaymentIntent per (user, cuid)", not bad, bad))

        # 2. At most one succeeded charge per PaymentIntent.
        succeeded = Counter(c.get("payment_intent") for c in charges if c.get("status") == "succeeded")
        bad = [f"{pi}: {n} succeeded charges" for pi, n in succeeded.items() if n > 1]
        results.append(("2. at most one succeeded charge per PaymentIntent", not bad, bad))

        # 3. Refunds within the amount; one Stripe refund per refund cuid.
        amount_of = {i["id"]: i["amount"] for i in intents}
        refunded = Counter()
        per_cuid = defaultdict(list)
        for refund in refunds:
            pi = refund.get("payment_intent")
            if refund.get("status") != "failed":
                refunded[pi] += refund["amount"]
            cuid = (refund.get("metadata") or {}).get("cuid")
            if cuid:
                per_cuid[(pi, cuid)].append(refund["id"])
        bad = [f"{pi}: {total} refunded of {amount_of.get(pi)}" for pi, total in refunded.items()
               if total > amount_of.get(pi, 0)]
        for key, ids in per_cuid.items():
            if len(ids) > 1:
                bad.append(f"{key[0]} refund cuid {key[1]}: {len(ids)} refunds {ids}")
        for key, answered in self.refunds_answered.items():
            ids = per_cuid.get(key, [])
            if len(ids) == 0:
                bad.append(f"{key[0]} refund cuid {key[1]}: answered {sorted(answered)} but no refund at Stripe")
            elif answered != set(ids[:1]):
                bad.append(f"{key[0]} refund cuid {key[1]}: answered {sorted(answered)}, Stripe has {ids}")
        for key in per_cuid:
            if key not in self.refunds_sent:
                bad.append(f"{key[0]} refund cuid {key[1]}: a refund nobody asked for")
        results.append(("3. refunds within the amount, one per refund cuid", not bad, bad))

        # 4. Records equal Stripe's.
        charge_of = {c["id"]: c for c in charges}
        stripe_of = {i["id"]: i for i in intents}
        bad = []
        for record in records:
            intent = stripe_of.get(record["intentId"])
            if intent is None:
                bad.append(f"{record['intentId']}: recorded, unknown at Stripe")
                continue
            charge = charge_of.get(intent.get("latest_charge") or "")
            truth = (intent["status"], charge.get("amount_refunded", 0) if charge else 0)
            stored = (record.get("status"), record.get("amountRefunded", 0))
            if stored != truth:
                bad.append(f"{intent['id']}: stored {stored[0]}/{stored[1]}, Stripe {truth[0]}/{truth[1]}")
        recorded = {r["intentId"] for r in records}
        for owner, ids in by_owner.items():
            for pi in ids:
                if pi not in recorded:
                    bad.append(f"{pi}: at Stripe (user {owner[0]} cuid {owner[1]}, {stripe_of[pi]['status']}), "
                               f"no record")
        refund_record_of = {(r["intentId"], r["cuid"]): r for r in refund_records}
        stripe_refunds = {r["id"] for r in refunds}
        for refund in refunds:
            cuid = (refund.get("metadata") or {}).get("cuid")
            if not cuid:
                continue
            record = refund_record_of.get((refund.get("payment_intent"), cuid))
            if record is None or record.get("refundId") != refund["id"]:
                bad.append(f"{refund['id']} ({refund.get('payment_intent')} cuid {cuid}, {refund['status']}): "
                           f"record {None if record is None else record.get('refundId')}")
            elif (record.get("status"), record.get("amount")) != (refund["status"], refund["amount"]):
                bad.append(f"{refund['id']}: stored {record.get('status')}/{record.get('amount')}, "
                           f"Stripe {refund['status']}/{refund['amount']}")
        for record in refund_records:
            if record.get("refundId") and record["refundId"] not in stripe_refunds:
                bad.append(f"{record['refundId']}: recorded, unknown at Stripe")
        results.append(("4. records equal Stripe's (after webhooks and reconcile)", not bad, bad))

        # 5. No 500 (nor a missing answer) but the platform's for killed invocations.
        bad = [f"request {a['id']} ({a['route']}, op {a['op']}): {a['status'] or 'no answer'}"
               for a in self.answers if (a["status"] is None or a["status"] == 500) and not a["killed"]]
        results.append(("5. no answer was a 500 (killed invocations aside)", not bad, bad))

        # 6. Every answer one the contract lists.
        bad = []
        for answer in self.answers:
            if answer["status"] is None or answer["killed"] and answer["status"] == 500:
                continue
            allowed = self.contract.get(answer["route"])
            if allowed is None or answer["status"] not in allowed:
                bad.append(f"request {answer['id']}: {answer['route']} answered {answer['status']}")
        results.append(("6. every answer is one the OpenAPI document lists", not bad, bad))

        # 7. No secret in the functions' log.
        text = self.functions_log.read_text(errors="replace")
        secrets_of = {
            "password": {p for a in [*self.accounts, self.admin] for p in a.passwords},
            "access token": self.tokens,
            "client secret": self.client_secrets,
            "jwtSecret": {self.secret["jwtSecret"]},
            "stripeWebhookSecret": {self.secret["stripeWebhookSecret"]},
            "Stripe secret key": {self.secret["stripeSecretKey"]},
        }
        # An empty log would hold no secret and prove nothing.
        bad = [] if '"request"' in text else ["the functions' log has no request line: nothing was checked"]
        for kind, values in secrets_of.items():
            for value in values:
                if value and len(value) >= 8 and value in text:
                    line = next(n for n, l in enumerate(text.splitlines(), 1) if value in l)
                    bad.append(f"a {kind} at functions.log line {line}")
        results.append(("7. no password or token in a log line", not bad, bad))

        done = self.reconcile
        ran = done.returncode == 0
        detail = [] if ran else [f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[:300]}"]
        results.append(("reconcile ran", ran, detail))
        self.reconcile_said = (done.stdout.strip().splitlines() or ["nothing"])[-1] if ran else "-"
        if self.harness_failures:
            results.append(("the harness ran every operation", False, self.harness_failures))
        return results

    def report(self, results, wall: float) -> None:
        kinds = sorted(set(self.faults) | set(self.faults_missed))
        faults = ", ".join(f"{k} {self.faults[k]}" + (f" (+{self.faults_missed[k]} missed)" if self.faults_missed[k]
                                                        else "") for k in kinds)
        statuses = Counter(a["status"] for a in self.answers)
        killed = sum(1 for a in self.answers if a["killed"])
        print(f"chaos report: seed {self.seed}, {self.operations} operations, {self.profile} binaries")
        print(f"  requests: {len(self.answers)} answered "
              + ", ".join(f"{s or 'none'} x{n}" for s, n in sorted(statuses.items(), key=lambda kv: kv[0] or 0))
              + f"; {killed} killed mid-invocation; {self.races} sent twice at once")
        print(f"  faults injected: {sum(self.faults.values())} ({faults or 'none'})")
        print(f"  retries: {sum(self.retries.values())} ("
              + ", ".join(f"after {k} x{n}" for k, n in sorted(self.retries.items()))
              + f"); {self.abandoned} request(s) abandoned by their client after a fault")
        w = self.webhooks
        print(f"  webhooks: {w.seen} events, {w.subscribed} of subscribed types: "
              + ", ".join(f"{fate} {w.fates[fate]}" for fate in FATES)
              + f"; {w.deliveries} deliveries, {w.redelivered} redelivered after a failure")
        print(f"  Stripe: {self.truth['intents']} intents, {self.truth['charges']} charges, {self.truth['refunds']} "
              f"refunds; database: {self.truth['records']} payments, {self.truth['refund records']} refunds; "
              f"reconcile: {self.reconcile_said}")
        for name, ok, offending in results:
            print(f"  {'held  ' if ok else 'BROKEN'} {name}" + ("" if ok else f": {len(offending)} offending"))
            for line in offending[:5]:
                print(f"           {line}")
        print(f"  wall time: {wall:.1f} s; {'every invariant held' if all(ok for _, ok, _ in results) else 'BROKEN'}",
              flush=True)


class Webhooks:
    """Stripe's webhook sender, played by the run: pulls the emulator's new
    events at each tick and delivers each subscribed one as its fate says."""

    def __init__(self, run: Run):
        self.run = run
        self.ticks: queue.Queue = queue.Queue()
        self.tick_no = 0
        self.after: str | None = None
        self.seen = self.subscribed = self.deliveries = self.redelivered = 0
        self.fates: Counter = Counter()
        self.pending: list[dict] = []  # {"due", "event", "last", "tries", "fate"}
        self.lock = threading.Lock()

    def tick(self) -> None:
        self.ticks.put(True)

    def stop(self) -> None:
        self.ticks.put(None)

    def loop(self) -> None:
        while self.ticks.get() is not None:
            try:
                self.pull()
                self.deliver_due()
            except Exception as err:  # the emulator frozen past our patience, say: next tick
                self.run.log({"webhooks": f"tick failed: {err!r}"})

    def pull(self) -> None:
        self.tick_no += 1
        while True:
            page = self.run.stripe.read("/v1/events?limit=100" + (f"&starting_after={self.after}" if self.after
                                                                  else ""))
            for event in page["data"]:
                self.arrived(event)
            if page["data"]:
                self.after = page["data"][-1]["id"]
            if not page.get("has_more"):
                return

    def arrived(self, event: dict) -> None:
        ordinal = self.seen
        self.seen += 1
        if event["type"] not in SUBSCRIBED:
            return
        self.subscribed += 1
        rng = random.Random(f"{self.run.seed}/event/{ordinal}")
        fate = weighted(rng, FATES)
        kill = rng.uniform(0.0, 1.0) if rng.random() < WEBHOOK_KILL_RATE else None
        self.fates[fate] += 1
        now = self.tick_no
        if fate == "now":
            self.pending.append({"due": now, "event": event, "last": False, "tries": 0, "fate": fate, "kill": kill})
        elif fate == "late":
            self.pending.append({"due": now + rng.randint(2, 12), "event": event, "last": False, "tries": 0,
                                 "fate": fate, "kill": kill})
        elif fate == "twice":
            self.pending.append({"due": now, "event": event, "last": False, "tries": 0, "fate": fate, "kill": kill})
            self.pending.append({"due": now + rng.choice([0, 0, 1, 3, 6]), "event": event, "last": False, "tries": 0,
                                 "fate": "twice (again)"})
        elif fate == "out-of-order":
            # After the events that come next.
            self.pending.append({"due": now + 1, "event": event, "last": True, "tries": 0, "fate": fate, "kill": kill})
        self.run.log({"event": event["id"], "type": event["type"], "object": event["data"]["object"].get("id"),
                      "fate": fate})

    def deliver_due(self, everything: bool = False) -> None:
        with self.lock:
            due = [p for p in self.pending if everything or p["due"] <= self.tick_no]
            self.pending = [p for p in self.pending if not any(p is d for d in due)]
        due.sort(key=lambda p: p["last"])
        while due:
            delivery = due.pop(0)
            twins = [d for d in due if d["event"]["id"] == delivery["event"]["id"]]
            if not twins:
                self.deliver(delivery)
                continue
            # Two copies due at once go out at the same time.
            due = [d for d in due if not any(d is t for t in twins)]
            threads = [threading.Thread(target=self.deliver, args=(d,)) for d in [delivery, *twins]]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

    def deliver(self, delivery: dict) -> None:
        event = delivery["event"]
        payload = json.dumps(event, indent=2, sort_keys=True)
        stamp = int(time.time())
        secret = self.run.secret["stripeWebhookSecret"].encode()
        signature = hmac.new(secret, f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
        cid = self.run.new_id()
        headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={stamp},v1={signature}",
                   "x-chaos-request": cid}
        killer = None
        if delivery.get("kill") is not None:
            killer = threading.Thread(target=self.kill, args=(cid, delivery["kill"]), daemon=True)
            killer.start()
        started = time.monotonic()
        status, raw, _ = http("POST", self.run.base + "/payment/webhook", payload.encode(), headers,
                              timeout=CLIENT_TIMEOUT)
        if killer is not None:
            killer.join()
        with self.lock:
            self.deliveries += 1
        with self.run.lock:
            killed = cid in self.run.killed
            self.run.answers.append({"id": cid, "route": "POST /payment/webhook", "status": status, "killed": killed,
                                     "op": f"event {event['id']}"})
            if killer is None and status == 200:
                recent = self.run.durations["POST /payment/webhook"]
                recent.append(time.monotonic() - started)
                del recent[:-30]
        self.run.log({"request": cid, "webhook": event["id"], "type": event["type"], "fate": delivery["fate"],
                      "status": status, "answer": parse(raw) if status else None,
                      "ms": int((time.monotonic() - started) * 1000)})
        if status is None or not 200 <= status < 300:
            # Stripe retries a failed delivery, for up to 3 days.
            with self.lock:
                self.redelivered += 1
                self.pending.append({**delivery, "due": self.tick_no + 2, "tries": delivery["tries"] + 1,
                                     "fate": "redelivery", "kill": None})

    def kill(self, cid: str, fraction: float) -> None:
        """The payment-webhook container killed at a random moment of delivery `cid`."""
        moment = fraction * self.run.typical("POST /payment/webhook")
        container = self.run.container_of("payment-webhook", cid, FUNCTION_TIMEOUT)
        landed = False
        if container is not None:
            time.sleep(moment)
            landed = self.run.kill(container, cid)
        with self.run.lock:
            (self.run.faults if landed else self.run.faults_missed)["kill/webhook"] += 1
        self.run.log({"fault": "kill/webhook", "request": cid, "landed": landed})

    def settle(self) -> None:
        """At the end: every event still to come (refunds that fail 0.5 s
        later) and every pending delivery, until nothing is left; the lost
        ones stay lost."""
        for round_ in range(20):
            time.sleep(0.7 if round_ == 0 else 0.1)
            before = self.seen
            self.pull()
            self.deliver_due(everything=True)
            if self.seen == before and not self.pending:
                return


def redacted(body):
    if isinstance(body, dict):
        return {k: ("***" if "password" in k.lower() or k in ("access_token", "clientSecret") else v)
                for k, v in body.items()}
    return body


def contract_statuses() -> dict[str, set[int]]:
    """Route key ("POST /payment/{id}/refund") -> the statuses the OpenAPI document lists."""
    document = json.loads((ROOT / "shared" / "src" / "http" / "openapi.json").read_text())
    found = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                found[f"{method.upper()} {path}"] = {int(s) for s in operation["responses"] if s.isdigit()}
    return found


def check_binaries(profile: str) -> None:
    bin_dir = ROOT / "target" / profile
    missing = [name for name in [*FUNCTIONS, "payments-admin"] if not (bin_dir / name).is_file()]
    if missing:
        flag = "--release " if profile == "release" else ""
        sys.exit(f"chaos: target/{profile} lacks {', '.join(missing)}; build them first "
                 f"(cargo build {flag}--workspace --bins), or set CHAOS_PROFILE")
    if not services.RIE:
        sys.exit("chaos: the Lambda Runtime Interface Emulator is missing from .venv (aws-sam-cli); run `make`")


def run(seed: int, operations: int, profile: str = "release") -> bool:
    """One chaos run on fresh stand-ins; True when every invariant held."""
    check_binaries(profile)
    return Run(seed, operations, profile).execute()


def main() -> int:
    services.stop_on_signals()
    operations = int(os.environ.get("CHAOS_OPERATIONS", "500"))
    profile = os.environ.get("CHAOS_PROFILE", "release")
    if os.environ.get("CHAOS_SEEDS"):
        seeds = [int(s) for s in re.split(r"[,\s]+", os.environ["CHAOS_SEEDS"].strip()) if s]
    elif os.environ.get("CHAOS_SEED"):
        seeds = [int(os.environ["CHAOS_SEED"])]
    else:
        seeds = [random.SystemRandom().randrange(1, 10**9)]
    try:
        broken = [seed for seed in seeds if not run(seed, operations, profile)]
    except services.Stopped as stopped:
        return stopped.code
    if len(seeds) > 1:
        print(f"chaos: {len(seeds)} seeds, {len(seeds) - len(broken)} held every invariant"
              + (f"; broken: {', '.join(map(str, broken))}" if broken else ""), flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
