#!/usr/bin/env python3
"""Self check of the rules tools/standins/localstripe_launcher.py adds to localstripe.

    .venv/bin/python -m tools.standins.test_localstripe_rules

Starts the launcher on a free loopback port, checks each rule through raw
HTTP (as a Stripe client would, API version 2026-09-30.endive), prints PASS
or FAIL per check, stops the server, and exits non-zero on any failure.
Standard library only.
"""

import http.server
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from tools.standins.checks import check, failures, passed
from tools.standins.services import free_port, start_launcher

VERSION = "2026-09-30.endive"
SECRET_KEY = "sk_test_local"
RETURN_URL_REQUIRED = (
    "A `return_url` must be specified because this Payment Intent is configured to automatically accept the "
    "payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you "
    "do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.")


class Answer:
    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    @property
    def error(self) -> dict:
        return (self.body or {}).get("error", {}) if isinstance(self.body, dict) else {}

    def __getitem__(self, key):
        return self.body.get(key) if isinstance(self.body, dict) else None

    def __repr__(self):
        return f"{self.status} {json.dumps(self.body)[:1200]}"


class Stripe:
    def __init__(self, base: str):
        self.base = base

    def call(self, method, path, form=(), key=None, version=VERSION, auth=True, query=None) -> Answer:
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = urllib.parse.urlencode(list(form)).encode() if method == "POST" else None
        request = urllib.request.Request(url, data=data, method=method)
        if auth:
            request.add_header("Authorization", f"Bearer {SECRET_KEY}")
        if version:
            request.add_header("Stripe-Version", version)
        if key:
            request.add_header("Idempotency-Key", key)
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw, headers = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as err:
            status, raw, headers = err.code, err.read(), dict(err.headers)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return Answer(status, body, headers)

    def post(self, path, form=(), **kwargs) -> Answer:
        return self.call("POST", path, form, **kwargs)

    def get(self, path, **kwargs) -> Answer:
        return self.call("GET", path, **kwargs)


class Webhooks:
    """A webhook endpoint on loopback that keeps every event delivered to it."""

    def __init__(self, stripe: Stripe):
        self.events: list[dict] = []
        lock = self.lock = threading.Lock()
        events = self.events

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    events.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        answer = stripe.post("/_config/webhooks/we_selfcheck", [("url", url), ("secret", "whsec_selfcheck")],
                             auth=False, version=None)
        assert answer.status == 200, answer

    def wait(self, event_type, object_id, timeout=8.0, where=lambda obj: True, by_id=True):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for event in self.events:
                    obj = event["data"]["object"]
                    if event["type"] == event_type and (obj.get("id") == object_id or not by_id) and where(obj):
                        return event
            time.sleep(0.05)
        return None

    def stop(self):
        self.server.shutdown()


def start_server(port: int, log):
    return start_launcher("tools.standins.localstripe_launcher", ["--port", str(port)], port, log)


# --- helpers ---------------------------------------------------------------

def intent(s: Stripe, *extra, redirects="never", amount=2000, **kwargs) -> Answer:
    form = [("amount", str(amount)), ("currency", "usd")]
    if redirects:
        form += [("automatic_payment_methods[enabled]", "true"), ("automatic_payment_methods[allow_redirects]",
                                                                   redirects)]
    return s.post("/v1/payment_intents", form + list(extra), **kwargs)


def paid_intent(s: Stripe, method="pm_card_visa", amount=2000) -> Answer:
    created = intent(s, amount=amount)
    return s.post(f"/v1/payment_intents/{created['id']}/confirm", [("payment_method", method)])


# --- rules -----------------------------------------------------------------

