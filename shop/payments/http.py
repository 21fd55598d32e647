"""Shared HTTP plumbing for provider clients: explicit timeouts and error classification."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shop.http_client import Answer, HttpClient, Timeouts, Unreachable
from shop.payments.base import ProviderError, ProviderRejected

# Retryable per the providers' contracts: the outcome is unknown or the provider asks us to wait.
RETRYABLE = frozenset({202, 408, 425, 429, 500, 502, 503, 504})


def client(
    base_url: str,
    timeout: float,
    *,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> HttpClient:
    return HttpClient(base_url, Timeouts.of(timeout), headers=headers, auth=auth)


async def send(http: HttpClient, method: str, path: str, **kwargs: Any) -> Answer:
    try:
        response = await http.request(method, path, **kwargs)
    except Unreachable as error:
        raise ProviderError(str(error)) from None
    if response.status_code in RETRYABLE:
        raise ProviderError(f"{method} {path}: HTTP {response.status_code}")
    if response.status_code >= 400:
        raise ProviderRejected(f"{method} {path}: HTTP {response.status_code}: {response.text[:300]}")
    return response
