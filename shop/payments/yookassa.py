"""YooKassa API v3: redirect payments with a receipt, re-fetch, list, refunds."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from decimal import Decimal
from typing import Any

from shop.models import PaymentMethod
from shop.payments import http
from shop.payments.base import NewPayment, ProviderPayment, ProviderRefund, ProviderStatus, ReceiptFor

# The documented notification sources (not the SDK's narrower IPv6 list).
NOTIFICATION_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "185.71.76.0/27",
        "185.71.77.0/27",
        "77.75.153.0/25",
        "77.75.156.11/32",
        "77.75.156.35/32",
        "77.75.154.128/25",
        "2a02:5180::/32",
    )
)

_STATUS = {
    "pending": ProviderStatus.PENDING,
    "waiting_for_capture": ProviderStatus.PENDING,  # we create with capture=true: never expected
    "succeeded": ProviderStatus.SUCCEEDED,
    "canceled": ProviderStatus.CANCELED,
}


def is_notification_source(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in NOTIFICATION_NETWORKS)


def money(value: Decimal) -> dict[str, str]:
    return {"value": f"{value:.2f}"}


def parse_payment(body: dict[str, Any]) -> ProviderPayment:
    confirmation = body.get("confirmation") or {}
    return ProviderPayment(
        provider_payment_id=str(body["id"]),
        status=_STATUS.get(body["status"], ProviderStatus.PENDING),
        amount=Decimal(body["amount"]["value"]),
        currency=body["amount"]["currency"],
        order_ref=(body.get("metadata") or {}).get("order_id"),
        pay_url=confirmation.get("confirmation_url"),
        detail=(body.get("cancellation_details") or {}).get("reason", ""),
        test=body.get("test"),
    )


def parse_refund(body: dict[str, Any]) -> ProviderRefund:
    return ProviderRefund(
        refund_id=str(body["id"]),
        provider_payment_id=str(body["payment_id"]),
        succeeded=body["status"] == "succeeded",
        amount=Decimal(body["amount"]["value"]),
        currency=body["amount"]["currency"],
    )


class YooKassa:
    method = PaymentMethod.YOOKASSA

    def __init__(
        self,
        shop_id: str,
        secret_key: str,
        api_url: str,
        return_url: str,
        fallback_email: str | None,
        vat_code: int = 1,
        timeout: float = 10.0,
    ) -> None:
        self.http = http.client(api_url, timeout, auth=(shop_id, secret_key))
        self.return_url = return_url
        self.fallback_email = fallback_email
        self.vat_code = vat_code

    async def aclose(self) -> None:
        await self.http.aclose()

    def _receipt(
        self, email: str | None, description: str, amount: Decimal, currency: str
    ) -> dict[str, Any] | None:
        email = email or self.fallback_email
        if not email:
            return None
        item = {
            "description": description[:128],
            "quantity": "1.00",
            "amount": money(amount) | {"currency": currency},
            "vat_code": self.vat_code,
            "payment_mode": "full_payment",
            "payment_subject": "service",
        }
        return {"customer": {"email": email}, "items": [item]}

    async def create(self, order: NewPayment) -> ProviderPayment:
        body: dict[str, Any] = {
            "amount": money(order.amount) | {"currency": order.currency},
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": self.return_url},
            "description": order.description[:128],
            "metadata": {"order_id": order.payment_id, "tg_user_id": str(order.user_id)},
        }
        receipt = self._receipt(order.receipt_email, order.description, order.amount, order.currency)
        if receipt:
            body["receipt"] = receipt
        # Our payment id is the key: a retried create returns the same YooKassa payment.
        answer = await http.send(
            self.http, "POST", "payments", json=body, headers={"Idempotence-Key": order.payment_id}
        )
        return parse_payment(answer.json())

    async def fetch(self, provider_payment_id: str) -> ProviderPayment:
        return parse_payment((await http.send(self.http, "GET", f"payments/{provider_payment_id}")).json())

    async def list_paid(self, since: datetime) -> list[ProviderPayment]:
        found: list[ProviderPayment] = []
        params: dict[str, str] = {
            "status": "succeeded",
            "created_at.gte": since.isoformat().replace("+00:00", "Z"),
            "limit": "100",
        }
        while True:
            page = (await http.send(self.http, "GET", "payments", params=params)).json()
            found += [parse_payment(item) for item in page.get("items", [])]
            if not page.get("next_cursor"):
                return found
            params["cursor"] = page["next_cursor"]

    async def fetch_refund(self, refund_id: str) -> ProviderRefund:
        return parse_refund((await http.send(self.http, "GET", f"refunds/{refund_id}")).json())

    async def create_refund(
        self,
        provider_payment_id: str,
        amount: Decimal,
        currency: str,
        idempotence_key: str,
        receipt: ReceiptFor | None = None,
    ) -> ProviderRefund:
        """Give `amount` of a succeeded payment back. The caller's key makes a retry the same refund
        (YooKassa answers a repeated key with the refund it made the first time). With
        fiscalisation the refund carries a receipt, as the payment did."""
        body: dict[str, Any] = {
            "payment_id": provider_payment_id,
            "amount": money(amount) | {"currency": currency},
            "description": f"refund {idempotence_key}"[:250],
        }
        fiscal = self._receipt(receipt.email, receipt.item, amount, currency) if receipt else None
        if fiscal:
            body["receipt"] = fiscal
        answer = await http.send(
            self.http, "POST", "refunds", json=body, headers={"Idempotence-Key": idempotence_key[:64]}
        )
        return parse_refund(answer.json())
