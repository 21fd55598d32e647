"""Shared HTTP plumbing for provider clients: explicit timeouts and error classification."""

from __future__ import annotations

import httpx

from shop.payments.base import ProviderError, ProviderRejected

# Retryable per the providers' contracts: the outcome is unknown or the provider asks us to wait.
RETRYABLE = frozenset({202, 408, 425, 429, 500, 502, 503, 504})


def client(base_url: str, timeout: float, **kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/") + "/",
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        **kwargs,  # type: ignore[arg-type]
    )


async def send(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    try:
        response = await http.send(request)
    except httpx.HTTPError as error:
        raise ProviderError(f"{request.method} {request.url.path}: {type(error).__name__}: {error}") from None
    if response.status_code in RETRYABLE:
        raise ProviderError(f"{request.method} {request.url.path}: HTTP {response.status_code}")
    if response.status_code >= 400:
        raise ProviderRejected(
            f"{request.method} {request.url.path}: HTTP {response.status_code}: {response.text[:300]}"
        )
    return response
