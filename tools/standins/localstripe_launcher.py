#!/usr/bin/env python3
"""localstripe, patched where it differs from Stripe in ways a Stripe client
or this API depends on, and served on 127.0.0.1 only.

    .venv/bin/python -m tools.standins.localstripe_launcher --port 8420

Each patch below names the divergence it closes. Nothing here is specific to
this project's requests: it makes localstripe answer as Stripe documents.

The emulated account's default API version is 2026-09-30.endive (what a
request without a `Stripe-Version` header gets); a request may name another
version in `Stripe-Version`, and the version-dependent rules below (default
automatic payment methods, the removal of `payment_method_types`) follow it.

Test-only hooks (not divergences: Stripe has nothing like them, and no
client of Stripe calls them):

- `POST /_test/answers` (form `match`, `status`, `times`, and the error's
  `type`, `code`, `message`, `param`, `decline_code`): the next `times`
  requests whose path or Idempotency-Key contains `match` get that answer.
- `POST /_test/clock` (form `advance=<seconds>`, optional `match`): moves the
  emulator's "now" forward, for the 24-hour life of idempotent results; with
  `match`, only the results whose key contains it age. Objects' `created`
  stays real time, and the `created` filters of lists compare with it.
- `POST /_test/hold` (form `match`, `seconds`, optional `times` default 1,
  `method` default POST): the next `times` requests with that method whose
  path contains `match` run as usual (Stripe acts, the idempotent result is
  saved), then their answer is held back `seconds` before it is sent; other
  requests go on meanwhile. For "Stripe acted but its answer is late or never
  reached the caller": kill the caller during the hold, retry with the same
  Idempotency-Key, get the saved answer. A replayed answer is held too; a
  `/_test/answers` answer is neither held nor uses up a hold.

Known divergences (where this emulator stays more lenient than Stripe, or
cannot know what Stripe knows):

- raw card numbers are accepted (`POST /v1/payment_methods` with
  `card[number]`); Stripe refuses them from servers unless raw card data APIs
  are enabled, and wants test PaymentMethods (`pm_card_*`) or tokens
  (https://docs.stripe.com/testing#cards);
- only the test PaymentMethods listed in `_TEST_PAYMENT_METHODS` exist, every
  card's brand is `visa`, and a `pm_card_*` id makes a new PaymentMethod on
  each use, as at Stripe, but the PaymentIntent keeps the `pm_card_*` name;
- `automatic_payment_methods` and `allowed_payment_method_types` compute
  nothing: `payment_method_types` is `["card"]`, or the allowed list as given
  (Stripe drops the types incompatible with the amount, currency, customer);
  an intent limited by `allowed_payment_method_types` never asks for a
  `return_url`, whatever the types;
- `off_session=true` is accepted on confirm but changes nothing: a card that
  needs 3-D Secure still goes to `requires_action` (Stripe declines it with
  `authentication_required`), and `next_action` is always `use_stripe_sdk`
  (Stripe answers `redirect_to_url` when a `return_url` is given);
- SetupIntents refuse `payment_method_types` at endive, but their confirm
  asks for no `return_url` and they have no `automatic_payment_methods`;
- the `Stripe-Version` header is not checked against the versions that exist,
  and events still say localstripe's `api_version` 2017-08-15 (Stripe renders
  them at the account's or the endpoint's version);
- refunds of `pm_card_refundFail` payments fail 0.5 s after they are created
  (Stripe: "shortly after", asynchronously); no other refund ever fails or is
  `pending`; refunds cannot be canceled;
- error messages we could not find in Stripe's documentation (the
  `payment_method_types_no_longer_supported` one, the mutually exclusive
  parameters, a list's `limit` out of range or unknown cursor) are worded
  here, with Stripe's codes and params;
- only the PaymentIntent and refund lists are newest first and take
  `ending_before` and `created`; the other lists come oldest first, and
  take no `ending_before`;
- `GET /v1/payment_intents?customer=` naming no customer lists nothing (what
  Stripe answers is not documented); `include[]=total_count` and the
  `customer_account` filter are not taken.
"""

import argparse
import asyncio
import contextvars
import json
import logging
import operator
import re
import time

from aiohttp import web

import localstripe.resources as resources
from localstripe.errors import UserError

# The version a request runs at: its Stripe-Version header, else the account's.
ACCOUNT_API_VERSION = "2026-09-30.endive"
_api_version = contextvars.ContextVar("stripe_version", default=ACCOUNT_API_VERSION)
# Whether the request was authenticated with a publishable key (Stripe.js).
_publishable = contextvars.ContextVar("publishable_key", default=False)


def _version_at_least(date: str) -> bool:
    return _api_version.get()[:10] >= date