def rule_a_automatic_payment_methods(s: Stripe):
    print("\n(a) automatic_payment_methods, allowed_payment_method_types, return_url")
    plain = intent(s, redirects=None)
    check("a: create without payment_method_types gets automatic_payment_methods {enabled, always}",
          plain.status == 200 and plain["automatic_payment_methods"] == {"enabled": True, "allow_redirects": "always"}
          and plain["payment_method_types"] == ["card"], plain)
    refused = s.post(f"/v1/payment_intents/{plain['id']}/confirm", [("payment_method", "pm_card_visa")])
    check("a: server confirm of an allow_redirects=always intent without return_url is a 400 naming return_url",
          refused.status == 400 and refused.error.get("type") == "invalid_request_error"
          and refused.error.get("param") == "return_url" and refused.error.get("message") == RETURN_URL_REQUIRED,
          refused)
    done = s.post(f"/v1/payment_intents/{plain['id']}/confirm",
                  [("payment_method", "pm_card_visa"), ("return_url", "https://example.com/back")])
    check("a: ... with a return_url it succeeds", done.status == 200 and done["status"] == "succeeded", done)
    off = intent(s, redirects=None)
    done = s.post(f"/v1/payment_intents/{off['id']}/confirm", [("payment_method", "pm_card_visa"),
                                                                ("off_session", "true")])
    check("a: ... with off_session=true it succeeds", done.status == 200 and done["status"] == "succeeded", done)
    bad_url = s.post(f"/v1/payment_intents/{intent(s, redirects=None)['id']}/confirm",
                     [("payment_method", "pm_card_visa"), ("return_url", "not a url")])
    check("a: a return_url that is not a URL is refused", bad_url.status == 400
          and bad_url.error.get("param") == "return_url", bad_url)

    never = intent(s)
    check("a: automatic_payment_methods[enabled]=true&[allow_redirects]=never is accepted and exported",
          never.status == 200 and never["automatic_payment_methods"] == {"enabled": True, "allow_redirects": "never"},
          never)
    done = s.post(f"/v1/payment_intents/{never['id']}/confirm", [("payment_method", "pm_card_visa")])
    check("a: old flow: allow_redirects=never, confirm with pm_card_visa and no return_url succeeds",
          done.status == 200 and done["status"] == "succeeded", done)

    browser = intent(s, redirects=None)
    done = s.post(f"/v1/payment_intents/{browser['id']}/confirm",
                  [("key", "pk_test_local"), ("client_secret", browser["client_secret"]),
                   ("payment_method", "pm_card_visa")], auth=False)
    check("a: old flow: browser confirm with the publishable key needs no return_url and succeeds",
          done.status == 200 and done["status"] == "succeeded", done)
    wrong = s.post(f"/v1/payment_intents/{intent(s)['id']}/confirm",
                   [("key", "pk_test_local"), ("client_secret", "pi_x_secret_wrong"),
                    ("payment_method", "pm_card_visa")], auth=False)
    check("a: old flow: browser confirm with a wrong client secret is refused", wrong.status == 400
          and wrong.error.get("param") == "client_secret", wrong)
    no_key = s.post(f"/v1/payment_intents/{intent(s)['id']}/confirm", [("payment_method", "pm_card_visa")],
                    auth=False)
    check("a: old flow: a confirm with neither key is a 401", no_key.status == 401, no_key)

    confirmed = intent(s, ("payment_method", "pm_card_visa"), ("confirm", "true"), redirects=None)
    check("a: create with confirm=true and no return_url is refused like a confirm",
          confirmed.status == 400 and confirmed.error.get("param") == "return_url", confirmed)
    confirmed = intent(s, ("payment_method", "pm_card_visa"), ("confirm", "true"))
    check("a: create with confirm=true and allow_redirects=never succeeds",
          confirmed.status == 200 and confirmed["status"] == "succeeded", confirmed)

    for form in ([("allowed_payment_method_types[]", "card")], [("allowed_payment_method_types[0]", "card")]):
        allowed = intent(s, *form, redirects=None)
        check(f"a: {form[0][0]} is accepted and exported",
              allowed.status == 200 and allowed["allowed_payment_method_types"] == ["card"]
              and allowed["payment_method_types"] == ["card"] and allowed["automatic_payment_methods"] is None,
              allowed)
    both = intent(s, ("allowed_payment_method_types[]", "card"))
    check("a: allowed_payment_method_types with automatic_payment_methods is refused", both.status == 400, both)
    bad = intent(s, redirects="sometimes")
    check("a: allow_redirects other than always|never is refused", bad.status == 400
          and bad.error.get("param") == "automatic_payment_methods[allow_redirects]", bad)
    missing = s.post("/v1/payment_intents", [("amount", "2000"), ("currency", "usd"),
                                             ("automatic_payment_methods[allow_redirects]", "never")])
    check("a: automatic_payment_methods without enabled is parameter_missing", missing.status == 400
          and missing.error.get("code") == "parameter_missing", missing)


