"""The money page and the CSV exports: the figures equal the seeded shop's (counted here in Python
from the rows inserted), on SQLite and PostgreSQL; bad periods refused beside the field; owners
only; the exports carry every row, in batches, with formula-looking cells defused; a withdrawal
decided here and in the bot at once counts once."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select, update
from temporalio.client import Client

from bot.main import build_bot
from console.auth import LANG_COOKIE
from console.routes.money import notice_key
from sandbox.telegram import TelegramSandbox
from shop.access.ledger import grant
from shop.customers import referrals
from shop.messaging.pacing import telegram_queue
from shop.models import (
    AuditEntry,
    GrantKind,
    PaymentMethod,
    PaymentStatus,
    ReferralReward,
    User,
    Withdrawal,
    WithdrawalStatus,
)
from shop.money.exports import csv_rows
from shop.money.report import Period, money_report
from tests.conftest import Database, make_context
from tests.console_client import OWNER, SUPPORT, console_context, sign_in
from tests.factories import subscriber
from tests.shop_seed import generate, insert_seeded
from tests.sub_client import api_client
from tests.telegram_fixtures import (
    send_queues,
    telegram_settings,
)
from worker.main import build_worker
from workflows.operator import notice_workflow_id

NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.DELIVERED)
PERIOD = Period(date(2026, 11, 8), date(2026, 12, 7))


async def test_the_report_equals_the_seeded_shop(db: Database) -> None:
    shop = generate(NOW, customers=300, payments=1200)
    await insert_seeded(db.sessions, shop)
    report = await money_report(db.sessions, PERIOD)

    # Balance payments spend money the report counted with the top-up: not revenue again.
    in_period = [
        p for p in shop.payments
        if p["status"] in PAID and PERIOD.start <= p["paid_at"] < PERIOD.end
        and p["method"] is not PaymentMethod.BALANCE
    ]  # fmt: skip
    by_method: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    by_day: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for p in in_period:
        by_method[(p["method"].value, p["currency"])].append(p["amount"])
        by_day[(p["paid_at"].date().isoformat(), p["currency"])].append(p["amount"])
    assert {(x.key, x.currency): (x.count, x.amount) for x in report.by_method} == {
        key: (len(v), sum(v)) for key, v in by_method.items()
    }
    assert {(x.key, x.currency): (x.count, x.amount) for x in report.by_day} == {
        key: (len(v), sum(v)) for key, v in by_day.items()
    }
    assert [(x.key, x.currency) for x in report.by_day] == sorted(by_day)
    assert {(x.currency, x.amount) for x in report.by_plan} == {(x.currency, x.amount) for x in report.totals}
    refunded = [
        p for p in shop.payments
        if p["status"] is PaymentStatus.REFUNDED and PERIOD.start <= p["updated_at"] < PERIOD.end
    ]  # fmt: skip
    assert len(refunded) > 0
    assert {x.currency: (x.count, x.amount) for x in report.refunds} == {
        currency: (
            len([p for p in refunded if p["currency"] == currency]),
            sum(p["amount"] for p in refunded if p["currency"] == currency),
        )
        for currency in {p["currency"] for p in refunded}
    }
    # A shorter period holds less.
    week = await money_report(db.sessions, Period.ending(PERIOD.last, 7))
    assert sum(x.count for x in week.totals) < sum(x.count for x in report.totals)


async def _rewards_and_withdrawals(db: Database) -> None:
    async with db.sessions() as session, session.begin():
        await session.execute(
            insert(ReferralReward),
            [
                {"payment_id": "p000000000001", "referrer_id": 10_001, "invitee_id": 10_002,
                 "amount": Decimal("120.00"), "created_at": NOW - timedelta(days=2)},
                {"payment_id": "p000000000002", "referrer_id": 10_003, "invitee_id": 10_004,
                 "amount": Decimal("80.50"), "created_at": NOW - timedelta(days=1)},
            ],
        )  # fmt: skip
        await session.execute(
            insert(Withdrawal),
            [
                {"user_id": 10_001, "amount": Decimal("120.00"), "details": "card 2200 0000",
                 "status": WithdrawalStatus.REQUESTED, "created_at": NOW - timedelta(hours=5)},
                {"user_id": 10_003, "amount": Decimal("80.50"), "details": "=cmd|' /C calc'!A0",
                 "status": WithdrawalStatus.DECLINED, "created_at": NOW - timedelta(hours=4)},
            ],
        )  # fmt: skip


async def test_the_page_shows_the_report_and_refuses_bad_periods(db: Database) -> None:
    shop = generate(NOW, customers=100, payments=300)
    await insert_seeded(db.sessions, shop)
    await _rewards_and_withdrawals(db)
    ctx = console_context(db)
    report = await money_report(db.sessions, PERIOD)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, OWNER)
        client.cookies.set(LANG_COOKIE, "en")
        page = await client.get("/console/money", params={"first": "2026-11-08", "last": "2026-12-07"})
        assert page.status_code == 200
        html = page.text
        for total in report.totals:
            shown = f"{total.amount:.2f}".replace(".00", "")
            assert f"<b>{shown} {total.currency}</b><span>paid payments: {total.count}</span>" in html
        assert "<b>200.50 RUB</b><span>rewards earned (2)</span>" in html
        assert "<b>120 RUB</b><span>withdrawals waiting (1)</span>" in html
        assert "<b>80.50 RUB</b><span>withdrawals declined (1)</span>" in html
        assert "<b>80.50 RUB</b><span>owed to referrers now (all time)</span>" in html
        assert 'id="withdrawal-1"' in html and "card 2200 0000" in html  # the open one, to decide
        for kind in ("customers", "payments", "ledger"):
            assert f'href="/console/money/export/{kind}.csv"' in html

        for first, last, message in (
            ("2026-12-07", "2026-11-01", "The first day comes after the last one."),
            ("7.12.2026", "", "Enter dates as YYYY-MM-DD."),
            ("2024-01-01", "2026-12-07", "At most 366 days at a time."),
        ):
            refused = await client.get("/console/money", params={"first": first, "last": last})
            assert refused.status_code == 422
            assert f'<p class="field-error" id="first-error">{message}</p>' in refused.text
            assert f'value="{first}"' in refused.text  # what was typed stays

        await sign_in(client, ctx, SUPPORT)
        assert (await client.get("/console/money")).status_code == 403
        assert (await client.get("/console/money/export/payments.csv")).status_code == 403


async def test_the_exports_carry_every_row_in_batches(db: Database) -> None:
    shop = generate(NOW, customers=250, payments=700)
    await insert_seeded(db.sessions, shop)
    async with db.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == 10_005).values(full_name='=HYPERLINK("x")'))
    for n, subscription in enumerate(shop.subscriptions[:30]):
        await grant(
            db.sessions, subscription["id"], f"test:{n}", timedelta(days=3), GrantKind.GIFT, "operator:1"
        )

    chunks = [chunk async for chunk in csv_rows(db.sessions, "payments", batch=100)]
    assert len(chunks) == 1 + 7  # the header, then one chunk per hundred rows
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert sorted(row["id"] for row in rows) == sorted(p["id"] for p in shop.payments)
    seeded = {p["id"]: p for p in shop.payments}
    for row in rows[:50]:
        p = seeded[row["id"]]
        assert (row["method"], row["status"], Decimal(row["amount"]), row["plan"]) == (
            p["method"].value, p["status"].value, p["amount"], "Month"
        )  # fmt: skip
        assert row["paid_at"] == (p["paid_at"].isoformat() if p["paid_at"] else "")

    ctx = console_context(db)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, OWNER)
        answer = await client.get("/console/money/export/customers.csv")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        assert answer.headers["content-disposition"].startswith('attachment; filename="vpnshop-customers-')
        customers = list(csv.DictReader(io.StringIO(answer.text)))
        assert len(customers) == len(shop.users)
        by_id = {int(row["id"]): row for row in customers}
        assert by_id[10_005]["full_name"] == '\'=HYPERLINK("x")'  # a spreadsheet shows it as text
        with_subscription = {s["user_id"]: s for s in shop.subscriptions}
        assert sum(1 for row in customers if row["has_paid"] != "") == len(with_subscription)

        ledger = list(
            csv.DictReader(io.StringIO((await client.get("/console/money/export/ledger.csv")).text))
        )
        assert sorted(row["source_key"] for row in ledger) == sorted(f"test:{n}" for n in range(30))
        first = shop.subscriptions[0]
        row = next(row for row in ledger if row["source_key"] == "test:0")
        assert (int(row["user_id"]), row["kind"], int(row["duration_seconds"])) == (
            first["user_id"], "gift", 3 * 86400
        )  # fmt: skip
        assert (await client.get("/console/money/export/secrets.csv")).status_code == 404


async def test_a_withdrawal_decided_in_the_console_and_the_bot_at_once_counts_once(db: Database) -> None:
    shop = generate(NOW, customers=10, payments=10)
    await insert_seeded(db.sessions, shop)
    await _rewards_and_withdrawals(db)
    second = 5009
    ctx = console_context(db, admin_ids=f"{OWNER},{second}")
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        console, bot = await asyncio.gather(
            client.post("/console/money/withdrawals/1", data={"csrf_token": csrf, "decision": "approve"}),
            referrals.decide_withdrawal(ctx.sessions, ctx.settings, second, 1, approve=False),
        )
        assert console.status_code == 303
        won_in_console = console.headers["location"].endswith("done=done_withdrawal_approve")
        assert won_in_console != bot.first  # exactly one of them decided
        repeat = await client.post(
            "/console/money/withdrawals/1", data={"csrf_token": csrf, "decision": "decline"}
        )
        assert repeat.headers["location"].endswith("done=done_withdrawal_repeat")
        unknown = await client.post(
            "/console/money/withdrawals/99", data={"csrf_token": csrf, "decision": "approve"}
        )
        assert unknown.status_code == 404
        forged = await client.post("/console/money/withdrawals/1", data={"decision": "approve"})
        assert forged.status_code == 403
    async with db.sessions() as session:
        row = await session.get(Withdrawal, 1)
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.target == "withdrawal:1"))).all()
    assert row is not None
    expected = (WithdrawalStatus.APPROVED, OWNER) if won_in_console else (WithdrawalStatus.DECLINED, second)
    assert (row.status, row.decided_by) == expected
    assert [(e.actor_id, e.channel) for e in entries] == [
        (expected[1], "console" if won_in_console else "bot")
    ]


async def test_the_customer_hears_of_a_console_decision_once_in_the_bots_pace(
    sqlite_db: Database, temporal_client: Client, task_queue: str, telegram: TelegramSandbox
) -> None:
    settings = telegram_settings(telegram) | {"admin_ids": str(OWNER)}
    ctx = make_context(sqlite_db, temporal_client, task_queue, **settings)
    await subscriber(ctx.sessions, 10_001, "Payee")
    telegram.add_user(10_001, "Payee", language_code="en")
    async with sqlite_db.sessions() as session, session.begin():
        session.add(Withdrawal(user_id=10_001, amount=Decimal("120.00"), details="card 2200 0000"))
    bot = build_bot(ctx.settings)
    try:
        async with build_worker(ctx, temporal_client, bot=bot), api_client(ctx) as client:
            csrf = await sign_in(client, ctx, OWNER)
            for _ in range(2):  # the form sent twice
                await client.post(
                    "/console/money/withdrawals/1", data={"csrf_token": csrf, "decision": "approve"}
                )
            async with sqlite_db.sessions() as session:
                row = await session.scalar(select(Withdrawal).where(Withdrawal.user_id == 10_001))
            assert row is not None and row.status is WithdrawalStatus.APPROVED
            key = notice_key(row.id, row.created_at)
            notice = temporal_client.get_workflow_handle(notice_workflow_id(key))
            assert await notice.result() is True
            assert await send_queues(notice, "tell_customer") == [telegram_queue(task_queue)]
    finally:
        await bot.session.close()
    [told] = telegram.messages(10_001)
    assert "120" in (told.text or "")