@web.middleware
async def stripe_version(request, handler):
    token = _api_version.set(request.headers.get("Stripe-Version") or ACCOUNT_API_VERSION)
    try:
        return await handler(request)
    finally:
        _api_version.reset(token)


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
# unless expanded; last_payment_error has a type and the decline code.
_export_intent = resources.PaymentIntent._export


def _export_intent_like_stripe(self, expand=None):
    obj = _export_intent(self, expand)
    charge = self.latest_charge
    obj.setdefault("amount_capturable", 0)
    obj["amount_received"] = self.amount if obj["status"] == "succeeded" else 0
    obj.setdefault("confirmation_method", "automatic")
    obj.setdefault("automatic_payment_methods", None)
    obj.setdefault("allowed_payment_method_types", None)
    obj["payment_method_types"] = obj.get("allowed_payment_method_types") or obj.get("payment_method_types") or ["card"]
    if isinstance(obj.get("latest_charge"), dict) and "latest_charge" not in (expand or []):
        obj["latest_charge"] = charge.id
    if obj.get("last_payment_error"):
        obj["last_payment_error"].setdefault("type", "card_error")
        if charge is not None and getattr(charge, "failure_code", None):
            decline_code = getattr(charge, "_decline_code", None) or charge.failure_code
            obj["last_payment_error"].setdefault("decline_code", decline_code)
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


# Stripe: "Passing `payment_method_types` on this API version returns a 400
# error with the code `payment_method_types_no_longer_supported`", on
# PaymentIntent create, update and confirm and SetupIntent create and update
# (https://docs.stripe.com/changelog/endive/2026-09-30/removes-the-payment-method-types-parameter-from-payment-intents-and-setup-intents).
# localstripe takes the parameter (and ignores it on PaymentIntents).
def _refuse_payment_method_types(payment_method_types):
    if payment_method_types is not None and _version_at_least("2026-09-30"):
        raise UserError(400, "The `payment_method_types` parameter is no longer supported on API version "
                             f"{_api_version.get()}. Use dynamic payment methods, `allowed_payment_method_types` "
                             "or `excluded_payment_method_types` instead.",
                        {"code": "payment_method_types_no_longer_supported", "param": "payment_method_types"})


_setup_intent_init = resources.SetupIntent.__init__


def _setup_intent_init_like_stripe(self, *args, payment_method_types=None, **kwargs):
    _refuse_payment_method_types(payment_method_types)
    _setup_intent_init(self, *args, payment_method_types=payment_method_types, **kwargs)


resources.SetupIntent.__init__ = _setup_intent_init_like_stripe
_update_object = resources.StripeObject._api_update.__func__


def _update_setup_intent_like_stripe(cls, id, payment_method_types=None, **data):
    _refuse_payment_method_types(payment_method_types)
    if payment_method_types is not None:
        data["payment_method_types"] = payment_method_types
    return _update_object(cls, id, **data)


resources.SetupIntent._api_update = classmethod(_update_setup_intent_like_stripe)


# Stripe: since API version 2023-08-16 a PaymentIntent created without
# `payment_method_types` has `automatic_payment_methods` enabled, and
# confirming it needs a `return_url` unless `off_session=true` or it was
# created with `automatic_payment_methods[allow_redirects]=never`
# (https://docs.stripe.com/changelog/2023-08-16/automatic-payment-methods).
# `allowed_payment_method_types` (from 2026-07-29) is mutually exclusive with
# `payment_method_types` and `automatic_payment_methods`
# (https://docs.stripe.com/changelog/dahlia/2026-07-29/allowed-payment-method-types-parameter).
# localstripe refuses both parameters with a 400 "Unexpected", and
# `return_url` and `off_session` on confirm.
RETURN_URL_REQUIRED = (
    "A `return_url` must be specified because this Payment Intent is configured to automatically accept the "
    "payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you "
    "do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.")


def _read_automatic_payment_methods(value, allowed_types, payment_method_types):
    """The intent's automatic_payment_methods, from the create parameters."""
    if value is None:
        if allowed_types is None and payment_method_types is None and _version_at_least("2023-08-16"):
            return {"enabled": True, "allow_redirects": "always"}
        return None
    if allowed_types is not None or payment_method_types is not None:
        other = "allowed_payment_method_types" if allowed_types is not None else "payment_method_types"
        raise UserError(400, f"You may only specify one of these parameters: automatic_payment_methods, {other}.",
                        {"param": "automatic_payment_methods"})
    if not isinstance(value, dict):
        raise UserError(400, "Invalid object", {"code": "parameter_invalid_empty",
                                                "param": "automatic_payment_methods"})
    for key in value:
        if key not in ("enabled", "allow_redirects"):
            raise UserError(400, f"Received unknown parameter: automatic_payment_methods[{key}]",
                            {"code": "parameter_unknown", "param": f"automatic_payment_methods[{key}]"})
    if "enabled" not in value:
        raise UserError(400, "Missing required param: automatic_payment_methods[enabled].",
                        {"code": "parameter_missing", "param": "automatic_payment_methods[enabled]"})
    enabled = resources.try_convert_to_bool(value["enabled"])
    if not isinstance(enabled, bool):
        raise UserError(400, "Invalid boolean: " + str(value["enabled"]),
                        {"param": "automatic_payment_methods[enabled]"})
    # Stricter than we could confirm: with payment_method_types gone, an intent
    # without automatic payment methods would accept no payment method at all.
    if not enabled and _version_at_least("2026-09-30"):
        raise UserError(400, "`automatic_payment_methods[enabled]` must be `true` on API version "
                             f"{_api_version.get()}; use `allowed_payment_method_types` to limit the payment "
                             "methods.", {"param": "automatic_payment_methods[enabled]"})
    redirects = value.get("allow_redirects", "always")
    if redirects not in ("always", "never"):
        raise UserError(400, "Invalid automatic_payment_methods[allow_redirects]: must be one of always or never",
                        {"param": "automatic_payment_methods[allow_redirects]"})
    return {"enabled": enabled, "allow_redirects": redirects} if enabled else {"enabled": False}


