#!/usr/bin/env python3
"""localstripe, patched where it differs from Stripe in ways async-stripe 1.x
or this API depends on, and served on 127.0.0.1 only.

    localstripe_launcher.py --port 8420

Each patch below names the divergence it closes. Nothing here is specific to
this project's requests: it makes localstripe answer as Stripe documents.
"""

import argparse
import json
import logging

from aiohttp import web

import localstripe.resources as resources
from localstripe.errors import UserError

# It pickles its store to /tmp/localstripe.pickle on every change: keep it in memory.
resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

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
    obj.setdefault("disputed", False)
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

# Confirm rejects payment_method= with 500 "Not implemented"; Stripe attaches it.
_confirm_intent = resources.PaymentIntent._api_confirm.__func__


def _confirm_with_payment_method(cls, id, payment_method=None, **kwargs):
    if payment_method is not None:
        intent = cls._api_retrieve(id)
        try:
            resources.PaymentMethod._api_retrieve(payment_method)
        except UserError:
            raise UserError(400, f"No such PaymentMethod: '{payment_method}'",
                            {"code": "resource_missing", "param": "payment_method"})
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(400, "This PaymentIntent's status does not allow confirmation.",
                            {"code": "payment_intent_unexpected_state"})
        intent.payment_method = payment_method
        intent.latest_charge = None
    return _confirm_intent(cls, id, **kwargs)


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


from localstripe import server  # noqa: E402  (binds the routes patched above)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    server.app.middlewares.insert(0, idempotency)
    logging.basicConfig(level=logging.INFO)
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=logging.getLogger("aiohttp.access"))


if __name__ == "__main__":
    main()