def rule_b_payment_method_types(s: Stripe):
    print("\n(b) payment_method_types refused at endive")

    def refused(answer):
        return (answer.status == 400 and answer.error.get("type") == "invalid_request_error"
                and answer.error.get("code") == "payment_method_types_no_longer_supported"
                and answer.error.get("param") == "payment_method_types")

    created = intent(s, ("payment_method_types[]", "card"), redirects=None)
    check("b: PaymentIntent create with payment_method_types", refused(created), created)
    pi = intent(s)
    updated = s.post(f"/v1/payment_intents/{pi['id']}", [("payment_method_types[]", "card")])
    check("b: PaymentIntent update with payment_method_types", refused(updated), updated)
    confirmed = s.post(f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa"),
                                                                    ("payment_method_types[]", "card")])
    check("b: PaymentIntent confirm with payment_method_types", refused(confirmed), confirmed)
    check("b: ... and the refused confirm left the intent unconfirmed",
          s.get(f"/v1/payment_intents/{pi['id']}")["status"] == "requires_payment_method")
    setup = s.post("/v1/setup_intents", [("payment_method_types[]", "card")])
    check("b: SetupIntent create with payment_method_types", refused(setup), setup)
    setup = s.post("/v1/setup_intents", [])
    setup_update = s.post(f"/v1/setup_intents/{setup['id']}", [("payment_method_types[]", "card")])
    check("b: SetupIntent update with payment_method_types", refused(setup_update), setup_update)
    metadata = s.post(f"/v1/payment_intents/{pi['id']}", [("metadata[k]", "v")])
    check("b: PaymentIntent update without it still works", metadata.status == 200
          and metadata["metadata"] == {"k": "v"}, metadata)
    old = intent(s, ("payment_method_types[]", "card"), redirects=None, version="2024-06-20")
    check("b: an older Stripe-Version may still send payment_method_types (no automatic_payment_methods)",
          old.status == 200 and old["automatic_payment_methods"] is None, old)
    older = intent(s, redirects=None, version="2023-02-16")
    check("b: before 2023-08-16 no automatic_payment_methods by default", older.status == 200
          and older["automatic_payment_methods"] is None, older)


def rule_c_idempotency(s: Stripe, run: str):
    print("\n(c) idempotency")
    key = f"idem-{run}-same"
    first = intent(s, key=key)
    again = intent(s, key=key)
    check("c: the same key and parameters replay the first answer",
          first.status == 200 and again.body == first.body and again.headers.get("Idempotent-Replayed") == "true",
          again)
    other = intent(s, amount=2100, key=key)
    check("c: the same key with other parameters is a 400 idempotency_error",
          other.status == 400 and other.error == {
              "type": "idempotency_error",
              "message": "Keys for idempotent requests can only be used with the same parameters they were first "
                         f"used with. Try using a key other than '{key}' if you meant to execute a different "
                         "request."}, other)
    elsewhere = s.post("/v1/customers", [("email", "a@example.com")], key=key)
    check("c: the same key on another endpoint is a 400 idempotency_error",
          elsewhere.status == 400 and elsewhere.error.get("type") == "idempotency_error", elsewhere)

    key = f"idem-{run}-validation"
    refused = intent(s, ("payment_method_types[]", "card"), redirects=None, key=key)
    valid = intent(s, key=key)
    check("c: a request refused by validation (payment_method_types) is not saved",
          refused.status == 400 and valid.status == 200 and "Idempotent-Replayed" not in valid.headers, valid)
    key = f"idem-{run}-unknown"
    refused = intent(s, ("foo", "1"), key=key)
    valid = intent(s, key=key)
    check("c: an unknown parameter is parameter_unknown, and not saved",
          refused.error.get("code") == "parameter_unknown" and valid.status == 200
          and "Idempotent-Replayed" not in valid.headers, (refused, valid))
    key = f"idem-{run}-return-url"
    pi = intent(s, redirects=None)
    refused = s.post(f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa")], key=key)
    done = s.post(f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa"),
                                                               ("return_url", "https://example.com/r")], key=key)
    check("c: the return_url refusal is not saved (the key then confirms)",
          refused.status == 400 and done.status == 200 and done["status"] == "succeeded", (refused, done))

    key = f"idem-{run}-declined"
    pi = intent(s)
    declined = s.post(f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa_chargeDeclined")],
                      key=key)
    again = s.post(f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa_chargeDeclined")],
                   key=key)
    check("c: a 402 decline is saved and replayed", declined.status == 402 and again.status == 402
          and again.headers.get("Idempotent-Replayed") == "true" and again.body == declined.body, again)
    key = f"idem-{run}-missing"
    missing = s.post("/v1/payment_intents/pi_doesnotexist/confirm", [("payment_method", "pm_card_visa")], key=key)
    again = s.post("/v1/payment_intents/pi_doesnotexist/confirm", [("payment_method", "pm_card_visa")], key=key)
    check("c: a 404 resource_missing is saved and replayed", missing.status == 404
          and missing.error.get("code") == "resource_missing" and again.headers.get("Idempotent-Replayed") == "true",
          again)
    key = f"idem-{run}-state"
    paid = paid_intent(s)
    wrong_state = s.post(f"/v1/payment_intents/{paid['id']}/cancel", [], key=key)
    again = s.post(f"/v1/payment_intents/{paid['id']}/cancel", [], key=key)
    check("c: a 400 payment_intent_unexpected_state (the endpoint ran) is saved",
          wrong_state.error.get("code") == "payment_intent_unexpected_state"
          and again.headers.get("Idempotent-Replayed") == "true", again)

    unpaid = intent(s)
    canceled = s.post(f"/v1/payment_intents/{unpaid['id']}/cancel", [], key=f"idem-{run}-cancel")
    check("c: old flow: cancelling an unpaid intent works", canceled.status == 200
          and canceled["status"] == "canceled", canceled)

    key = f"idem-{run}-queued"
    queued = s.post("/_test/answers", [("match", key), ("status", "500"), ("type", "api_error"),
                                       ("message", "simulated")], auth=False, version=None)
    failed = intent(s, key=key)
    after = intent(s, key=key)
    check("c: old flow: /_test/answers still answers, and its answer is not saved",
          queued.status == 200 and failed.status == 500 and failed.error.get("type") == "api_error"
          and after.status == 200 and "Idempotent-Replayed" not in after.headers, (failed, after))

    key = f"idem-{run}-ttl"
    first = intent(s, key=key)
    clock = s.post("/_test/clock", [("advance", "86000")], auth=False, version=None)
    within = intent(s, key=key)
    s.post("/_test/clock", [("advance", "401")], auth=False, version=None)
    later = intent(s, key=key)
    check("c: results are kept 24 hours (replayed at 23.9 h, a new request at 24 h + 1 s), via /_test/clock",
          clock.status == 200 and within["id"] == first["id"] and within.headers.get("Idempotent-Replayed") == "true"
          and later.status == 200 and later["id"] != first["id"] and "Idempotent-Replayed" not in later.headers,
          (first, within, later))
    bad = s.post("/_test/clock", [("advance", "-5")], auth=False, version=None)
    check("c: /_test/clock refuses to go back", bad.status == 400, bad)


