"""Payment webhooks: authenticate, hand the hint to the payment's workflow, answer at once.

Forged or unauthenticated: 401/403 and nothing changes. Malformed: 400. Authentic but of no use
to us: 200 and a log line (anything else buys a day of redeliveries or a disabled webhook).
5xx only when the hint could not be recorded durably, so the provider retries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from functools import wraps

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from temporalio.service import RPCError

from api.client_ip import client_ip, parse_networks
from api.payloads import parse_object
from shop.context import AppContext
from shop.metrics.counters import WEBHOOKS, webhook_outcome
from shop.models import PaymentMethod
from shop.payments import cryptopay, yookassa
from shop.payments.hint_lookup import HintLookup
from shop.payments.hints import Delivery, check_provider, start_refund
from shop.payments.timeline import EventKind, note
from workflows.refund import RefundInput

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks")


def _answer(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": status == 200, "detail": message}, status_code=status)


def _counted(
    provider: str,
) -> Callable[[Callable[[Request], Awaitable[JSONResponse]]], Callable[[Request], Awaitable[JSONResponse]]]:
    """Counts each answer of the route by its outcome (shop/metrics)."""

    def decorate(
        route: Callable[[Request], Awaitable[JSONResponse]],
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        @wraps(route)
        async def counted(request: Request) -> JSONResponse:
            answer = await route(request)
            detail = json.loads(bytes(answer.body)).get("detail", "")
            WEBHOOKS.labels(provider, webhook_outcome(answer.status_code, str(detail))).inc()
            return answer

        return counted

    return decorate


def _text(value: object) -> str | None:
    """A provider's identifier: a non-empty string or number, as text (never a nested value)."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)[:200]


async def _hint(
    ctx: AppContext,
    hints: HintLookup,
    method: PaymentMethod,
    provider_id: str,
    order_ref: str | None,
    event: str,
) -> JSONResponse:
    if hints.closed(method, provider_id):  # a duplicate of a closed payment: no query, no Temporal
        return _answer(200, Delivery.CLOSED.value)
    # Copies of this event share one delivery (shop/payments/hint_lookup.py).
    status, detail = await hints.once(
        (method, provider_id, event), lambda: _deliver(ctx, hints, method, provider_id, order_ref)
    )
    return _answer(status, detail)


async def _deliver(
    ctx: AppContext, hints: HintLookup, method: PaymentMethod, provider_id: str, order_ref: str | None
) -> tuple[int, str]:
    try:
        payment = await hints.find(method, provider_id, order_ref)
        if payment is None:
            log.warning("%s webhook for unknown payment %s (ref %r): ignored", method, provider_id, order_ref)
            return 200, "unknown payment"
        # On the timeline before the workflow hears it, so the check it triggers comes after. (The
        # duplicates of a closed payment answered from memory above are not: its story is over.)
        await note(hints.sessions, payment.id, EventKind.WEBHOOK, f"{method.value}: authentic", "webhook")
        client = ctx.require_temporal()
        delivery = await check_provider(client, ctx.settings.temporal_task_queue, payment, source="webhook")
    except (SQLAlchemyError, RPCError, RuntimeError) as error:
        log.error("%s webhook for %s not recorded: %s", method, provider_id, error)
        return 503, "not recorded, retry later"
    return 200, delivery.value


async def _refused(hints: HintLookup, method: PaymentMethod, raw: bytes, why: str) -> None:
    """A refused hint still names a payment in its (untrusted) body: the payment's timeline says it
    came and why it was refused. Nothing else is done with it."""
    body = parse_object(raw) or {}
    inner = body.get("object") if method is PaymentMethod.YOOKASSA else body.get("payload")
    if not isinstance(inner, dict):
        return
    provider_id = _text(inner.get("id") if method is PaymentMethod.YOOKASSA else inner.get("invoice_id"))
    metadata = inner.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    ref = metadata.get("order_id") if method is PaymentMethod.YOOKASSA else inner.get("payload")
    try:
        payment = await hints.find(method, provider_id, ref if isinstance(ref, str) else None)
    except SQLAlchemyError:
        return
    if payment is not None:
        await note(hints.sessions, payment.id, EventKind.WEBHOOK_REFUSED, f"{method.value}: {why}", "webhook")


