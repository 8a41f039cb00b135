#!/usr/bin/env python3
"""localstripe, patched where it differs from Stripe in ways a Stripe client
or this API depends on, and served on 127.0.0.1 only.

    localstripe_launcher.py --port 8420

Each patch below names the divergence it closes. Nothing here is specific to
this project's requests: it makes localstripe answer as Stripe documents.
"""

import argparse
import json
import logging
import re
import time

from aiohttp import web

import localstripe.resources as resources
from localstripe.errors import UserError

# It pickles its store to /tmp/localstripe.pickle on every change: keep it in memory.
resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

# A missing object is a bare 404 "Not Found"; Stripe says resource_missing,
# names the parameter, and answers 400 when the object is named in a
# request's parameters (a PaymentIntent for a deleted customer).
_retrieve = resources.StripeObject._api_retrieve.__func__


def _retrieve_like_stripe(cls, id):
    try:
        return _retrieve(cls, id)
    except UserError as err:
        if err.code != 404:
            raise
        raise UserError(404, f"No such {cls.object}: '{id}'", {"code": "resource_missing", "param": "id"})


resources.StripeObject._api_retrieve = classmethod(_retrieve_like_stripe)
_intent_init = resources.PaymentIntent.__init__


def _intent_init_like_stripe(self, *args, customer=None, **kwargs):
    if customer is not None and resources.store.get("customer:" + str(customer)) is None:
        raise UserError(400, f"No such customer: '{customer}'", {"code": "resource_missing", "param": "customer"})
    _intent_init(self, *args, customer=customer, **kwargs)


resources.PaymentIntent.__init__ = _intent_init_like_stripe

# PaymentIntents lack fields Stripe always sends; latest_charge is an id
# unless expanded; last_payment_error has a type.
_export_intent = resources.PaymentIntent._export


def _export_intent_like_stripe(self, expand=None):
    obj = _export_intent(self, expand)
    charge = self.latest_charge
    obj.setdefault("amount_capturable", 0)
    obj["amount_received"] = self.amount if obj["status"] == "succeeded" else 0
    obj.setdefault("confirmation_method", "automatic")
    obj["payment_method_types"] = obj.get("payment_method_types") or ["card"]
    if isinstance(obj.get("latest_charge"), dict) and "latest_charge" not in (expand or []):
        obj["latest_charge"] = charge.id
    if obj.get("last_payment_error"):
        obj["last_payment_error"].setdefault("type", "card_error")
        if charge is not None and getattr(charge, "failure_code", None):
            obj["last_payment_error"].setdefault("decline_code", charge.failure_code)
    obj.pop("charges", None)  # removed from the API in 2022
    return obj


resources.PaymentIntent._export = _export_intent_like_stripe

# Charges lack amount_captured, billing_details and disputed.
_export_charge = resources.Charge._export


def _export_charge_like_stripe(self, expand=None):
    obj = _export_charge(self, expand)
    obj.setdefault("amount_captured", obj.get("amount", 0) if obj.get("captured") else 0)
    obj.setdefault("billing_details", {"address": None, "email": None, "name": None, "phone": None})
    obj["disputed"] = getattr(self, "_disputed", False)
    return obj


resources.Charge._export = _export_charge_like_stripe

# Events lack pending_webhooks and request.
_export_event = resources.Event._export


def _export_event_like_stripe(self, expand=None):
    obj = _export_event(self, expand)
    obj.setdefault("pending_webhooks", 1)
    obj.setdefault("request", {"id": None, "idempotency_key": None})
    return obj


resources.Event._export = _export_event_like_stripe

# Confirm rejects payment_method= with 500 "Not implemented" and client_secret=
# (what Stripe.js sends) with 400; Stripe attaches the method, checks the
# secret, and refuses a PaymentIntent in the wrong state with
# payment_intent_unexpected_state.
_confirm_intent = resources.PaymentIntent._api_confirm.__func__
UNEXPECTED_STATE = {"code": "payment_intent_unexpected_state"}


