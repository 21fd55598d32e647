"""The Prometheus text format of both kinds of figures: the records (read now) and the counters of
this process and of `up`'s worker processes (`shop.metrics.counters.ShopCounters`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from shop.db import SessionFactory
from shop.metrics.counters import ShopCounters
from shop.metrics.records import Records, records
from shop.models import PaymentStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _RecordsCollector(Collector):
    def __init__(self, found: Records) -> None:
        self.found = found

    def collect(self) -> Iterator[Metric]:
        found = self.found
        payments = GaugeMetricFamily(
            "vpnshop_payments", "Payments on record by method and status.", labels=["method", "status"]
        )
        for (method, status), n in sorted(found.payments.items()):
            payments.add_metric([method, status], n)
        yield payments
        yield GaugeMetricFamily(
            "vpnshop_paid_not_delivered",
            f"Payments paid but not delivered now (status {PaymentStatus.SUCCEEDED.value}).",
            value=found.paid_not_delivered,
        )
        delivery = found.delivery
        yield HistogramMetricFamily(
            "vpnshop_payment_to_access_seconds",
            "Time from a payment being paid to its access being delivered, every delivered payment.",
            buckets=[(str(bound), n) for bound, n in delivery.buckets] + [("+Inf", delivery.count)],
            sum_value=delivery.total_seconds,
        )
        reminders = GaugeMetricFamily(
            "vpnshop_reminders", "Expiry reminders on record by outcome.", labels=["status"]
        )
        for status, n in sorted(found.reminders.items()):
            reminders.add_metric([status], n)
        yield reminders


async def exposition(sessions: SessionFactory, workers: Path | None = None) -> bytes:
    """`workers`: the directory of `up`'s worker processes' counters, if any."""
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(_RecordsCollector(await records(sessions)))
    scraped.register(ShopCounters(workers))
    return generate_latest(scraped)