def rule_d_refunds(s: Stripe, hooks: Webhooks):
    print("\n(d) refund lifecycle")
    paid = paid_intent(s)
    charge = paid["latest_charge"]
    refund = s.post("/v1/refunds", [("payment_intent", paid["id"]), ("amount", "500"), ("metadata[cuid]", "c123")])
    check("d: a refund takes metadata and names its payment_intent and charge",
          refund.status == 200 and refund["object"] == "refund" and refund["status"] == "succeeded"
          and refund["amount"] == 500 and refund["payment_intent"] == paid["id"] and refund["charge"] == charge
          and refund["metadata"] == {"cuid": "c123"} and "failure_reason" in refund.body
          and refund["failure_reason"] is None, refund)
    got = s.get(f"/v1/refunds/{refund['id']}")
    check("d: GET /v1/refunds/{id} retrieves it", got.status == 200 and got["id"] == refund["id"]
          and got["metadata"] == {"cuid": "c123"}, got)
    other = paid_intent(s)
    s.post("/v1/refunds", [("payment_intent", other["id"]), ("amount", "100")])
    by_charge = s.post("/v1/refunds", [("charge", charge), ("amount", "200")])
    check("d: a refund made from the charge names the payment_intent too",
          by_charge.status == 200 and by_charge["payment_intent"] == paid["id"], by_charge)
    listed = s.get("/v1/refunds", query={"payment_intent": paid["id"]})
    ids = [r["id"] for r in (listed["data"] or [])]
    check("d: GET /v1/refunds?payment_intent= lists only that intent's refunds",
          listed.status == 200 and sorted(ids) == sorted([refund["id"], by_charge["id"]]), listed)
    unpaid = intent(s)
    listed = s.get("/v1/refunds", query={"payment_intent": unpaid["id"]})
    check("d: ... and an empty list for an intent without a charge", listed.status == 200 and listed["data"] == [],
          listed)

    too_much = s.post("/v1/refunds", [("payment_intent", paid["id"]), ("amount", "1400")])
    check("d: refunding more than is left is amount_too_large naming amount",
          too_much.status == 400 and too_much.error.get("code") == "amount_too_large"
          and too_much.error.get("param") == "amount" and "$14.00" in too_much.error.get("message", "")
          and "$13.00" in too_much.error.get("message", ""), too_much)
    rest = s.post("/v1/refunds", [("payment_intent", paid["id"])])
    check("d: a refund without amount refunds what is left", rest.status == 200 and rest["amount"] == 1300, rest)
    again = s.post("/v1/refunds", [("payment_intent", paid["id"])])
    check("d: a fully refunded charge is charge_already_refunded", again.status == 400
          and again.error.get("code") == "charge_already_refunded", again)

    created = hooks.wait("refund.created", refund["id"])
    obj = (created or {}).get("data", {}).get("object", {})
    check("d: refund.created is sent with the refund",
          created is not None and obj.get("object") == "refund" and obj.get("amount") == 500
          and obj.get("status") == "succeeded" and obj.get("payment_intent") == paid["id"]
          and obj.get("charge") == charge and obj.get("metadata") == {"cuid": "c123"} and "failure_reason" in obj,
          created)
    check("d: charge.refunded is sent too", hooks.wait("charge.refunded", charge) is not None)

    failing = paid_intent(s, "pm_card_refundFail")
    check("d: a pm_card_refundFail payment succeeds", failing.status == 200 and failing["status"] == "succeeded",
          failing)
    started = time.time()
    refund = s.post("/v1/refunds", [("payment_intent", failing["id"]), ("metadata[cuid]", "c-fail")])
    check("d: its refund is created succeeded", refund.status == 200 and refund["status"] == "succeeded", refund)
    status, waited = refund["status"], 0.0
    while status == "succeeded" and time.time() - started < 5:
        time.sleep(0.05)
        status = s.get(f"/v1/refunds/{refund['id']}")["status"]
    waited = time.time() - started
    got = s.get(f"/v1/refunds/{refund['id']}")
    check(f"d: then turns failed with expired_or_canceled_card (after {waited:.2f} s)",
          got["status"] == "failed" and got["failure_reason"] == "expired_or_canceled_card"
          and got["failure_balance_transaction"], got)
    charge = s.get(f"/v1/charges/{failing['latest_charge']}")
    check("d: the failed refund no longer counts in the charge's amount_refunded",
          charge["amount_refunded"] == 0 and charge["refunded"] is False, charge)
    for event_type in ("refund.updated", "refund.failed", "charge.refund.updated"):
        event = hooks.wait(event_type, refund["id"], where=lambda o: o.get("status") == "failed")
        check(f"d: {event_type} is sent with the failed refund", event is not None
              and event["data"]["object"]["failure_reason"] == "expired_or_canceled_card", event)
    again = s.post("/v1/refunds", [("payment_intent", failing["id"]), ("amount", "700")])
    check("d: after the failure the amount may be refunded again", again.status == 200, again)