def _confirm_with_payment_method(cls, id, payment_method=None, client_secret=None, **kwargs):
    intent = cls._api_retrieve(id)
    if client_secret is not None and client_secret != intent.client_secret:
        raise UserError(400, "The client_secret provided does not match the client_secret associated with the "
                             "PaymentIntent.", {"param": "client_secret"})
    if payment_method is not None:
        try:
            resources.PaymentMethod._api_retrieve(payment_method)
        except UserError:
            raise UserError(400, f"No such PaymentMethod: '{payment_method}'",
                            {"code": "resource_missing", "param": "payment_method"})
    if intent.status not in ("requires_payment_method", "requires_confirmation"):
        raise UserError(400, "This PaymentIntent's status does not allow confirmation.", dict(UNEXPECTED_STATE))
    if payment_method is not None:
        intent.payment_method = payment_method
        intent.latest_charge = None
    return _confirm_intent(cls, id, **kwargs)


# Cancel refuses a succeeded or canceled PaymentIntent with a bare 400; Stripe
# says payment_intent_unexpected_state.
_cancel_intent = resources.PaymentIntent._api_cancel.__func__


def _cancel_like_stripe(cls, id, **kwargs):
    intent = cls._api_retrieve(id)
    if intent.status in ("succeeded", "canceled", "processing"):
        raise UserError(400, f"You cannot cancel this PaymentIntent because it has a status of {intent.status}.",
                        dict(UNEXPECTED_STATE))
    obj = _cancel_intent(cls, id, **kwargs)
    resources.schedule_webhook(resources.Event("payment_intent.canceled", obj))
    return obj


resources.PaymentIntent._api_cancel = classmethod(_cancel_like_stripe)

# Refunds may exceed what is left of the charge, refund the whole charge when
# no amount is given, fail with a 500 for an intent without a charge, and
# send no charge.refunded event. Stripe refuses the first and third with a
# 400, refunds what is left by default, and announces each refund.
_refund_init = resources.Refund.__init__


def _refund_like_stripe(self, charge=None, payment_intent=None, amount=None, **kwargs):
    if payment_intent is not None:
        intent = resources.PaymentIntent._api_retrieve(payment_intent)
        if intent.status != "succeeded" or intent.latest_charge is None:
            raise UserError(400, "This PaymentIntent does not have a successful charge to refund.",
                            {"param": "payment_intent"})
        charge_obj = intent.latest_charge
    else:
        charge_obj = resources.Charge._api_retrieve(charge) if charge else None
    if charge_obj is not None:
        left = charge_obj.amount - charge_obj.amount_refunded
        if left <= 0:
            raise UserError(400, f"Charge {charge_obj.id} has already been refunded.",
                            {"code": "charge_already_refunded"})
        wanted = resources.try_convert_to_int(amount) if amount is not None else left
        if isinstance(wanted, int) and wanted > left:
            raise UserError(400, f"Refund amount ({wanted}) is greater than unrefunded amount on charge ({left}).",
                            {"param": "amount"})
        amount = wanted
    _refund_init(self, charge=charge, payment_intent=payment_intent, amount=amount, **kwargs)
    if charge_obj is not None:
        resources.schedule_webhook(resources.Event("charge.refunded", charge_obj))


resources.Refund.__init__ = _refund_like_stripe

resources.PaymentIntent._api_confirm = classmethod(_confirm_with_payment_method)
# Routes are bound from this list when the server module loads, below.
resources.extra_apis[:] = [
    (method, url, resources.PaymentIntent._api_confirm if url == "/v1/payment_intents/{id}/confirm" else func)
    for method, url, func in resources.extra_apis
]

# Every error says type=invalid_request_error; a declined card is a 402
# card_error carrying decline_code and the PaymentIntent.
_user_error_init = UserError.__init__


def _user_error_with_type(self, code, message=None, contents=None):
    error_type = (contents or {}).pop("type", None) if contents else None
    _user_error_init(self, code, message, contents)
    if error_type:
        self.body["error"]["type"] = error_type


UserError.__init__ = _user_error_with_type


def _raise_card_error(self):
    contents = {"type": "card_error", "code": "card_declined", "decline_code": self.failure_code,
                "charge": self.id}
    intent_id = getattr(self, "payment_intent", None)
    if intent_id:
        contents["payment_intent"] = resources.PaymentIntent._api_retrieve(intent_id)._export()
    raise UserError(402, self.failure_message, contents)


resources.Charge._raise_failure = _raise_card_error

# The Idempotency-Key header is ignored: replay the first answer to a POST
# with the same key, and answer 409 while a request with that key is still
# in flight, as Stripe does.
_answers: dict[str, tuple[int, bytes]] = {}
_in_flight: set[str] = set()


