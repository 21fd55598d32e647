"""Crypto Pay (@CryptoBot): fiat RUB invoices bound to our payment id, webhook HMAC."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from decimal import Decimal
from typing import Any

from shop.models import PaymentMethod
from shop.payments import http
from shop.payments.base import NewPayment, ProviderPayment, ProviderRejected, ProviderStatus

SIGNATURE_HEADER = "crypto-pay-api-signature"
PAGE = 1000

_STATUS = {
    "active": ProviderStatus.PENDING,
    "paid": ProviderStatus.SUCCEEDED,
    "expired": ProviderStatus.EXPIRED,
}


def signature(token: str, raw_body: bytes) -> str:
    key = hashlib.sha256(token.encode()).digest()
    return hmac.new(key, raw_body, hashlib.sha256).hexdigest()


def signature_valid(token: str, raw_body: bytes, received: str | None) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII text, and a header may carry anything.
    given = (received or "").lower().encode("utf-8", "replace")
    return bool(received) and hmac.compare_digest(signature(token, raw_body).encode(), given)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def parse_invoice(body: dict[str, Any]) -> ProviderPayment:
    fiat = body.get("currency_type") == "fiat"
    return ProviderPayment(
        provider_payment_id=str(body["invoice_id"]),
        status=_STATUS.get(body["status"], ProviderStatus.PENDING),
        amount=Decimal(str(body["amount"])),
        currency=(body.get("fiat") if fiat else body.get("asset")) or "",
        order_ref=body.get("payload"),
        pay_url=body.get("bot_invoice_url") or body.get("pay_url"),
        expires_at=_when(body.get("expiration_date")),
    )


class CryptoPay:
    method = PaymentMethod.CRYPTOPAY

    def __init__(
        self, token: str, api_url: str, accepted_assets: str, invoice_seconds: int, timeout: float = 10.0
    ) -> None:
        self.http = http.client(api_url, timeout, headers={"Crypto-Pay-API-Token": token})
        self.accepted_assets = accepted_assets
        self.invoice_seconds = invoice_seconds

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        body = (await http.send(self.http, "POST", method, json=params)).json()
        if not body.get("ok"):
            raise ProviderRejected(f"{method}: {body.get('error')}")
        return body["result"]

    async def create(self, order: NewPayment) -> ProviderPayment:
        # createInvoice has no idempotency key: the caller records the invoice id before retrying.
        result = await self._call(
            "createInvoice",
            {
                "currency_type": "fiat",
                "fiat": order.currency,
                "accepted_assets": self.accepted_assets,
                "amount": f"{order.amount:.2f}",
                "description": order.description[:1024],
                "payload": order.payment_id,
                "expires_in": self.invoice_seconds,
                "allow_anonymous": False,
            },
        )
        return parse_invoice(result)

    async def fetch(self, provider_payment_id: str) -> ProviderPayment:
        result = await self._call("getInvoices", {"invoice_ids": provider_payment_id})
        items = result.get("items", [])
        if not items:
            raise ProviderRejected(f"invoice {provider_payment_id} not found")
        return parse_invoice(items[0])

    async def list_paid(self, since: datetime) -> list[ProviderPayment]:
        found: list[ProviderPayment] = []
        offset = 0
        while True:
            result = await self._call("getInvoices", {"status": "paid", "offset": offset, "count": PAGE})
            items = result.get("items", [])
            for item in items:
                created = _when(item.get("created_at"))
                if created is None or created >= since:
                    found.append(parse_invoice(item))
            if len(items) < PAGE:
                return found
            offset += PAGE
