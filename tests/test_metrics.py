"""`/metrics`: refused without the token (404 when none is set), and with it the figures of a
scripted run through the real stack: payments through the YooKassa sandbox's webhooks (one
duplicated, one forged, one malformed), the worker provisioning on a sandbox panel and on one that
is down, `/sub` fetched in several formats, reminders on record. Each figure is compared with what
the sandboxes saw and the database holds, not with numbers written here."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select
from temporalio.client import Client

from console.auth import LANG_COOKIE
from shop.metrics.counters import (
    PANEL_ERRORS,
    ShopCounters,
    count_panel_request,
    panel_host,
    summed_by,
    worker_counters,
)
from shop.metrics.exposition import exposition
from shop.metrics.records import DeliveryTimes
from shop.models import Payment, PaymentMethod, Reminder, ReminderStatus, Subscription, utcnow
from shop.payments.service import new_payment_id, start_checkout
from shop.runtime.processes import run_worker_metrics
from shop.runtime.temporal import free_port
from tests.conftest import Database, make_context
from tests.console_client import sign_in
from tests.factories import plan, subscriber
from tests.panel_fixtures import StartPanel, add_sandbox_host, panel_settings
from tests.payments_env import OPERATOR, SLOW_POLL, PaymentBench, payment_bench

TOKEN = "scrape-me-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
YK = {"X-Forwarded-For": "185.71.76.9"}  # a YooKassa notification address


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _scrape(bench: PaymentBench) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient(base_url=bench.api) as http:
        answer = await http.get("/metrics", headers=AUTH)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return _samples(answer.text)


async def _checkout(bench: PaymentBench, user_id: int) -> tuple[str, str]:
    await subscriber(bench.ctx.sessions, user_id)
    offer = await plan(bench.ctx.sessions)
    payment_id = new_payment_id()
    checkout = await start_checkout(bench.ctx, user_id, offer.id, PaymentMethod.YOOKASSA, payment_id)
    assert checkout.pay_url
    return payment_id, checkout.pay_url.rsplit("/", 1)[-1]


async def test_without_the_token_nothing(db: Database, temporal_client: Client, task_queue: str) -> None:
    async with (
        payment_bench(db, temporal_client, task_queue, worker=False) as bench,
        httpx.AsyncClient(base_url=bench.api) as http,
    ):
        assert (await http.get("/metrics")).status_code == 404  # no METRICS_TOKEN: no such page
        bench.ctx.settings.metrics_token = SecretStr("")  # empty counts as unset, even for a bare "Bearer"
        assert (await http.get("/metrics", headers={"Authorization": "Bearer"})).status_code == 404
    async with (
        payment_bench(db, temporal_client, task_queue, worker=False, metrics_token=TOKEN) as bench,
        httpx.AsyncClient(base_url=bench.api) as http,
    ):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            refused = await http.get("/metrics", headers=headers)
            assert refused.status_code == 401 and "vpnshop_" not in refused.text
            assert refused.headers["www-authenticate"].startswith("Bearer")
        assert (await http.get("/metrics", headers=AUTH)).status_code == 200


async def test_the_figures_match_a_scripted_run(
    db: Database, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    healthy, dead = await start_panel(version="v3.1"), await start_panel(version="v2")
    settings = SLOW_POLL | panel_settings(metrics_token=TOKEN)
    async with payment_bench(db, temporal_client, task_queue, **settings) as bench:
        before = await _scrape(bench)
        await add_sandbox_host(bench.ctx, healthy, "healthy")
        await add_sandbox_host(bench.ctx, dead, "dead")
        dead_calls_while_up = dead.app.calls.copy()
        await dead.down()

        # Three customers pay, one webhook arrives twice; a fourth opens a payment and leaves it.
        paid = [await _checkout(bench, user) for user in (1001, 1002, 1003)]
        await _checkout(bench, 1004)
        bench.yookassa.webhooks.copies = 2
        bench.yookassa.pay(paid[0][1])
        bench.yookassa.webhooks.copies = 1
        for _, provider_id in paid[1:]:
            bench.yookassa.pay(provider_id)
        for payment_id, _ in paid:
            assert (await bench.result(payment_id)).stage == "delivered"
        await bench.yookassa.webhooks.drain()
        async with httpx.AsyncClient(base_url=bench.api) as http:
            forged = await http.post(
                "/webhooks/yookassa", json={"event": "payment.succeeded", "object": {"id": "x"}}
            )
            malformed = await http.post("/webhooks/yookassa", content=b"{", headers=YK)
            assert (forged.status_code, malformed.status_code) == (403, 400)

            async with bench.ctx.sessions() as session:
                token = await session.scalar(select(Subscription.token).where(Subscription.user_id == 1001))
                sub_id = await session.scalar(select(Subscription.id).where(Subscription.user_id == 1001))
                assert token is not None and sub_id is not None
                session.add_all(
                    Reminder(subscription_id=sub_id, expires_at=utcnow() + timedelta(days=n), mark=f"-{n}d",
                             status=status, sent_at=utcnow())
                    for n, status in enumerate([ReminderStatus.SENT] * 3 + [ReminderStatus.FAILED])
                )  # fmt: skip
                await session.commit()
            fetched = Counter[tuple[str, str]]()
            for query, agent, format_ in (
                ("?format=clash", "curl/8", "clash"),
                ("?format=singbox", "curl/8", "singbox"),
                ("", "v2rayNG/1.9.30", "base64"),  # chosen by the app's User-Agent
                ("", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", "html"),
            ):
                browser = {"Accept": "text/html"} if format_ == "html" else {}
                answer = await http.get(f"/sub/{token}{query}", headers={"User-Agent": agent, **browser})
                fetched[(format_, str(answer.status_code))] += 1
            fetched[("clash", str((await http.get("/sub/" + "u" * 24 + "?format=clash")).status_code))] += 1
            fetched[("none", str((await http.get("/sub/not-a-token!")).status_code))] += 1
        assert fetched[("clash", "200")] == 1 and fetched[("clash", "404")] == 1

        after = await _scrape(bench)
        # The console's dashboard shows the same figures (its own computation, no cache yet).
        async with httpx.AsyncClient(base_url=bench.api) as console:
            await sign_in(console, bench.ctx, OPERATOR)
            console.cookies.set(LANG_COOKIE, "en")
            dashboard = (await console.get("/console/")).text

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    def of(name: str, host: str) -> dict[str, float]:
        """The deltas of a panel metric for one host, by its second label."""
        return {
            next(v for k, v in labels if k != "host"): delta(name, **dict(labels))
            for metric, labels in after
            if metric == name and dict(labels)["host"] == host
        }

    # Webhooks: what the YooKassa sandbox delivered (all to known payments), and the two refused.
    delivered_hooks = [a for a in bench.yookassa.webhooks.attempts if a.status == 200]
    assert len(delivered_hooks) == 4  # three payments, one of them twice
    assert delta("vpnshop_webhooks_total", provider="yookassa", outcome="accepted") == len(delivered_hooks)
    assert delta("vpnshop_webhooks_total", provider="yookassa", outcome="refused") == 1
    assert delta("vpnshop_webhooks_total", provider="yookassa", outcome="malformed") == 1

    # Payments by outcome and the delivery times: as the database holds them.
    async with bench.ctx.sessions() as session:
        rows = (await session.scalars(select(Payment))).all()
    by_status = Counter((p.method.value, p.status.value) for p in rows)
    assert by_status == {("yookassa", "delivered"): 3, ("yookassa", "pending"): 1}
    for (method, status), n in by_status.items():
        assert _value(after, "vpnshop_payments", method=method, status=status) == n
    assert _value(after, "vpnshop_paid_not_delivered") == 0
    times = [(p.delivered_at - p.paid_at).total_seconds() for p in rows if p.delivered_at and p.paid_at]
    assert _value(after, "vpnshop_payment_to_access_seconds_count") == len(times) == 3
    assert abs(_value(after, "vpnshop_payment_to_access_seconds_sum") - sum(times)) < 0.01
    for bound in ("1.0", "10.0", "60.0"):
        within = sum(1 for s in times if s <= float(bound))
        assert _value(after, "vpnshop_payment_to_access_seconds_bucket", le=bound) == within
    assert _value(after, "vpnshop_payment_to_access_seconds_bucket", le="+Inf") == 3

    # Panel requests per host: the panels' own counts of what reached them; the dead one's failures.
    healthy_host, dead_host = panel_host(healthy.url), panel_host(dead.url)
    assert healthy.calls > 0
    assert of("vpnshop_panel_requests_total", healthy_host) == {"answered": healthy.calls}
    assert of("vpnshop_panel_errors_total", healthy_host) == {}  # lookups of absent clients are no errors
    dead_requests = of("vpnshop_panel_requests_total", dead_host)
    assert dead_requests["answered"] == sum(dead_calls_while_up.values())
    assert dead_requests["unavailable"] >= 1  # the provisioning's attempts while it was down
    assert of("vpnshop_panel_errors_total", dead_host)["unavailable"] == dead_requests["unavailable"]

    # /sub requests by the format served and the status answered.
    for (format_, status), n in fetched.items():
        assert delta("vpnshop_sub_requests_total", format=format_, status=status) == n, (format_, status)

    # The dashboard: the delivery time's quantiles from the same histogram, the same counts.
    delivered = int(_value(after, "vpnshop_payment_to_access_seconds_count"))
    assert f"payment → access, median / 95 % ({delivered} delivered)" in dashboard
    assert "<b>3 / 1</b><span>reminders sent / failed (on record)</span>" in dashboard
    # The dashboard sums the outcome over providers (this process's counters: an earlier test in
    # the same process may have counted Crypto Pay's too).
    accepted = sum(
        value
        for (metric, labels), value in after.items()
        if metric == "vpnshop_webhooks_total" and ("outcome", "accepted") in labels
    )
    assert f"accepted {int(accepted)}" in dashboard

    # Reminders on record.
    assert _value(after, "vpnshop_reminders", status="sent") == 3
    assert _value(after, "vpnshop_reminders", status="failed") == 1


def test_the_dashboards_quantiles_read_the_buckets_as_prometheus_does() -> None:
    # 10 payments: 4 within 1 s, 8 within 2 s, all 10 within 5 s.
    times = DeliveryTimes([(1.0, 4), (2.0, 8), (5.0, 10), (10.0, 10)], 10, 20.0)
    assert times.quantile(0.2) == 0.5  # rank 2 of the first 4, linearly within 0..1 s
    assert times.quantile(0.5) == 1.25  # rank 5: the first of the 4 in 1..2 s
    assert times.quantile(0.95) == 4.25  # rank 9.5 of 8..10 in 2..5 s
    assert DeliveryTimes([(1.0, 0)], 0, 0.0).quantile(0.5) is None
    assert DeliveryTimes([(1.0, 0), (2.0, 0)], 3, 30.0).quantile(0.5) == 2.0  # beyond the last bound


async def test_a_worker_on_its_own_serves_its_counters(sqlite_db: Database) -> None:
    port = free_port()
    ctx = make_context(sqlite_db, None, "metrics-test", metrics_token=TOKEN, worker_metrics_port=port)
    count_panel_request("http://panel.example:2053/secret-path/", answered=False)  # as the worker would
    stop = asyncio.Event()
    serving = asyncio.create_task(run_worker_metrics(ctx, stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(100):
                try:
                    answer = await http.get("/metrics", headers=AUTH)
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert answer.status_code == 200
            samples = _samples(answer.text)
            assert (
                _value(
                    samples, "vpnshop_panel_requests_total", host="panel.example:2053", outcome="unavailable"
                )
                >= 1
            )
            assert "secret-path" not in answer.text
            assert (await http.get("/metrics")).status_code == 401
    finally:
        stop.set()
        await serving
    unset = make_context(sqlite_db, None, "metrics-test")
    await asyncio.wait_for(run_worker_metrics(unset, asyncio.Event()), 5)  # no port: returns at once


def _count_in_a_worker_process(directory: Path, url: str, times: int) -> None:
    """What a worker process of `up` does: counts panel requests in prometheus-client's files."""
    script = (
        "from shop.metrics.counters import count_panel_request, count_panel_error\n"
        "from shop.panel.errors import PanelUnavailable\n"
        f"for _ in range({times}):\n"
        f"    count_panel_request({url!r}, answered=False)\n"
        f"    count_panel_error({url!r}, PanelUnavailable('refused'))\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)


async def test_metrics_and_the_dashboard_add_up_the_worker_processes_counters(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """`up` runs its workers apart (WORKER_PROCESSES): their panel counters reach the API's /metrics
    and the console's home page, summed with the API process's own for the same series."""
    ctx = make_context(sqlite_db, None, "metrics-test", metrics_token=TOKEN, data_dir=tmp_path)
    directory = worker_counters(tmp_path)
    directory.mkdir()
    url = "http://worker-panel.example:2053/secret-path/"
    host = panel_host(url)
    before = _samples((await exposition(ctx.sessions, directory)).decode())
    _count_in_a_worker_process(directory, url, 3)
    _count_in_a_worker_process(directory, url, 2)  # a second worker process
    count_panel_request(url, answered=False)  # and the API process itself
    text = (await exposition(ctx.sessions, directory)).decode()
    after = _samples(text)
    assert _value(before, "vpnshop_panel_requests_total", host=host, outcome="unavailable") == 0
    assert _value(after, "vpnshop_panel_requests_total", host=host, outcome="unavailable") == 6
    assert _value(after, "vpnshop_panel_errors_total", host=host, kind="unavailable") == 5
    assert text.count("# TYPE vpnshop_panel_requests_total counter") == 1  # one family, not one per process
    assert "secret-path" not in text
    errors = summed_by(list(ShopCounters(directory).collect()), PANEL_ERRORS, "host")
    assert errors[host] == 5
    alone = list(ShopCounters(tmp_path / "absent").collect())  # this process's counters alone
    assert host not in summed_by(alone, PANEL_ERRORS, "host")
    await ctx.close()