def rule_e_test_payment_methods(s: Stripe, hooks: Webhooks):
    print("\n(e) Stripe's test PaymentMethods")
    numbers = {"pm_card_visa": "4242", "pm_card_visa_chargeDeclined": "0002", "pm_card_chargeDeclined": "0002",
               "pm_card_chargeCustomerFail": "0341", "pm_card_threeDSecure2Required": "3220",
               "pm_card_authenticationRequired": "3184", "pm_card_createDispute": "0259",
               "pm_card_refundFail": "5126"}
    for name, last4 in numbers.items():
        method = s.get(f"/v1/payment_methods/{name}")
        check(f"e: GET /v1/payment_methods/{name} is a card ending {last4}", method.status == 200
              and method["type"] == "card" and method["card"]["last4"] == last4, method)
    unknown = s.get("/v1/payment_methods/pm_card_doesNotExist")
    check("e: an unknown pm_card_ name is 404 resource_missing", unknown.status == 404
          and unknown.error.get("code") == "resource_missing", unknown)

    paid = paid_intent(s)
    check("e: pm_card_visa succeeds", paid.status == 200 and paid["status"] == "succeeded", paid)
    for name in ("pm_card_visa_chargeDeclined", "pm_card_chargeCustomerFail"):
        pi = intent(s)
        declined = s.post(f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", name)])
        error = declined.error
        check(f"e: {name} declines: 402 card_error card_declined generic_decline",
              declined.status == 402 and error.get("type") == "card_error" and error.get("code") == "card_declined"
              and error.get("decline_code") == "generic_decline"
              and error.get("payment_intent", {}).get("status") == "requires_payment_method", declined)
        after = s.get(f"/v1/payment_intents/{pi['id']}")
        lpe = after["last_payment_error"] or {}
        check(f"e: ... and the intent's last_payment_error says so ({name})",
              lpe.get("type") == "card_error" and lpe.get("decline_code") == "generic_decline", after)
    for name in ("pm_card_threeDSecure2Required", "pm_card_authenticationRequired"):
        pi = intent(s)
        pending = s.post(f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", name)])
        check(f"e: {name} asks for 3-D Secure (requires_action)", pending.status == 200
              and pending["status"] == "requires_action" and pending["next_action"], pending)
        done = s.post(f"/v1/payment_intents/{pi['id']}/_authenticate",
                      [("client_secret", pi["client_secret"]), ("success", "true")])
        check(f"e: old flow: _authenticate completes it ({name})", done.status == 200
              and done["status"] == "succeeded", done)
    disputed = paid_intent(s, "pm_card_createDispute")
    check("e: pm_card_createDispute succeeds", disputed.status == 200 and disputed["status"] == "succeeded", disputed)
    charge = s.get(f"/v1/charges/{disputed['latest_charge']}")
    check("e: ... then its charge is disputed", charge["disputed"] is True, charge)
    event = hooks.wait("charge.dispute.created", None, where=lambda o: o.get("charge") == disputed["latest_charge"],
                       by_id=False)
    check("e: ... and charge.dispute.created is sent", event is not None)


def ids(answer: Answer) -> list:
    return [item["id"] for item in (answer["data"] or [])] if answer.status == 200 else [repr(answer)]


def wait_for_next_second(created: int):
    """Until Stripe's clock (whole seconds) has moved past `created`: at most 1 s."""
    while time.time() < created + 1:
        time.sleep(0.05)


def rule_f_lists(s: Stripe):
    print("\n(f) GET /v1/payment_intents and GET /v1/refunds: filters, newest first, pages, expand")
    cus_a = s.post("/v1/customers", [("email", "a@example.com")])["id"]
    cus_b = s.post("/v1/customers", [("email", "b@example.com")])["id"]
    a1 = intent(s, ("customer", cus_a))
    b1 = intent(s, ("customer", cus_b))
    a2 = intent(s, ("customer", cus_a))
    a3 = intent(s, ("customer", cus_a), ("payment_method", "pm_card_visa"), ("confirm", "true"))
    refund1 = s.post("/v1/refunds", [("payment_intent", a3["id"]), ("amount", "100")])

    listed = s.get("/v1/payment_intents", query={"customer": cus_a})
    check("f: ?customer= lists that customer's intents only, newest first",
          ids(listed) == [a3["id"], a2["id"], a1["id"]] and listed["object"] == "list"
          and listed["url"] == "/v1/payment_intents" and listed["has_more"] is False
          and "total_count" not in listed.body, listed)
    check("f: ... and the other customer's", ids(s.get("/v1/payment_intents", query={"customer": cus_b}))
          == [b1["id"]])
    newest = s.get("/v1/payment_intents", query={"limit": "1"})
    check("f: without filters the newest intent comes first", ids(newest) == [a3["id"]]
          and newest["has_more"] is True, newest)
    first = s.get("/v1/payment_intents", query={"customer": cus_a, "limit": "2"})
    check("f: limit=2 gives the two newest and has_more", ids(first) == [a3["id"], a2["id"]]
          and first["has_more"] is True, first)
    after = s.get("/v1/payment_intents", query={"customer": cus_a, "limit": "2", "starting_after": a2["id"]})
    check("f: starting_after the last one gives the rest, has_more false", ids(after) == [a1["id"]]
          and after["has_more"] is False, after)
    before = s.get("/v1/payment_intents", query={"customer": cus_a, "limit": "1", "ending_before": a1["id"]})
    check("f: ending_before gives the page just before it (newer), has_more true",
          ids(before) == [a2["id"]] and before["has_more"] is True, before)
    before = s.get("/v1/payment_intents", query={"customer": cus_a, "ending_before": a1["id"]})
    check("f: ... all of it, newest first, has_more false", ids(before) == [a3["id"], a2["id"]]
          and before["has_more"] is False, before)
    other = s.get("/v1/payment_intents", query={"customer": cus_a, "starting_after": b1["id"]})
    check("f: a cursor of another customer's intent keeps its place", ids(other) == [a1["id"]], other)
    for query, param in (({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "ten"}, "limit"),
                         ({"starting_after": a1["id"], "ending_before": a3["id"]}, "ending_before"),
                         ({"starting_after": "pi_doesnotexist"}, "starting_after"),
                         ({"created[after]": "1"}, "created[after]"), ({"created[gte]": "soon"}, "created[gte]"),
                         ({"foo": "1"}, "foo")):
        refused = s.get("/v1/payment_intents", query=query)
        check(f"f: {urllib.parse.urlencode(query)} is a 400 naming {param}", refused.status == 400
              and refused.error.get("param") == param, refused)
    check("f: limit=100 is accepted", s.get("/v1/payment_intents", query={"limit": "100"}).status == 200)

    retrieved = s.get(f"/v1/payment_intents/{a3['id']}", query={"expand[]": "latest_charge"})
    for form in ("expand[]", "expand[0]"):
        expanded = s.get("/v1/payment_intents", query=[("customer", cus_a), (form, "data.latest_charge")])
        charges = [item["latest_charge"] for item in (expanded["data"] or [])]
        check(f"f: {form}=data.latest_charge expands each item's latest charge as retrieve does",
              expanded.status == 200 and len(charges) == 3 and isinstance(charges[0], dict)
              and charges[0] == retrieved["latest_charge"] and charges[0]["id"] == a3["latest_charge"]
              and charges[1] is None and charges[2] is None, expanded)
    plain = s.get("/v1/payment_intents", query={"customer": cus_a, "limit": "1"})
    check("f: ... and without expand latest_charge is an id", ids(plain) == [a3["id"]]
          and plain["data"][0]["latest_charge"] == a3["latest_charge"], plain)

    # Objects of a later second, for the created filters.
    old = max(a1["created"], a2["created"], a3["created"], refund1["created"])
    wait_for_next_second(old)
    a4 = intent(s, ("customer", cus_a))
    refund2 = s.post("/v1/refunds", [("payment_intent", a3["id"]), ("amount", "200")])
    refund3 = s.post("/v1/refunds", [("charge", a3["latest_charge"]), ("amount", "300")])
    new = a4["created"]
    cases = [([("created[gte]", new)], [a4]), ([("created[gt]", old)], [a4]),
             ([("created[lt]", new)], [a3, a2, a1]), ([("created[lte]", old)], [a3, a2, a1]),
             ([("created", new)], [a4]),
             ([("created", a1["created"])], [obj for obj in (a3, a2, a1) if obj["created"] == a1["created"]]),
             ([("created[gte]", a1["created"]), ("created[lte]", new)], [a4, a3, a2, a1]),
             ([("created[gte]", new + 3600)], []), ([("created[lte]", a1["created"] - 3600)], [])]
    for query, expected in cases:
        query = [("customer", cus_a)] + [(k, str(v)) for k, v in query]
        listed = s.get("/v1/payment_intents", query=query)
        check(f"f: intents {urllib.parse.urlencode(query[1:])} (old={old}, new={new})",
              ids(listed) == [obj["id"] for obj in expected], listed)

    everything = s.get("/v1/refunds", query={"payment_intent": a3["id"]})
    check("f: refunds ?payment_intent= newest first, whether made from the intent or the charge",
          ids(everything) == [refund3["id"], refund2["id"], refund1["id"]] and everything["has_more"] is False,
          everything)
    for query, expected in (({"payment_intent": a3["id"], "created[gte]": str(new)}, [refund3, refund2]),
                            ({"charge": a3["latest_charge"], "created[gt]": str(old)}, [refund3, refund2]),
                            ({"payment_intent": a3["id"], "created[lt]": str(new)}, [refund1]),
                            ({"charge": a3["latest_charge"], "created[lte]": str(old)}, [refund1]),
                            ({"payment_intent": a3["id"], "created": str(refund1["created"])}, [refund1]),
                            ({"payment_intent": a3["id"], "created[gte]": str(new + 3600)}, []),
                            ({"created[gte]": str(new)}, [refund3, refund2])):
        listed = s.get("/v1/refunds", query=query)
        check(f"f: refunds {urllib.parse.urlencode(query)}", ids(listed) == [obj["id"] for obj in expected], listed)
    page = s.get("/v1/refunds", query={"payment_intent": a3["id"], "limit": "1"})
    check("f: refunds limit=1 has_more", ids(page) == [refund3["id"]] and page["has_more"] is True, page)
    page = s.get("/v1/refunds", query={"payment_intent": a3["id"], "limit": "1", "starting_after": refund3["id"]})
    check("f: refunds starting_after", ids(page) == [refund2["id"]] and page["has_more"] is True, page)
    page = s.get("/v1/refunds", query={"payment_intent": a3["id"], "ending_before": refund1["id"]})
    check("f: refunds ending_before", ids(page) == [refund3["id"], refund2["id"]] and page["has_more"] is False,
          page)
    refused = s.get("/v1/refunds", query={"created[gte]": "yesterday"})
    check("f: refunds created[gte]=yesterday is a 400", refused.status == 400
          and refused.error.get("param") == "created[gte]", refused)
    charge = s.get(f"/v1/charges/{a3['latest_charge']}")
    check("f: the charge still counts all its refunds", charge["amount_refunded"] == 600, charge)


def rule_g_hold(s: Stripe, run: str):
    print("\n(g) /_test/hold: Stripe acts, its answer is late")
    hold = 0.8
    customer = s.post("/v1/customers", [("email", "hold@example.com")])["id"]
    key = f"hold-{run}"
    queued = s.post("/_test/hold", [("match", "/v1/payment_intents"), ("seconds", str(hold))], auth=False,
                    version=None)
    check("g: POST /_test/hold is accepted", queued.status == 200, queued)
    answers = {}

    def create():
        started = time.time()
        answers["held"] = intent(s, ("customer", customer), key=key)
        answers["took"] = time.time() - started

    caller = threading.Thread(target=create)
    caller.start()
    seen, slowest, deadline = [], 0.0, time.time() + hold * 0.75
    while not seen and time.time() < deadline:
        started = time.time()
        seen = ids(s.get("/v1/payment_intents", query={"customer": customer}))
        slowest = max(slowest, time.time() - started)
        if not seen:
            time.sleep(0.02)
    still_held = caller.is_alive()
    check("g: the intent exists at Stripe while the POST's answer is still held",
          len(seen) == 1 and still_held, (seen, still_held))
    check(f"g: other requests are not held up (slowest GET {slowest:.3f} s)", slowest < hold / 2)
    started = time.time()
    retry = intent(s, ("customer", customer), key=key)
    check("g: a retry with the same key during the hold gets the saved answer at once",
          retry.status == 200 and retry.headers.get("Idempotent-Replayed") == "true" and seen == [retry["id"]]
          and time.time() - started < hold / 2 and caller.is_alive(), retry)
    caller.join(timeout=10)
    held = answers.get("held")
    check(f"g: the held answer arrives after the hold ({answers.get('took', 0):.2f} s), naming the same intent",
          held is not None and held.status == 200 and held["id"] == seen[0] and answers["took"] >= hold * 0.95, held)
    again = intent(s, ("customer", customer), key=key)
    check("g: a replay after the hold returns the same id", again["id"] == seen[0]
          and again.headers.get("Idempotent-Replayed") == "true", again)
    check("g: still one intent at Stripe", ids(s.get("/v1/payment_intents", query={"customer": customer}))
          == seen)
    started = time.time()
    intent(s, ("customer", customer))
    check("g: times=1: the next request is not held", time.time() - started < hold / 2)
    refused = s.post("/_test/hold", [("seconds", "1")], auth=False, version=None)
    check("g: /_test/hold without match is a 400", refused.status == 400, refused)


def main() -> int:
    port = free_port()
    run = str(int(time.time() * 1000))
    log = tempfile.TemporaryFile()
    server = start_server(port, log)
    hooks = None
    try:
        stripe = Stripe(f"http://127.0.0.1:{port}")
        hooks = Webhooks(stripe)
        rule_a_automatic_payment_methods(stripe)
        rule_b_payment_method_types(stripe)
        rule_c_idempotency(stripe, run)
        rule_d_refunds(stripe, hooks)
        rule_e_test_payment_methods(stripe, hooks)
        rule_f_lists(stripe)
        rule_g_hold(stripe, run)
    except Exception as err:  # a crash is a failure too, with the server's log
        failures.append(f"crash: {err!r}")
        print(f"FAIL  the self check crashed: {err!r}")
    finally:
        if hooks:
            hooks.stop()
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"\n{len(passed)} passed, {len(failures)} failed")
    if failures:
        log.seek(0)
        tail = log.read().decode(errors="replace").splitlines()[-40:]
        print("server log (last lines):\n  " + "\n  ".join(tail))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