def _read_allowed_types(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(t, str) and t for t in value):
        raise UserError(400, "Invalid array", {"param": "allowed_payment_method_types"})
    return value


def _read_off_session(value):
    value = resources.try_convert_to_bool(value)
    if value is None or value is False:
        return False
    if value is True or value in ("one_off", "recurring"):
        return True
    raise UserError(400, f"Invalid off_session: {value}", {"param": "off_session"})


def _require_return_url(methods, return_url, off_session):
    """Refuses a server-side confirmation that Stripe would refuse for want of a return_url."""
    if return_url is not None and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$", str(return_url)):
        raise UserError(400, "Not a valid URL", {"code": "url_invalid", "param": "return_url"})
    methods = methods or {}
    if (methods.get("enabled") and methods.get("allow_redirects") == "always" and return_url is None
            and not off_session and not _publishable.get()):
        raise UserError(400, RETURN_URL_REQUIRED, {"param": "return_url"})


_create_intent = resources.PaymentIntent._api_create.__func__


def _create_intent_like_stripe(cls, confirm=None, off_session=None, return_url=None, automatic_payment_methods=None,
                               allowed_payment_method_types=None, payment_method_types=None, **data):
    _refuse_payment_method_types(payment_method_types)
    allowed = _read_allowed_types(allowed_payment_method_types)
    methods = _read_automatic_payment_methods(automatic_payment_methods, allowed, payment_method_types)
    if allowed is not None and payment_method_types is not None:
        raise UserError(400, "You may only specify one of these parameters: allowed_payment_method_types, "
                             "payment_method_types.", {"param": "allowed_payment_method_types"})
    confirm = resources.try_convert_to_bool(confirm)
    if confirm not in (None, True, False):
        raise UserError(400, f"Invalid boolean: {confirm}", {"param": "confirm"})
    if off_session is not None and confirm is not True:
        raise UserError(400, "You can only pass `off_session` when `confirm=true`.", {"param": "off_session"})
    if return_url is not None and confirm is not True:
        raise UserError(400, "You can only pass `return_url` when `confirm=true`.", {"param": "return_url"})
    off_session = _read_off_session(off_session)
    if payment_method_types is not None:  # an older API version: localstripe takes (and ignores) it
        data["payment_method_types"] = payment_method_types
    if confirm:
        _require_return_url(methods, return_url, off_session)
    obj = _create_intent(cls, **data)
    obj.automatic_payment_methods = methods
    obj.allowed_payment_method_types = allowed
    if confirm:
        obj._confirm(on_failure_now=obj._report_failure)
    return obj


resources.PaymentIntent._api_create = classmethod(_create_intent_like_stripe)


def _update_intent_like_stripe(cls, id, payment_method_types=None, automatic_payment_methods=None,
                               allowed_payment_method_types=None, **data):
    _refuse_payment_method_types(payment_method_types)
    if automatic_payment_methods is not None:
        raise UserError(400, "Received unknown parameter: automatic_payment_methods",
                        {"code": "parameter_unknown", "param": "automatic_payment_methods"})
    if allowed_payment_method_types is not None:
        intent = cls._api_retrieve(id)
        if (getattr(intent, "automatic_payment_methods", None) or {}).get("enabled"):
            raise UserError(400, "You may only specify one of these parameters: allowed_payment_method_types, "
                                 "automatic_payment_methods.", {"param": "allowed_payment_method_types"})
        data["allowed_payment_method_types"] = _read_allowed_types(allowed_payment_method_types)
    if payment_method_types is not None:
        data["payment_method_types"] = payment_method_types
    if not data:
        return cls._api_retrieve(id)
    return _update_object(cls, id, **data)


resources.PaymentIntent._api_update = classmethod(_update_intent_like_stripe)

# Confirm rejects payment_method= with 500 "Not implemented" and client_secret=
# (what Stripe.js sends) with 400; Stripe attaches the method, checks the
# secret, and refuses a PaymentIntent in the wrong state with
# payment_intent_unexpected_state. It also takes return_url and off_session
# (see above), and Stripe.js's use_stripe_sdk.
_confirm_intent = resources.PaymentIntent._api_confirm.__func__
UNEXPECTED_STATE = {"code": "payment_intent_unexpected_state"}


def _confirm_with_payment_method(cls, id, payment_method=None, client_secret=None, return_url=None,
                                 off_session=None, use_stripe_sdk=None, payment_method_types=None, **kwargs):
    _refuse_payment_method_types(payment_method_types)
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
    _require_return_url(getattr(intent, "automatic_payment_methods", None), return_url, _read_off_session(off_session))
    if intent.status not in ("requires_payment_method", "requires_confirmation"):
        raise UserError(400, "This PaymentIntent's status does not allow confirmation.", dict(UNEXPECTED_STATE))
    if payment_method is not None:
        intent.payment_method = payment_method
        intent.latest_charge = None
    if return_url is not None:
        intent._return_url = return_url
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
# send no event. Stripe refuses the first with amount_too_large and a fully
# refunded charge with charge_already_refunded
# (https://docs.stripe.com/error-codes), the third with a 400, refunds what
# is left by default, and sends charge.refunded and, for every refund,
# refund.created (https://docs.stripe.com/changelog/acacia/2024-10-28/refund-webhook-update).
# The refund names its PaymentIntent even when created from the charge, and
# takes metadata and reason (https://docs.stripe.com/api/refunds/object).
_refund_init = resources.Refund.__init__
REFUND_FAIL_CARD = "4000000000005126"
REFUND_FAIL_DELAY = 0.5  # seconds from creation to failure, for pm_card_refundFail


def _money(cents, currency):
    return f"${cents / 100:.2f}" if currency == "usd" else f"{cents / 100:.2f} {str(currency).upper()}"