@web.middleware
async def idempotency(request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or request.path.startswith("/_config"):
        return await handler(request)
    if key in _answers:
        status, body = _answers[key]
        return web.Response(status=status, body=body, content_type="application/json",
                            headers={"Idempotent-Replayed": "true"})
    if key in _in_flight:
        return web.json_response({"error": {
            "type": "invalid_request_error", "code": "idempotency_key_in_use",
            "message": "There is currently another in-progress request using this Stripe API key and "
                       "idempotency key. Please try again later."}}, status=409)
    _in_flight.add(key)
    try:
        response = await handler(request)
        _answers[key] = (response.status, response.body)
        return response
    finally:
        _in_flight.discard(key)


# Test-only, not a divergence: POST /_test/answers queues the answer Stripe
# gives to the next `times` requests whose path or Idempotency-Key contains
# `match` (an id unique to one test), so tests can meet every kind of answer
# Stripe documents: declines, 409s, 429s, 5xx, invalid states, and so on.
_queued: list[dict] = []


async def queue_answer(request):
    form = await request.post()
    _queued.append({
        "match": form["match"], "status": int(form["status"]), "times": int(form.get("times", 1)),
        "error": {key: form[key] for key in ("type", "code", "message", "param", "decline_code") if form.get(key)},
    })
    return web.json_response({"queued": True})


@web.middleware
async def queued_answers(request, handler):
    if not request.path.startswith(("/_config", "/_test")):
        key = request.headers.get("Idempotency-Key", "")
        for answer in _queued:
            if answer["times"] > 0 and (answer["match"] in request.path or answer["match"] in key):
                answer["times"] -= 1
                return web.json_response({"error": answer["error"]}, status=answer["status"])
    return await handler(request)


from localstripe import server  # noqa: E402  (binds the routes patched above)


# Stripe's test card 4000000000000259 ("the charge succeeds, then is
# disputed") just succeeds here. Stripe marks the charge disputed and sends
# charge.dispute.created.
_DISPUTED_CARD = "4000000000000259"
_on_intent_success = resources.PaymentIntent._on_success


class _Dispute:
    def __init__(self, charge):
        self.charge = charge

    def _export(self, expand=None):
        return {"id": "dp_" + resources.random_id(14), "object": "dispute", "amount": self.charge.amount,
                "charge": self.charge.id, "payment_intent": self.charge.payment_intent,
                "currency": self.charge.currency, "reason": "fraudulent", "status": "needs_response",
                "created": int(time.time()), "livemode": False, "is_charge_refundable": False, "metadata": {}}


def _on_success_then_disputed(self):
    _on_intent_success(self)
    method = resources.PaymentMethod._api_retrieve(self.payment_method)
    if getattr(method, "_card_number", None) == _DISPUTED_CARD:
        self.latest_charge._disputed = True
        resources.schedule_webhook(resources.Event("charge.dispute.created", _Dispute(self.latest_charge)))


resources.PaymentIntent._on_success = _on_success_then_disputed

# Stripe.js confirms a PaymentIntent in the browser with the publishable key
# (`key=pk_...` in the form) and the intent's client secret; localstripe
# accepts a publishable key only for tokens, sources and its own 3-D Secure
# page, and answers 401.
_BROWSER_CONFIRM = re.compile(r"^/v1/payment_intents/\w+/confirm$")


@web.middleware
async def publishable_key_confirm(request, handler):
    if request.path.startswith("/_test/"):
        return await handler(request)
    if request.method == "POST" and _BROWSER_CONFIRM.match(request.path) and "Authorization" not in request.headers:
        form = await request.post()
        if str(form.get("key", "")).startswith("pk_") and form.get("client_secret"):
            return await handler(request)
    return await server.auth_middleware(request, handler)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    auth = server.app.middlewares.index(server.auth_middleware)
    server.app.middlewares[auth] = publishable_key_confirm
    server.app.middlewares.insert(0, idempotency)
    server.app.middlewares.insert(0, queued_answers)
    server.app.router.add_post("/_test/answers", queue_answer)
    logging.basicConfig(level=logging.INFO)
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=logging.getLogger("aiohttp.access"))


if __name__ == "__main__":
    main()
