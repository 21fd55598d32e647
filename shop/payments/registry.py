"""The configured payment providers, built from settings (a provider without credentials is off)."""

from __future__ import annotations

from shop.models import PaymentMethod
from shop.payments.base import Provider
from shop.payments.cryptopay import CryptoPay
from shop.payments.yookassa import YooKassa
from shop.settings import Settings


def build_providers(settings: Settings) -> dict[PaymentMethod, Provider]:
    providers: dict[PaymentMethod, Provider] = {}
    timeout = settings.provider_timeout_seconds
    if settings.yookassa_shop_id and settings.yookassa_secret_key:
        providers[PaymentMethod.YOOKASSA] = YooKassa(
            shop_id=settings.yookassa_shop_id,
            secret_key=settings.yookassa_secret_key.get_secret_value(),
            api_url=settings.yookassa_api_url,
            return_url=settings.yookassa_return_url,
            fallback_email=settings.yookassa_receipt_email,
            vat_code=settings.yookassa_vat_code,
            timeout=timeout,
        )
    if settings.cryptopay_token:
        providers[PaymentMethod.CRYPTOPAY] = CryptoPay(
            token=settings.cryptopay_token.get_secret_value(),
            api_url=settings.cryptopay_api_url,
            accepted_assets=settings.cryptopay_accepted_assets,
            invoice_seconds=settings.cryptopay_invoice_seconds,
            timeout=timeout,
        )
    return providers