def _refund_like_stripe(self, charge=None, payment_intent=None, amount=None, reason=None, **kwargs):
    if reason is not None and reason not in ("duplicate", "fraudulent", "requested_by_customer"):
        raise UserError(400, "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                        {"param": "reason"})
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
            raise UserError(400, f"Refund amount ({_money(wanted, charge_obj.currency)}) is greater than unrefunded "
                                 f"amount on charge ({_money(left, charge_obj.currency)})",
                            {"code": "amount_too_large", "param": "amount"})
        amount = wanted
    _refund_init(self, charge=charge, payment_intent=payment_intent, amount=amount, **kwargs)
    self.payment_intent = self.payment_intent or (charge_obj.payment_intent if charge_obj is not None else None)
    self.reason = reason
    self.failure_reason = None
    resources.schedule_webhook(resources.Event("refund.created", self))
    if charge_obj is not None:
        resources.schedule_webhook(resources.Event("charge.refunded", charge_obj))
        method = resources.PaymentMethod._api_retrieve(charge_obj.payment_method)
        if getattr(method, "_card_number", None) == REFUND_FAIL_CARD:
            asyncio.get_event_loop().call_later(REFUND_FAIL_DELAY, _fail_refund, self)


resources.Refund.__init__ = _refund_like_stripe


# Stripe: the refundFail test card's refunds "appear to be successful at
# first" and then fail asynchronously with failure_reason
# expired_or_canceled_card; the refund's status becomes failed, the money
# returns to the balance (failure_balance_transaction), and refund.updated,
# refund.failed and charge.refund.updated are sent
# (https://docs.stripe.com/testing#refunds, https://docs.stripe.com/refunds#failed-refunds).
# localstripe has no failed refunds, and counts every refund as refunded.
def _fail_refund(refund):
    if refund.status != "succeeded":
        return
    txn = resources.BalanceTransaction(amount=refund.amount, currency=refund.currency,
                                       description="REFUND FAILURE FOR CHARGE", exchange_rate=1.0,
                                       reporting_category="refund", source=refund.id, type="refund")
    txn.type = txn.reporting_category = "refund_failure"
    refund.status = "failed"
    refund.failure_reason = "expired_or_canceled_card"
    refund.failure_balance_transaction = txn.id
    for event in ("refund.updated", "refund.failed", "charge.refund.updated"):
        resources.schedule_webhook(resources.Event(event, refund))


resources.Charge.amount_refunded = property(
    lambda self: sum(refund.amount for refund in self.refunds._list if refund.status != "failed"))
_export_refund = resources.Refund._export


def _export_refund_like_stripe(self, expand=None):
    obj = _export_refund(self, expand)
    for key in ("payment_intent", "reason", "failure_reason"):
        obj.setdefault(key, None)
    return obj


resources.Refund._export = _export_refund_like_stripe

# Stripe: list methods "return objects in reverse chronological order" ("the
# most recently created object is the first one"); `limit` "can range between
# 1 and 100, and the default is 10"; `starting_after` and `ending_before` are
# object IDs that define your place in the list: the one returns the objects
# listed after it (the next page), the other those listed before it (the
# previous page), and "these parameters are mutually exclusive"; `has_more`
# "indicates if there are additional objects that weren't returned"
# (https://docs.stripe.com/api/pagination, https://docs.stripe.com/pagination).
# `created` is "a filter on the list, based on the object created field. The
# value can be a string with an integer Unix timestamp or a dictionary" of
# `gt`/`gte` ("minimum value to filter by", exclusive/inclusive) and
# `lt`/`lte` (maximum, exclusive/inclusive); PaymentIntents filter by
# `customer` ("only return PaymentIntents for the customer that this customer
# ID specifies"), refunds by `charge` and `payment_intent`
# (https://docs.stripe.com/api/payment_intents/list, https://docs.stripe.com/api/refunds/list).
# "Expansions on list requests start with the data property"
# (`expand[]=data.latest_charge`, https://docs.stripe.com/api/expanding_objects).
# localstripe lists PaymentIntents oldest first and refuses `customer`,
# `created` and `ending_before` on them; on refunds it takes no `created` nor
# `ending_before`, answers a 500 for an intent without a charge, and only
# looks at an intent's latest charge; an unknown cursor starts the list over,
# a `limit` above 100 is taken. The wording of the `limit` errors and of an
# unknown cursor (resource_missing, https://docs.stripe.com/error-codes) is ours.
MAX_LIST_LIMIT = 100
_CREATED_RANGE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


class _ListLikeStripe(resources.List):
    """One page of a list; `_list` keeps every matching object, newest first
    (Charge.amount_refunded sums the charge's refunds from it)."""

    def __init__(self, url, matching, page, has_more):
        super().__init__(url)
        self._list = matching
        self._page = page
        self._has_more = has_more

    @property
    def data(self):
        return [item._export() for item in self._page]

    @property
    def has_more(self):
        return self._has_more

    def _export(self, expand=None):
        obj = super()._export(expand)
        obj.pop("total_count", None)  # only with include[]=total_count, which we do not take
        return obj


def _read_id(value, param):
    if value is None:
        return None
    if not isinstance(value, str):
        raise UserError(400, f"Invalid string: {value}", {"param": param})
    if not value:
        raise UserError(400, f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
                             f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
                             "from your request or supply a non-empty value.",
                        {"code": "parameter_invalid_empty", "param": param})
    return value


def _read_integer(value, param):
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    raise UserError(400, f"Invalid integer: {value}", {"code": "parameter_invalid_integer", "param": param})


def _read_limit(limit):
    if limit is None:
        return 10
    value = _read_integer(limit, "limit")
    if value < 1:
        raise UserError(400, f"This value must be greater than or equal to 1 (it currently is '{value}').",
                        {"param": "limit"})
    if value > MAX_LIST_LIMIT:
        raise UserError(400, f"This value must be less than or equal to {MAX_LIST_LIMIT} (it currently is "
                             f"'{value}').", {"param": "limit"})
    return value


def _read_created(created):
    """The tests an object's `created` must pass: `created=<ts>` or created[gt|gte|lt|lte]=<ts>."""
    if created is None:
        return []
    if not isinstance(created, dict):
        exact = _read_integer(created, "created")
        return [lambda obj: obj.created == exact]
    tests = []
    for op, value in created.items():
        if op not in _CREATED_RANGE:
            raise UserError(400, f"Received unknown parameter: created[{op}]",
                            {"code": "parameter_unknown", "param": f"created[{op}]"})
        bound = _read_integer(value, f"created[{op}]")
        tests.append(lambda obj, compare=_CREATED_RANGE[op], bound=bound: compare(obj.created, bound))
    return tests


def _list_like_stripe(cls, url, matches, limit=None, starting_after=None, ending_before=None):
    """The objects of `cls` passing `matches`, newest first, paged like Stripe."""
    limit = _read_limit(limit)
    starting_after = _read_id(starting_after, "starting_after")
    ending_before = _read_id(ending_before, "ending_before")
    if starting_after is not None and ending_before is not None:
        raise UserError(400, "You may only specify one of these parameters: ending_before, starting_after.",
                        {"param": "ending_before"})
    prefix = cls.object + ":"
    # Newest first; objects created in the same second keep the order they were made in, reversed.
    ordered = sorted(((obj.created, n, obj) for n, (key, obj) in enumerate(resources.store.items())
                      if key.startswith(prefix)), key=lambda entry: entry[:2], reverse=True)
    rank = {id(obj): n for n, (_, _, obj) in enumerate(ordered)}
    matching = [obj for _, _, obj in ordered if matches(obj)]
    page, has_more = matching[:limit], len(matching) > limit
    cursor, param = (starting_after, "starting_after") if starting_after is not None else (ending_before,
                                                                                          "ending_before")
    if cursor is not None:
        at = resources.store.get(prefix + cursor)
        if at is None:
            raise UserError(400, f"No such {cls.object}: '{cursor}'", {"code": "resource_missing", "param": param})
        if param == "starting_after":
            after = [obj for obj in matching if rank[id(obj)] > rank[id(at)]]
            page, has_more = after[:limit], len(after) > limit
        else:
            before = [obj for obj in matching if rank[id(obj)] < rank[id(at)]]
            page, has_more = before[-limit:], len(before) > limit
    return _ListLikeStripe(url, matching, page, has_more)


def _list_intents_like_stripe(cls, url, customer=None, created=None, limit=None, starting_after=None,
                              ending_before=None, **kwargs):
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    customer = _read_id(customer, "customer")
    tests = _read_created(created)
    if customer is not None:
        tests.append(lambda intent: intent.customer == customer)
    return _list_like_stripe(cls, url, lambda intent: all(test(intent) for test in tests), limit, starting_after,
                             ending_before)


resources.PaymentIntent._api_list_all = classmethod(_list_intents_like_stripe)


def _list_refunds_like_stripe(cls, url, charge=None, payment_intent=None, created=None, limit=None,
                              starting_after=None, ending_before=None, **kwargs):
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    charge = _read_id(charge, "charge")
    payment_intent = _read_id(payment_intent, "payment_intent")
    tests = _read_created(created)
    if charge is not None:
        resources.Charge._api_retrieve(charge)  # a 404 if it does not exist
        tests.append(lambda refund: refund.charge == charge)
    if payment_intent is not None:
        resources.PaymentIntent._api_retrieve(payment_intent)
        tests.append(lambda refund: refund.payment_intent == payment_intent)
    return _list_like_stripe(cls, url, lambda refund: all(test(refund) for test in tests), limit, starting_after,
                             ending_before)


resources.Refund._api_list_all = classmethod(_list_refunds_like_stripe)

resources.PaymentIntent._api_confirm = classmethod(_confirm_with_payment_method)
# Routes are bound from this list when the server module loads, below; it
# holds the functions as they were, so the patched ones are put in.
_PATCHED_ROUTES = {
    "/v1/payment_intents/{id}/confirm": resources.PaymentIntent._api_confirm,
    "/v1/payment_intents/{id}/cancel": resources.PaymentIntent._api_cancel,
}
resources.extra_apis[:] = [(method, url, _PATCHED_ROUTES.get(url, func)) for method, url, func in resources.extra_apis]

# Every error says type=invalid_request_error; a declined card is a 402
# card_error carrying decline_code and the PaymentIntent. An unknown
# parameter is Stripe's parameter_unknown (https://docs.stripe.com/error-codes),
# not a bare "Unexpected x".
_user_error_init = UserError.__init__


def _user_error_with_type(self, code, message=None, contents=None):
    error_type = (contents or {}).pop("type", None) if contents else None
    if code == 400 and not contents and str(message).startswith("Unexpected "):
        param = message[len("Unexpected "):].split(", ")[0]
        message, contents = f"Received unknown parameter: {param}", {"code": "parameter_unknown", "param": param}
    _user_error_init(self, code, message, contents)
    if error_type:
        self.body["error"]["type"] = error_type


UserError.__init__ = _user_error_with_type


def _raise_card_error(self):
    contents = {"type": "card_error", "code": self.failure_code or "card_declined",
                "decline_code": getattr(self, "_decline_code", None) or self.failure_code, "charge": self.id}
    intent_id = getattr(self, "payment_intent", None)
    if intent_id:
        contents["payment_intent"] = resources.PaymentIntent._api_retrieve(intent_id)._export()
    raise UserError(402, self.failure_message, contents)


resources.Charge._raise_failure = _raise_card_error

# Stripe's test PaymentMethods (https://docs.stripe.com/testing): localstripe
# knows pm_card_visa, pm_card_visa_chargeDeclined and
# pm_card_chargeCustomerFail. Each name stands for its documented card
# number, whose behaviour the patches here reproduce.
_TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_threeDSecureRequiredChargeDeclined": "4000008400001629",
    "pm_card_createDispute": "4000000000000259",
    "pm_card_refundFail": REFUND_FAIL_CARD,
}