@router.post("/yookassa")
@_counted("yookassa")
async def yookassa_webhook(request: Request) -> JSONResponse:
    ctx: AppContext = request.app.state.ctx
    source = client_ip(request, parse_networks(ctx.settings.trusted_proxies))
    if not yookassa.is_notification_source(source):
        log.warning("yookassa webhook from %s refused: not a YooKassa address", source)
        why = f"source address {source} not allowed"
        await _refused(request.app.state.hints, PaymentMethod.YOOKASSA, await request.body(), why)
        return _answer(403, "source address not allowed")
    body = parse_object(await request.body())
    event = body.get("event") if body else None
    obj = body.get("object") if body else None
    if not isinstance(event, str) or not isinstance(obj, dict) or _text(obj.get("id")) is None:
        return _answer(400, "expected {event, object: {id, ...}}")
    provider_id = str(_text(obj["id"]))
    if event.startswith("payment."):
        metadata = obj.get("metadata") or {}
        order_ref = metadata.get("order_id") if isinstance(metadata, dict) else None
        if not isinstance(metadata, dict) or not isinstance(order_ref, str | None):
            return _answer(400, "expected object.metadata to be an object with a string order_id")
        hints = request.app.state.hints
        return await _hint(ctx, hints, PaymentMethod.YOOKASSA, provider_id, order_ref, event)
    if event == "refund.succeeded" and obj.get("payment_id"):
        payment_id = _text(obj["payment_id"])
        if payment_id is None:
            return _answer(400, "expected object.payment_id to be a string")
        return await _refund(ctx, request.app.state.hints, payment_id, provider_id)
    log.info("yookassa %r event ignored", event[:100])
    return _answer(200, "ignored")


async def _refund(
    ctx: AppContext, hints: HintLookup, provider_payment_id: str, refund_id: str
) -> JSONResponse:
    try:
        payment = await hints.find(PaymentMethod.YOOKASSA, provider_payment_id, None)
        if payment is None:
            log.warning("yookassa refund %s for unknown payment %s: ignored", refund_id, provider_payment_id)
            return _answer(200, "unknown payment")
        inp = RefundInput(
            payment_id=payment.id, refund_key=f"yookassa-refund:{refund_id}", provider_refund_id=refund_id
        )
        delivery = await start_refund(ctx.require_temporal(), ctx.settings.temporal_task_queue, inp)
    except (SQLAlchemyError, RPCError, RuntimeError) as error:
        log.error("yookassa refund %s not recorded: %s", refund_id, error)
        return _answer(503, "not recorded, retry later")
    return _answer(200, delivery.value)


@router.post("/cryptopay")
@_counted("cryptopay")
async def cryptopay_webhook(request: Request) -> JSONResponse:
    ctx: AppContext = request.app.state.ctx
    token = ctx.settings.cryptopay_token
    if token is None:
        return _answer(403, "crypto pay is not configured")
    raw = await request.body()
    if not cryptopay.signature_valid(
        token.get_secret_value(), raw, request.headers.get(cryptopay.SIGNATURE_HEADER)
    ):
        log.warning("crypto pay webhook with a bad signature refused")
        await _refused(request.app.state.hints, PaymentMethod.CRYPTOPAY, raw, "bad signature")
        return _answer(401, "bad signature")
    body = parse_object(raw)
    invoice = body.get("payload") if body else None
    invoice_id = _text(invoice.get("invoice_id")) if isinstance(invoice, dict) else None
    if body is None or not isinstance(invoice, dict) or invoice_id is None:
        return _answer(400, "expected {update_type, payload: {invoice_id, ...}}")
    if body.get("update_type") != "invoice_paid":
        log.info("crypto pay %r update ignored", str(body.get("update_type"))[:100])
        return _answer(200, "ignored")
    order_ref = invoice.get("payload") if isinstance(invoice.get("payload"), str) else None
    hints = request.app.state.hints
    return await _hint(ctx, hints, PaymentMethod.CRYPTOPAY, invoice_id, order_ref, "invoice_paid")
