"""A faithful YooKassa API v3 simulator (see reference/payments.md §1 and §11).

Basic auth; `Idempotence-Key` (same key + same body: same answer; different body: 400; forgotten
after 24 h of sandbox time); payments `pending -> succeeded | canceled`; list with cursor;
refunds (the same key rules); notifications redelivered until 200 from a configurable source address.
Controls: `pay`, `cancel`, `expire`, `refund`, `notify` (forged or replayed events), `faults`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.clock import MovableClock
from sandbox.delivery import WebhookSender

ALLOWED_SOURCE = "185.71.76.5"  # inside 185.71.76.0/27
FOREIGN_SOURCE = "203.0.113.7"
KEY_TTL = timedelta(hours=24)
Creator = Callable[[dict[str, Any]], "dict[str, Any] | JSONResponse"]


def _error(status: int, code: str, description: str, parameter: str | None = None) -> JSONResponse:
    body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
    if parameter:
        body["parameter"] = parameter
    return JSONResponse(body, status_code=status)


def _receipt_ok(receipt: Any) -> bool:
    if not isinstance(receipt, dict):
        return False
    customer = receipt.get("customer") or {}
    return bool(
        isinstance(customer, dict)
        and (customer.get("email") or customer.get("phone"))
        and receipt.get("items")
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeYooKassa(MovableClock):
    def __init__(self, shop_id: str = "100500", secret_key: str = "test_secret", base_url: str = "") -> None:
        self.shop_id = shop_id
        self.secret_key = secret_key
        self.base_url = base_url
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, tuple[str, datetime, int, dict[str, Any]]] = {}
        self.webhooks = WebhookSender(headers=lambda _body: {"X-Forwarded-For": self.source_ip})
        self.source_ip = ALLOWED_SOURCE
        self.require_receipt = True  # the shop has fiscalisation on
        # Next calls' failures: (HTTP status, True to fail after doing the work: outcome unknown).
        self.faults: list[tuple[int, bool]] = []
        self.calls: list[str] = []
        self.app = self._build()

    # Controls --------------------------------------------------------------------------------

    def pay(self, payment_id: str) -> None:
        payment = self.payments[payment_id]
        assert payment["status"] == "pending", payment["status"]
        net = Decimal(payment["amount"]["value"]) * Decimal("0.965")
        payment.update(
            status="succeeded",
            paid=True,
            refundable=True,
            captured_at=_stamp(self.now()),
            income_amount={"value": f"{net:.2f}", "currency": payment["amount"]["currency"]},
            payment_method={"type": "bank_card", "id": payment_id, "saved": False, "title": "Card *4477"},
        )
        self.notify("payment.succeeded", payment)

    def cancel(self, payment_id: str, reason: str = "canceled_by_merchant") -> None:
        payment = self.payments[payment_id]
        assert payment["status"] in ("pending", "waiting_for_capture"), payment["status"]
        payment.update(status="canceled", cancellation_details={"party": "yoo_money", "reason": reason})
        self.notify("payment.canceled", payment)

    def expire(self, payment_id: str) -> None:
        self.cancel(payment_id, "expired_on_confirmation")

    def refund(self, payment_id: str, amount: Decimal | None = None) -> str:
        payment = self.payments[payment_id]
        value = amount if amount is not None else Decimal(payment["amount"]["value"])
        refund = self._refund(payment, value)
        self.notify("refund.succeeded", refund)
        return str(refund["id"])

    def notify(self, event: str, obj: dict[str, Any]) -> None:
        body = {"type": "notification", "event": event, "object": obj}
        self.webhooks.send(json.dumps(body).encode())

    def by_order(self, order_id: str) -> dict[str, Any]:
        return next(p for p in self.payments.values() if p["metadata"].get("order_id") == order_id)

    # API -------------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.shop_id}:{self.secret_key}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def _fault(self, before: bool) -> JSONResponse | None:
        if self.faults and self.faults[0][1] is not before:
            status, _after = self.faults.pop(0)
            return (
                _error(status, "internal_server_error", "sandbox fault")
                if status >= 500
                else JSONResponse({"type": "processing", "retry_after": 100}, status_code=status)
            )
        return None

    def _refund(self, payment: dict[str, Any], value: Decimal) -> dict[str, Any]:
        refund = {
            "id": str(uuid.uuid4()),
            "payment_id": payment["id"],
            "status": "succeeded",
            "amount": {"value": f"{value:.2f}", "currency": payment["amount"]["currency"]},
            "created_at": _stamp(self.now()),
        }
        self.refunds[refund["id"]] = refund
        refunded = Decimal(payment["refunded_amount"]["value"]) + value
        payment["refunded_amount"]["value"] = f"{refunded:.2f}"
        payment["refundable"] = refunded < Decimal(payment["amount"]["value"])
        return refund

    def _create(self, body: dict[str, Any]) -> dict[str, Any] | JSONResponse:
        amount = body.get("amount") or {}
        try:
            value = Decimal(str(amount.get("value")))
        except InvalidOperation:
            return _error(400, "invalid_request", "amount.value is not a number", "amount.value")
        if value <= 0 or value != value.quantize(Decimal("0.01")) or len(amount.get("currency", "")) != 3:
            return _error(400, "invalid_request", "bad amount", "amount")
        if len(body.get("description", "")) > 128:
            return _error(400, "invalid_request", "description too long", "description")
        metadata = body.get("metadata") or {}
        if len(metadata) > 16 or any(len(k) > 32 or len(str(v)) > 512 for k, v in metadata.items()):
            return _error(400, "invalid_request", "bad metadata", "metadata")
        if (body.get("confirmation") or {}).get("type") != "redirect":
            return _error(400, "invalid_request", "confirmation.type must be redirect here", "confirmation")
        if self.require_receipt and not _receipt_ok(body.get("receipt")):
            return _error(400, "invalid_request", "Receipt is missing or illegal", "receipt")
        payment_id = f"{uuid.uuid4()}"
        payment = {
            "id": payment_id, "status": "pending", "paid": False,
            "amount": {"value": f"{value:.2f}", "currency": amount["currency"]},
            "confirmation": {"type": "redirect", "return_url": body["confirmation"].get("return_url"),
                             "confirmation_url": f"{self.base_url}/checkout/{payment_id}"},
            "created_at": _stamp(self.now()), "description": body.get("description", ""),
            "metadata": metadata, "recipient": {"account_id": self.shop_id, "gateway_id": "1"},
            "refundable": False, "refunded_amount": {"value": "0.00", "currency": amount["currency"]},
            "test": self.secret_key.startswith("test_"),
        }  # fmt: skip
        if self.require_receipt:
            payment["receipt_registration"] = "pending"
        self.payments[payment_id] = payment
        return payment

    def _create_refund(self, body: dict[str, Any]) -> dict[str, Any] | JSONResponse:
        payment = self.payments.get(str(body.get("payment_id", "")))
        if payment is None:
            return _error(404, "not_found", "payment not found", "payment_id")
        amount = body.get("amount") or {}
        try:
            value = Decimal(str(amount.get("value")))
        except InvalidOperation:
            return _error(400, "invalid_request", "amount.value is not a number", "amount.value")
        if value <= 0 or value != value.quantize(Decimal("0.01")):
            return _error(400, "invalid_request", "bad amount", "amount")
        if amount.get("currency") != payment["amount"]["currency"]:
            return _error(400, "invalid_request", "currency differs from the payment's", "amount.currency")
        if payment["status"] != "succeeded":
            return _error(400, "invalid_request", "payment is not succeeded", "payment_id")
        if payment.get("receipt_registration") and not _receipt_ok(body.get("receipt")):
            # The payment was fiscalised: its refund needs a receipt too.
            return _error(400, "invalid_request", "Receipt is missing or illegal", "receipt")
        remaining = Decimal(payment["amount"]["value"]) - Decimal(payment["refunded_amount"]["value"])
        if not payment["refundable"] or value > remaining:
            return _error(400, "invalid_request", "refund amount exceeds what is left", "amount.value")
        created = self._refund(payment, value)
        created["description"] = str(body.get("description", ""))[:250]
        self.notify("refund.succeeded", created)
        return created

    async def _keyed(self, request: Request, create: Creator) -> Any:
        """`Idempotence-Key`: the same key and body answer the first result as it was then (a repeat
        never shows a later status); the same key with another body is refused."""
        key = request.headers.get("idempotence-key", "")
        if not key or len(key) > 64:
            return _error(400, "invalid_request", "Idempotence-Key is required", "Idempotence-Key")
        raw = await request.body()
        digest = hashlib.sha256(raw).hexdigest()
        slot = f"{request.url.path} {key}"
        known = self.keys.get(slot)
        if known and self.now() - known[1] < KEY_TTL:
            if known[0] != digest:
                return _error(400, "invalid_request", "Idempotence key duplicated", "Idempotence-Key")
            return self._fault(before=False) or JSONResponse(known[3], status_code=known[2])
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "invalid_request", "body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "body is not a JSON object")
        result = create(body)
        if isinstance(result, JSONResponse):
            return result
        self.keys[slot] = (digest, self.now(), 200, copy.deepcopy(result))
        return self._fault(before=False) or result

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def guard(request: Request, call_next: Any) -> Any:
            if not request.url.path.startswith("/v3/"):
                return await call_next(request)
            self.calls.append(f"{request.method} {request.url.path}")
            if not self._authorized(request):
                return _error(401, "invalid_credentials", "Authentication error")
            return self._fault(before=True) or await call_next(request)

        @app.post("/v3/payments")
        async def create(request: Request) -> Any:
            return await self._keyed(request, self._create)

        @app.get("/v3/payments/{payment_id}")
        async def get(payment_id: str) -> Any:
            payment = self.payments.get(payment_id)
            return payment if payment else _error(404, "not_found", "payment not found")

        @app.get("/v3/payments")
        async def listing(request: Request) -> Any:
            query = request.query_params
            items = sorted(self.payments.values(), key=lambda p: p["created_at"], reverse=True)
            if query.get("status"):
                items = [p for p in items if p["status"] == query["status"]]
            if query.get("created_at.gte"):
                items = [p for p in items if p["created_at"] >= query["created_at.gte"][:23]]
            start = int(query.get("cursor") or 0)
            limit = min(int(query.get("limit") or 10), 100)
            page = items[start : start + limit]
            more = start + limit < len(items)
            return {"type": "list", "items": page, **({"next_cursor": str(start + limit)} if more else {})}

        @app.post("/v3/refunds")
        async def refund(request: Request) -> Any:
            return await self._keyed(request, self._create_refund)

        @app.get("/v3/refunds/{refund_id}")
        async def get_refund(refund_id: str) -> Any:
            refund = self.refunds.get(refund_id)
            return refund if refund else _error(404, "not_found", "refund not found")

        @app.get("/checkout/{payment_id}")
        async def checkout(payment_id: str) -> Any:
            """The page a customer's browser lands on: opening it pays (the demo's customer)."""
            payment = self.payments.get(payment_id)
            if payment is None:
                return _error(404, "not_found", "payment not found")
            if payment["status"] == "pending":
                self.pay(payment_id)
            return {"status": payment["status"], "amount": payment["amount"]}

        return app