def _test_payment_method(cls, id):
    number = _TEST_PAYMENT_METHODS.get(id)
    if number is None:
        return None
    return resources.PaymentMethod(type="card", card={"number": number, "exp_month": "12", "exp_year": "2034",
                                                      "cvc": "123"})


resources.PaymentMethod._try_get_canonical_test_article = classmethod(_test_payment_method)

# Stripe: the declining test cards decline a payment with their documented
# code and decline_code (4000000000000002 generic_decline, ...,
# https://docs.stripe.com/testing#declined-payments); localstripe lets a
# PaymentIntent charge 4000000000000002 and the other attach-declining cards,
# and calls every decline card_declined.
_DECLINES = {  # card number: (code, decline_code, message)
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": ("processing_error", "processing_error",
                         "An error occurred while processing your card. Try again in a little bit."),
    "4242424242424241": ("incorrect_number", "incorrect_number", "Your card number is incorrect."),
    "4000008400001629": ("card_declined", "generic_decline", "Your card was declined."),
    "4000008260003178": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
}
_charging_is_declined = resources.PaymentMethod._charging_is_declined
_attaching_is_declined = resources.PaymentMethod._attaching_is_declined
resources.PaymentMethod._charging_is_declined = lambda self: _charging_is_declined(self) or _attaching_is_declined(self)


