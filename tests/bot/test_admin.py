"""Operator tools: access, stats, find, day adjustments (double tap applies once), ban and unban."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from shop.access.ledger import grant, history
from shop.balance import ledger as balance
from shop.customers.accounts import ensure_subscription
from shop.customers.users import access_of
from shop.models import BalanceKind, GrantKind, Payment, PaymentMethod, PaymentStatus, Product, utcnow
from shop.operators import audit
from shop.runtime.temporal import free_port
from tests.bot.conftest import ADMIN_ID
from tests.bot.kit import Shop
from tests.factories import plan
from tests.panel_fixtures import StartPanel, add_sandbox_host
from tests.polling import eventually
from workflows.expiry import CloseEndedAccessInput, CloseEndedAccessReport, CloseEndedAccessWorkflow


async def test_admin_tools_are_hidden_from_customers(shop: Shop) -> None:
    uma = await shop.started(31, "Uma")
    await uma.says("/admin")
    assert uma.last.text == "Такой команды нет. Откройте меню: /menu"
    await uma.says("/find 31")
    assert uma.last.text == "Такой команды нет. Откройте меню: /menu"
    answer = await uma.sends_callback("adm:days:31:30:abcdefgh")
    assert answer is not None and answer.text == "Эта кнопка устарела. Откройте меню заново: /menu"
    assert await history(shop.ctx.sessions, (await ensure_subscription(shop.ctx.sessions, 31)).id) == []


async def test_stats(shop: Shop) -> None:
    boss = await shop.started(ADMIN_ID, "Boss", "en")
    await shop.started(32, "Vic")
    plan_id = (await plan(shop.ctx.sessions)).id
    now = utcnow()
    async with shop.ctx.sessions() as session, session.begin():
        for number, (status, paid_at) in enumerate(
            [
                (PaymentStatus.DELIVERED, now),
                (PaymentStatus.SUCCEEDED, now - timedelta(days=3)),
                (PaymentStatus.REVIEW, None),
                (PaymentStatus.CANCELED, now),
            ]
        ):
            session.add(
                Payment(id=f"p{number}", user_id=32, plan_id=plan_id, method=PaymentMethod.P2P,
                        amount=Decimal("199"), currency="RUB", status=status, paid_at=paid_at)
            )  # fmt: skip
    await boss.says("/admin")
    assert boss.last.button_texts == [
        "📊 Statistics", "🔎 Find a user", "💳 Payments to review", "💸 Withdrawal requests",
        "📣 Broadcast", "🖥 Web console", "← Back",
    ]  # fmt: skip
    await boss.taps("Statistics")
    assert boss.last.text == (
        "📊 Statistics\n\nUsers: 2 (banned: 0)\nActive subscriptions: 0\n"
        "Revenue today: 199 ₽\nRevenue, last 30 days: 398 ₽\nPayments waiting for review: 1"
    )


async def test_find_and_adjust_days_double_tap_applies_once(shop: Shop) -> None:
    boss = await shop.started(ADMIN_ID, "Босс")
    wendy = await shop.started(33, "Wendy", "en", username="wendy")
    await boss.says("/find @nobody")
    assert boss.last.text == "Пользователь @nobody не найден."
    await boss.says("/find @Wendy")
    card = boss.last
    assert card.text is not None and card.text.startswith("👤 Wendy @wendy\nID: 33")
    assert card.button_texts == ["+1d", "+7d", "+30d", "-1d", "-7d", "⛔ Заблокировать", "← Назад"]
    plus_seven = card.button("+7d")["callback_data"]
    answer = await boss.taps("+7d", on=card)
    assert answer is not None and answer.text is not None and answer.text.startswith("Готово, доступ до")
    repeat = await boss.sends_callback(plus_seven, on=card)
    assert repeat is not None and repeat.text is not None and repeat.text.startswith("Уже применено")
    subscription = await ensure_subscription(shop.ctx.sessions, 33)
    grants = await history(shop.ctx.sessions, subscription.id)
    assert [(g.kind, g.duration_seconds, g.actor) for g in grants] == [
        (GrantKind.ADJUSTMENT, 7 * 86400, f"admin:{ADMIN_ID}")
    ]
    assert (await access_of(shop.ctx.sessions, 33)).days_left == 7
    assert wendy.last.text is not None and wendy.last.text.startswith("🎁 You got 7 extra days.")
    # The card was re-rendered with a fresh nonce: the same button there is a new grant.
    await boss.taps("-1d", on=card)
    assert (await access_of(shop.ctx.sessions, 33)).days_left == 6
    assert wendy.last.text is not None and wendy.last.text.startswith(
        "⚠️ Your subscription was shortened by 1 days."
    )
    await boss.says("/find 33")
    assert "active" in (boss.last.text or "") or "trial" in (boss.last.text or "")
    assert "Баланс: 0 ₽" in (boss.last.text or "") and "прокси" not in (boss.last.text or "")
    # The other product and the balance are on the card too.
    await balance.record(shop.ctx.sessions, 33, BalanceKind.TOPUP, Decimal(150), "topup:t", "test")
    await grant(
        shop.ctx.sessions, subscription.id, "proxy:t", timedelta(days=30), GrantKind.PURCHASE, "test",
        product=Product.PROXY,
    )  # fmt: skip
    await boss.says("/find 33")
    assert "Баланс: 150 ₽" in (boss.last.text or "")
    assert "Telegram-прокси: активен" in (boss.last.text or "")
    logged = (await audit.entries(shop.ctx.sessions))[0]  # the double tap is logged once
    assert [(e.action, e.actor_id, e.channel, e.target, (e.after or {})["days"]) for e in logged] == [
        ("customer.days", ADMIN_ID, "bot", "user:33", -1),
        ("customer.days", ADMIN_ID, "bot", "user:33", 7),
    ]


async def test_ban_blocks_every_action_and_disables_the_panels_until_unban(
    shop: Shop, start_panel: StartPanel
) -> None:
    panels = [await start_panel(version="v2"), await start_panel(version="v3.1")]
    for name, panel in zip(("Frankfurt", "Helsinki"), panels, strict=True):
        await add_sandbox_host(shop.ctx, panel, name=name)

    def enabled() -> list[list[bool]]:
        return [[client["enable"] for client in panel.clients()] for panel in panels]

    async def panels_show(expected: list[list[bool]]) -> bool:
        return enabled() == expected

    boss = await shop.started(ADMIN_ID, "Boss", "en")
    xena = await shop.started(34, "Xena", "en")
    await xena.taps("Try for free")
    assert enabled() == [[True], [True]]
    card = xena.with_button("Main menu")
    await boss.says("/find 34")
    answer = await boss.taps("Ban")
    assert answer is not None and answer.text == "User banned."
    assert boss.last.button_texts[-2:] == ["✅ Unban", "← Back"] and "Banned: yes" in (boss.last.text or "")
    await eventually(lambda: panels_show([[False], [False]]))
    banned = "⛔ Your access to this bot is blocked. If you think this is a mistake, contact support."
    await xena.says("/start")
    assert xena.last.text == banned
    await xena.says("hello")
    assert xena.last.text == banned
    answer = await xena.taps("Main menu", on=card)
    assert answer is not None and (answer.text, answer.show_alert) == (banned, True)

    await boss.taps("Unban")
    await eventually(lambda: panels_show([[True], [True]]))
    await xena.says("/start")
    assert xena.messages[-2].text == "👋 Welcome back, Xena!"
    # Unbanning again changes nothing: the answer is the same, the clients stay on.
    again = await boss.sends_callback("adm:unban:34:0:", on=boss.last)
    assert again is not None and again.text == "User unbanned." and enabled() == [[True], [True]]
    logged = (await audit.entries(shop.ctx.sessions))[0]  # the repeated unban changed nothing
    assert [(e.action, e.actor_id, e.before, e.after) for e in logged] == [
        ("customer.unban", ADMIN_ID, {"banned": True}, {"banned": False}),
        ("customer.ban", ADMIN_ID, {"banned": False}, {"banned": True}),
    ]


async def unreachable_temporal() -> Client:
    """A client of a Temporal server nobody listens for (it connects on first use, and fails)."""
    address = f"127.0.0.1:{free_port()}"
    return await Client.connect(
        address, namespace="vpnshop", data_converter=pydantic_data_converter, lazy=True
    )


async def test_ban_and_unban_while_temporal_is_unreachable_reach_the_panels_with_the_scan(
    shop: Shop, start_panel: StartPanel
) -> None:
    panel = await start_panel(version="v3.1")
    await add_sandbox_host(shop.ctx, panel, name="Frankfurt")

    async def panel_shows(enabled: bool) -> bool:
        return [client["enable"] for client in panel.clients()] == [enabled]

    async def scan(run: str) -> CloseEndedAccessReport:
        return await temporal.execute_workflow(
            CloseEndedAccessWorkflow.run,
            CloseEndedAccessInput(),
            id=f"close-ended-access:{shop.ctx.settings.temporal_task_queue}:{run}",
            task_queue=shop.ctx.settings.temporal_task_queue,
        )

    boss = await shop.started(ADMIN_ID, "Boss", "en")
    yuri = await shop.started(35, "Yuri", "en")
    await yuri.taps("Try for free")
    assert await panel_shows(True)
    temporal = shop.ctx.require_temporal()
    # The bot's process loses Temporal (the worker keeps its own connection).
    shop.ctx.temporal = await unreachable_temporal()
    await boss.says("/find 35")
    answer = await boss.taps("Ban")
    assert answer is not None and answer.show_alert
    assert answer.text == "User banned. Saved; the panels will follow within 5 min."
    assert "Banned: yes" in (boss.last.text or "") and await panel_shows(True)
    shop.ctx.temporal = temporal
    report = await scan("ban")
    assert (report.subscriptions, report.closed) == (1, 1) and await panel_shows(False)

    shop.ctx.temporal = await unreachable_temporal()
    answer = await boss.taps("Unban")
    assert answer is not None and answer.text == "User unbanned. Saved; the panels will follow within 5 min."
    assert "Banned: no" in (boss.last.text or "") and await panel_shows(False)
    shop.ctx.temporal = temporal
    report = await scan("unban")
    assert (report.subscriptions, report.closed) == (1, 1) and await panel_shows(True)
    assert (await scan("again")).subscriptions == 0, "in line now: the next pass finds nothing"
