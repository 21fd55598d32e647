"""What a process counts as it happens: the prometheus-client default registry of this process, and,
where `vpnshop up` runs its workers in processes of their own, theirs (prometheus-client's
multiprocess files in a directory under DATA_DIR), summed per series."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from prometheus_client import REGISTRY, Counter
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

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


def worker_counters(data_dir: Path) -> Path:
    """Where `up`'s worker processes write their counters (WORKER_PROCESSES)."""
    return data_dir / "worker-counters"


class ShopCounters(Collector):
    """This process's counters and those of `up`'s worker processes, one series each."""

    def __init__(self, workers: Path | None) -> None:
        self.workers = workers

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        sums: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        sources = [REGISTRY.collect()]
        if self.workers is not None and self.workers.is_dir():
            sources.append(MultiProcessCollector(None, path=str(self.workers)).collect())
        for source in sources:
            for family in source:
                families.setdefault(family.name, family)
                series = sums.setdefault(family.name, {})
                for sample in family.samples:
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    if sample.name.endswith("_created"):  # when the series began: the earliest
                        series[key] = min(series.get(key, sample.value), sample.value)
                    else:
                        series[key] = series.get(key, 0.0) + sample.value
        for name, family in families.items():
            merged = Metric(name, family.documentation, family.type, family.unit)
            for (sample_name, labels), value in sums[name].items():
                merged.add_sample(sample_name, dict(labels), value)
            yield merged


def summed_by(families: list[Metric], counter: Counter, label: str) -> dict[str, int]:
    """A counter's totals in `families` (`ShopCounters`' collection), summed by one of its labels."""
    [family_name] = [family.name for family in counter.describe()]
    summed: dict[str, int] = {}
    for family in families:
        if family.name == family_name:
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    value = sample.labels[label]
                    summed[value] = summed.get(value, 0) + int(sample.value)
    return dict(sorted(summed.items()))