def _set_decline_like_stripe(self):
    method = resources.PaymentMethod._api_retrieve(self.payment_method)
    code, decline_code, message = _DECLINES.get(getattr(method, "_card_number", None),
                                                ("card_declined", "generic_decline", "Your card was declined."))
    self.status = "failed"
    self.failure_code, self._decline_code, self.failure_message = code, decline_code, message


resources.Charge._set_auth_failure = _set_decline_like_stripe


# Stripe: "Subsequent requests with the same key return the same result,
# including 500 errors"; keys are pruned after 24 hours; "the idempotency
# layer compares incoming parameters to those of the original request and
# errors if they're not the same"; results are saved only once an endpoint
# began executing: not when "incoming parameters fail validation, or the
# request conflicts with another request that's executing concurrently"
# (https://docs.stripe.com/api/idempotent_requests, https://docs.stripe.com/idempotency).
# A request whose key is in flight gets a 409 idempotency_key_in_use.
# localstripe ignores the Idempotency-Key header.
IDEMPOTENCY_TTL = 24 * 60 * 60
# 400s refusing a request's parameters, before any endpoint ran.
_VALIDATION_CODES = {"parameter_missing", "parameter_unknown", "parameter_invalid_empty", "parameter_invalid_integer",
                     "parameter_invalid_string_blank", "parameter_invalid_string_empty", "url_invalid",
                     "resource_missing", "payment_method_types_no_longer_supported"}
_answers: dict[str, dict] = {}
_in_flight: set[str] = set()
_clock_offset = 0.0  # moved forward by POST /_test/clock


def _now() -> float:
    return time.time() + _clock_offset


async def _fingerprint(request) -> tuple:
    query = sorted(request.query.items(), key=lambda kv: kv[0])
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        body = sorted(((k, str(v)) for k, v in form.items()), key=lambda kv: kv[0])
    else:
        body = await request.read()
    return request.method, request.path, tuple(query), body if isinstance(body, bytes) else tuple(body)


def _is_saved(status: int, body: bytes) -> bool:
    if status in (401, 403, 429):
        return False  # refused before any endpoint ran
    if status != 400:
        return True
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    if error.get("type") == "idempotency_error":
        return False
    if error.get("type") == "invalid_request_error":
        return bool(error.get("code")) and error["code"] not in _VALIDATION_CODES
    return True


def _idempotency_error(message):
    return web.json_response({"error": {"type": "idempotency_error", "message": message}}, status=400)


