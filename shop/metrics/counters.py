"""What a process counts as it happens: the prometheus-client default registry of this process."""

from __future__ import annotations

from urllib.parse import urlsplit

from prometheus_client import Counter

WEBHOOKS = Counter(
    "vpnshop_webhooks",
    "Payment webhooks received, by provider and outcome (accepted, unknown_payment, ignored, "
    "malformed, refused, failed).",
    ["provider", "outcome"],
)
SUB_REQUESTS = Counter(
    "vpnshop_sub_requests", "/sub/<token> requests by format served and HTTP status.", ["format", "status"]
)
PANEL_REQUESTS = Counter(
    "vpnshop_panel_requests",
    "HTTP requests to 3x-ui panels (logins included) by panel host and outcome: answered (any HTTP "
    "status) or unavailable (timeout, refused connection).",
    ["host", "outcome"],
)
PANEL_ERRORS = Counter(
    "vpnshop_panel_errors",
    "3x-ui API calls that failed, by panel host and kind (unavailable, autherror, rejected, "
    "lastclient); `not found` and `duplicate` are answers the client expects, not errors.",
    ["host", "kind"],
)


def webhook_outcome(status: int, detail: str) -> str:
    """An answer of api/webhooks.py as one of a few outcomes (its detail texts are fixed)."""
    if status == 200:
        return {"unknown payment": "unknown_payment", "ignored": "ignored"}.get(detail, "accepted")
    if status == 400:
        return "malformed"
    if status in (401, 403):
        return "refused"
    return "failed"


def panel_host(url: str) -> str:
    """The panel's host:port; never its base path, which 3x-ui keeps secret."""
    return urlsplit(url).netloc or url


def count_panel_request(url: str, answered: bool) -> None:
    PANEL_REQUESTS.labels(panel_host(url), "answered" if answered else "unavailable").inc()


def count_panel_error(url: str, error: BaseException) -> None:
    PANEL_ERRORS.labels(panel_host(url), type(error).__name__.removeprefix("Panel").lower()).inc()


def totals(counter: Counter) -> dict[tuple[str, ...], float]:
    """A counter's values in this process, by its label values (for the console's dashboard)."""
    return {
        tuple(sample.labels.values()): sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }
