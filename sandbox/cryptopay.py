"""A faithful Crypto Pay API simulator (see reference/payments.md §2 and §11).

`Crypto-Pay-API-Token` auth; `createInvoice` without idempotency; `getInvoices`,
`deleteInvoice`, `transfer` (`spend_id` once); invoices `active -> paid | expired`, expiry sends
no webhook; `invoice_paid` updates signed with HMAC-SHA256(SHA256(token), raw body), an
`update_id` that repeats across invoices, redelivery with 17 attempts, then the webhook is off.
"""

from __future__ import annotations

import itertools
import json
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.clock import MovableClock
from sandbox.delivery import WebhookSender
from shop.payments.cryptopay import SIGNATURE_HEADER, signature

FIATS = {"USD", "EUR", "RUB", "BYN", "UAH", "KZT", "UZS", "GEL", "TRY", "AMD"}
ASSETS = {"USDT", "TON", "BTC", "ETH", "LTC", "BNB", "TRX", "USDC", "JET"}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _fail(name: str, code: int = 400) -> JSONResponse:
    return JSONResponse({"ok": False, "error": {"code": code, "name": name}}, status_code=code)


class FakeCryptoPay(MovableClock):
    def __init__(self, token: str = "12345:AAsandbox") -> None:
        self.token = token
        self.invoices: dict[int, dict[str, Any]] = {}
        self.spends: dict[str, dict[str, Any]] = {}
        self.ids = itertools.count(528890)
        self.update_ids = itertools.cycle(range(4711, 4716))  # "non-unique update ID"
        self.webhooks = WebhookSender(
            headers=lambda body: {SIGNATURE_HEADER: signature(self.token, body)}, max_attempts=17
        )
        self.calls: list[str] = []
        self.app = self._build()

    # Controls --------------------------------------------------------------------------------

    def pay(self, invoice_id: int, asset: str = "USDT") -> None:
        invoice = self._current(invoice_id)
        assert invoice["status"] == "active", invoice["status"]
        rate = Decimal("92.0")
        invoice.update(
            status="paid",
            paid_at=_stamp(self.now()),
            paid_asset=asset,
            paid_amount=f"{Decimal(invoice['amount']) / rate:.2f}",
            paid_fiat_rate=str(rate),
            fee_asset=asset,
            fee_amount="0.0975",
            paid_anonymously=False,
        )
        self.send_update(invoice)

    def send_update(self, invoice: dict[str, Any]) -> None:
        update = {
            "update_id": next(self.update_ids),
            "update_type": "invoice_paid",
            "request_date": _stamp(self.now()),
            "payload": invoice,
        }
        self.webhooks.send(json.dumps(update).encode())

    def by_payload(self, payload: str) -> dict[str, Any]:
        return next(i for i in self.invoices.values() if i.get("payload") == payload)

    def _current(self, invoice_id: int) -> dict[str, Any]:
        invoice = self.invoices[invoice_id]
        if invoice["status"] == "active" and self.now() >= datetime.fromisoformat(
            invoice["expiration_date"].replace("Z", "+00:00")
        ):
            invoice["status"] = "expired"  # silently: no webhook for expiry
        return invoice

    # API -------------------------------------------------------------------------------------

    def _create(self, params: dict[str, Any]) -> dict[str, Any] | JSONResponse:
        currency_type = params.get("currency_type", "crypto")
        if currency_type == "fiat" and params.get("fiat") not in FIATS:
            return _fail("FIAT_INVALID")
        if currency_type == "crypto" and params.get("asset") not in ASSETS:
            return _fail("ASSET_INVALID")
        try:
            amount = Decimal(str(params.get("amount")))
        except InvalidOperation:
            return _fail("AMOUNT_INVALID")
        if amount <= 0:
            return _fail("AMOUNT_INVALID")
        if len(str(params.get("payload", "")).encode()) > 4096:
            return _fail("PAYLOAD_TOO_LONG")
        if len(str(params.get("description", ""))) > 1024:
            return _fail("DESCRIPTION_TOO_LONG")
        expires_in = int(params.get("expires_in", 2678400))
        if not 1 <= expires_in <= 2678400:
            return _fail("EXPIRES_IN_INVALID")
        invoice_id = next(self.ids)
        invoice_hash = secrets.token_urlsafe(9)
        invoice: dict[str, Any] = {
            "invoice_id": invoice_id,
            "hash": invoice_hash,
            "currency_type": currency_type,
            "amount": str(params["amount"]),
            "bot_invoice_url": f"https://t.me/CryptoBot?start={invoice_hash}",
            "mini_app_invoice_url": f"https://t.me/CryptoBot/app?startapp=invoice-{invoice_hash}",
            "status": "active",
            "created_at": _stamp(self.now()),
            "expiration_date": _stamp(self.now() + timedelta(seconds=expires_in)),
            "allow_comments": params.get("allow_comments", True),
            "allow_anonymous": params.get("allow_anonymous", True),
            "description": params.get("description", ""),
        }
        invoice["fiat" if currency_type == "fiat" else "asset"] = params.get("fiat") or params.get("asset")
        if params.get("accepted_assets"):
            invoice["accepted_assets"] = str(params["accepted_assets"]).split(",")
        if "payload" in params:
            invoice["payload"] = str(params["payload"])
        self.invoices[invoice_id] = invoice
        return invoice

    def _get(self, params: dict[str, Any]) -> dict[str, Any]:
        items = [self._current(i) for i in sorted(self.invoices, reverse=True)]
        if params.get("invoice_ids"):
            wanted = {int(x) for x in str(params["invoice_ids"]).split(",") if x}
            items = [i for i in items if i["invoice_id"] in wanted]
        if params.get("status"):
            items = [i for i in items if i["status"] == params["status"]]
        offset, count = int(params.get("offset", 0)), min(int(params.get("count", 100)), 1000)
        return {"items": items[offset : offset + count]}

    def _transfer(self, params: dict[str, Any]) -> dict[str, Any] | JSONResponse:
        spend_id = str(params.get("spend_id", ""))
        if not spend_id or len(spend_id) > 64:
            return _fail("SPEND_ID_INVALID")
        if spend_id in self.spends:
            return _fail("SPEND_ID_ALREADY_USED")  # accepted once per app
        transfer = {
            "transfer_id": len(self.spends) + 1,
            "spend_id": spend_id,
            "user_id": int(params["user_id"]),
            "asset": params["asset"],
            "amount": str(params["amount"]),
            "status": "completed",
            "completed_at": _stamp(self.now()),
        }
        self.spends[spend_id] = transfer
        return transfer

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/api/{method}", methods=["GET", "POST"])
        async def call(method: str, request: Request) -> Any:
            self.calls.append(method)
            if request.headers.get("crypto-pay-api-token") != self.token:
                return _fail("UNAUTHORIZED", 401)
            params: dict[str, Any] = dict(request.query_params)
            if request.method == "POST":
                if request.headers.get("content-type", "").startswith("application/json"):
                    params.update(await request.json())
                else:
                    params.update(dict(await request.form()))
            if method == "createInvoice":
                result: Any = self._create(params)
            elif method == "getInvoices":
                result = self._get(params)
            elif method == "deleteInvoice":
                result = self.invoices.pop(int(params.get("invoice_id", 0)), None) is not None
            elif method == "transfer":
                result = self._transfer(params)
            elif method == "getMe":
                result = {
                    "app_id": 1,
                    "name": "vpnshop sandbox",
                    "payment_processing_bot_username": "CryptoBot",
                }
            else:
                return _fail("METHOD_NOT_FOUND", 404)
            if isinstance(result, JSONResponse):
                return result
            return {"ok": True, "result": result}

        return app