@web.middleware
async def idempotency(request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or request.path.startswith(("/_config", "/_test")):
        return await handler(request)
    fingerprint = await _fingerprint(request)
    saved = _answers.get(key)
    if saved is not None and saved["at"] + IDEMPOTENCY_TTL <= _now():
        del _answers[key]
        saved = None
    if saved is not None:
        if saved["fingerprint"][1] != request.path:
            return _idempotency_error(
                f"Keys for idempotent requests can only be used for the same endpoint they were first used for "
                f"('{request.path}' vs '{saved['fingerprint'][1]}'). Try using a key other than '{key}' if you "
                f"meant to execute a different request.")
        if saved["fingerprint"] != fingerprint:
            return _idempotency_error(
                f"Keys for idempotent requests can only be used with the same parameters they were first used "
                f"with. Try using a key other than '{key}' if you meant to execute a different request.")
        return web.Response(status=saved["status"], body=saved["body"], content_type="application/json",
                            headers={"Idempotent-Replayed": "true", "Idempotency-Key": key})
    if key in _in_flight:
        return web.json_response({"error": {
            "type": "invalid_request_error", "code": "idempotency_key_in_use",
            "message": "There is currently another in-progress request using this Stripe API key and "
                       "idempotency key. Please try again later."}}, status=409)
    _in_flight.add(key)
    try:
        response = await handler(request)
        if _is_saved(response.status, response.body):
            _answers[key] = {"status": response.status, "body": response.body, "fingerprint": fingerprint,
                             "at": _now()}
        return response
    finally:
        _in_flight.discard(key)


# Test-only, not a divergence: POST /_test/clock with `advance=<seconds>`
# moves the emulator's "now" forward (for the idempotency store only), so
# tests can let a key's 24 hours pass. With `match`, only the saved results
# whose key contains it age, so tests running side by side keep theirs.
async def advance_clock(request):
    global _clock_offset
    form = await request.post()
    try:
        seconds = float(form["advance"])
    except (KeyError, ValueError):
        return web.json_response({"error": {"type": "invalid_request_error", "param": "advance",
                                            "message": "advance=<seconds> is required"}}, status=400)
    if seconds < 0:
        return web.json_response({"error": {"type": "invalid_request_error", "param": "advance",
                                            "message": "the clock only moves forward"}}, status=400)
    if form.get("match"):
        for key, saved in _answers.items():
            if form["match"] in key:
                saved["at"] -= seconds
        return web.json_response({"now": int(_now()), "offset": _clock_offset})
    _clock_offset += seconds
    return web.json_response({"now": int(_now()), "offset": _clock_offset})


# Test-only, not a divergence: POST /_test/answers queues the answer Stripe
# gives to the next `times` requests whose path or Idempotency-Key contains
# `match` (an id unique to one test), so tests can meet every kind of answer
# Stripe documents: declines, 409s, 429s, 5xx, invalid states, and so on.
# It sits outside the idempotency middleware: queued answers are never saved.
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


# Test-only, not a divergence: POST /_test/hold (form `match`, `seconds`,
# `times` default 1, `method` default POST) holds back the answer to the next
# `times` requests with that method whose path contains `match`. Each runs as
# usual (Stripe acts: the object is created, confirmed or refunded, and the
# idempotency layer saves the result), and only then does its answer wait
# `seconds` before it leaves, without holding up any other request. So tests
# meet "Stripe acted, but its answer came late or never reached the caller":
# kill the caller while the answer is held, retry with the same
# Idempotency-Key, and get the saved answer. It sits outside the idempotency
# middleware and inside /_test/answers: a replayed answer is held too, a
# queued answer neither is held nor uses up a hold.
_holds: list[dict] = []


def _test_form_error(param, message):
    return web.json_response({"error": {"type": "invalid_request_error", "param": param, "message": message}},
                             status=400)


async def queue_hold(request):
    form = await request.post()
    if not form.get("match"):
        return _test_form_error("match", "match=<part of the request path> is required")
    try:
        seconds = float(form["seconds"])
        assert seconds >= 0 and seconds == seconds
    except (KeyError, ValueError, AssertionError):
        return _test_form_error("seconds", "seconds=<seconds, at least 0> is required")
    try:
        times = int(form.get("times", 1))
        assert times >= 1
    except (ValueError, AssertionError):
        return _test_form_error("times", "times must be a whole number, at least 1")
    method = str(form.get("method") or "POST").upper()
    if method not in ("GET", "POST", "DELETE"):
        return _test_form_error("method", "method must be GET, POST or DELETE")
    hold = {"match": form["match"], "seconds": seconds, "times": times, "method": method}
    _holds.append(hold)
    return web.json_response({"held": True, **hold})


@web.middleware
async def held_answers(request, handler):
    hold = None
    if not request.path.startswith(("/_config", "/_test")):
        for candidate in _holds:
            if candidate["method"] == request.method and candidate["match"] in request.path:
                hold = candidate
                hold["times"] -= 1
                if hold["times"] <= 0:
                    _holds.remove(hold)
                break
    if hold is None:
        return await handler(request)
    try:
        response = await handler(request)
    except asyncio.CancelledError:
        raise
    except Exception:  # aiohttp's own HTTP errors (an unknown route) are answers too
        await _hold_answer(request, hold)
        raise
    await _hold_answer(request, hold)
    return response


async def _hold_answer(request, hold):
    logging.getLogger("localstripe_launcher").info("holding the answer to %s %s for %.2f s", request.method,
                                                   request.path, hold["seconds"])
    await asyncio.sleep(hold["seconds"])


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
            token = _publishable.set(True)
            try:
                return await handler(request)
            finally:
                _publishable.reset(token)
    return await server.auth_middleware(request, handler)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    auth = server.app.middlewares.index(server.auth_middleware)
    server.app.middlewares[auth] = publishable_key_confirm
    server.app.middlewares.insert(0, idempotency)
    server.app.middlewares.insert(0, held_answers)
    server.app.middlewares.insert(0, queued_answers)
    server.app.middlewares.insert(0, stripe_version)
    server.app.router.add_post("/_test/answers", queue_answer)
    server.app.router.add_post("/_test/clock", advance_clock)
    server.app.router.add_post("/_test/hold", queue_hold)
    logging.basicConfig(level=logging.INFO)
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=logging.getLogger("aiohttp.access"))


if __name__ == "__main__":
    main()
