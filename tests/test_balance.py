"""The RUB balance and gifts in the domain, on SQLite and PostgreSQL: balance payments racing a
top-up never overdraw and add up; an operator's adjustment is audited once; the referral balance
moves over once; a gift opened by two customers at once goes to one."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from activities.referrals import ReferralActivities, RewardInput
from shop.balance import ledger
from shop.balance.ledger import BalanceShort
from shop.balance.purchase import pay_from_balance
from shop.balance.referral import move_referral_balance
from shop.customers import referrals
from shop.customers.accounts import register_user
from shop.gifts import store as gifts
from shop.gifts.store import GiftRefused
from shop.models import (
    AuditEntry,
    BalanceEntry,
    BalanceKind,
    Grant,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    Plan,
    Product,
    ReferralReward,
)
from shop.operators.audit import Actor
from shop.payments.pricing import CheckoutError
from shop.payments.service import new_payment_id, record_payment
from shop.payments.status import transition
from shop.storefront.fields import OwnerSettings
from tests.conftest import Database, make_context
from tests.factories import delivered_payment, plan, subscriber

OWNER = OwnerSettings(referrals_enabled=False)
OPERATOR = Actor(900, "console")


async def statuses(db: Database, ids: list[str]) -> dict[str, PaymentStatus]:
    async with db.sessions() as session:
        rows = await session.execute(select(Payment.id, Payment.status).where(Payment.id.in_(ids)))
        return {payment_id: status for payment_id, status in rows}


async def test_balance_payments_racing_a_top_up_never_overdraw_and_add_up(db: Database) -> None:
    await subscriber(db.sessions, 4001)
    ten = await plan(db.sessions, price="10.00")
    await ledger.record(db.sessions, 4001, BalanceKind.TOPUP, Decimal(100), "topup:first", "test")
    orders = [
        (await record_payment(db.sessions, OWNER, new_payment_id(), 4001, ten.id, PaymentMethod.BALANCE)).id
        for _ in range(20)
    ]
    top_up = ledger.record(db.sessions, 4001, BalanceKind.TOPUP, Decimal(50), "topup:second", "test")
    outcomes = await asyncio.gather(
        *(pay_from_balance(db.sessions, payment_id) for payment_id in orders), top_up, return_exceptions=True
    )
    paid = [o for o in outcomes[:-1] if isinstance(o, ledger.Movement)]
    short = [o for o in outcomes[:-1] if isinstance(o, BalanceShort)]
    assert len(paid) + len(short) == 20, [o for o in outcomes if isinstance(o, BaseException)][:3]
    assert 10 <= len(paid) <= 15  # 100 before the top-up, 150 after it
    now = await ledger.balance(db.sessions, 4001)
    assert now == Decimal(150) - 10 * len(paid) and now >= 0
    states = await statuses(db, orders)
    assert sorted(states.values()).count(PaymentStatus.SUCCEEDED) == len(paid)
    # A paid order tapped again (a double tap, a retry) debits nothing more.
    async with db.sessions() as session:
        purchases = await session.scalar(
            select(func.count()).select_from(BalanceEntry).where(BalanceEntry.kind == BalanceKind.PURCHASE)
        )
    assert purchases == len(paid)
    done = next(pid for pid, status in states.items() if status is PaymentStatus.SUCCEEDED)
    again = await asyncio.gather(*(pay_from_balance(db.sessions, done) for _ in range(3)))
    assert [m.applied for m in again] == [False, False, False]
    assert await ledger.balance(db.sessions, 4001) == now


async def test_a_short_balance_refuses_and_writes_nothing(db: Database) -> None:
    await subscriber(db.sessions, 4101)
    month = await plan(db.sessions, price="199.00")
    await ledger.record(db.sessions, 4101, BalanceKind.TOPUP, Decimal(50), "topup:x", "test")
    payment = await record_payment(
        db.sessions, OWNER, new_payment_id(), 4101, month.id, PaymentMethod.BALANCE
    )
    with pytest.raises(BalanceShort) as short:
        await pay_from_balance(db.sessions, payment.id)
    assert (short.value.balance, short.value.needed) == (Decimal(50), Decimal(199))
    assert await ledger.balance(db.sessions, 4101) == Decimal(50)
    assert (await statuses(db, [payment.id]))[payment.id] is PaymentStatus.CREATED


async def test_an_operator_adjustment_is_audited_once_and_cannot_overdraw(db: Database) -> None:
    await subscriber(db.sessions, 4201)
    moved = await asyncio.gather(
        *(
            ledger.adjust(db.sessions, OPERATOR, 4201, Decimal(30), "outage apology", "nonce1")
            for _ in range(3)
        )
    )
    assert sorted(m.applied for m in moved) == [False, False, True]
    with pytest.raises(BalanceShort):
        await ledger.adjust(db.sessions, OPERATOR, 4201, Decimal(-31), "typo", "nonce2")
    await ledger.adjust(db.sessions, OPERATOR, 4201, Decimal(-10), "typo", "nonce3")
    assert await ledger.balance(db.sessions, 4201) == Decimal(20)
    async with db.sessions() as session:
        reasons = list(
            await session.scalars(select(AuditEntry.reason).where(AuditEntry.action == "balance.adjust"))
        )
    assert sorted(reasons) == ["outage apology", "typo"]


async def test_the_referral_balance_moves_to_the_main_one_once(db: Database) -> None:
    owner = OwnerSettings(referral_percent=10, referral_discount_percent=0)
    await subscriber(db.sessions, 4301)
    payment = await delivered_payment(db.sessions, owner, 4301, price="500.00")
    async with db.sessions() as session, session.begin():
        session.add(
            ReferralReward(payment_id=payment.id, referrer_id=4301, invitee_id=4301, amount=Decimal(50))
        )
    moved = await asyncio.gather(*(move_referral_balance(db.sessions, 4301) for _ in range(3)))
    assert sorted(moved) == [0, 0, Decimal(50)]
    assert await ledger.balance(db.sessions, 4301) == Decimal(50)
    assert (await referrals.summary(db.sessions, 4301)).balance == 0


async def paid_gift(db: Database, payer: int) -> gifts.GiftView:
    month = await plan(db.sessions, price="299.00")
    payment = await record_payment(
        db.sessions, OWNER, new_payment_id(), payer, month.id, PaymentMethod.YOOKASSA,
        purpose=PaymentPurpose.GIFT,
    )  # fmt: skip
    await transition(db.sessions, payment.id, PaymentStatus.SUCCEEDED)
    first, again = await asyncio.gather(
        gifts.mint(db.sessions, payment.id), gifts.mint(db.sessions, payment.id)
    )
    assert first.code == again.code
    return first


async def test_a_proxy_plan_cannot_be_bought_as_a_gift(db: Database) -> None:
    """A gift grants VPN days when opened: a gift order of a proxy plan is refused, nothing minted."""
    await subscriber(db.sessions, 4350)
    proxy = await plan(db.sessions, "Proxy month")
    async with db.sessions() as session, session.begin():
        row = await session.get(Plan, proxy.id)
        assert row is not None
        row.product = Product.PROXY
    with pytest.raises(CheckoutError) as refused:
        await record_payment(
            db.sessions, OWNER, new_payment_id(), 4350, proxy.id, PaymentMethod.YOOKASSA,
            purpose=PaymentPurpose.GIFT,
        )  # fmt: skip
    assert refused.value.key == "pay_plan_unavailable"
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0


async def test_a_gift_opened_by_two_customers_at_once_goes_to_one(db: Database) -> None:
    for customer in (4401, 4402, 4403):
        await subscriber(db.sessions, customer, f"c{customer}")
    gift = await paid_gift(db, 4401)
    outcomes = await asyncio.gather(
        gifts.claim(db.sessions, gift.code, 4402),
        gifts.claim(db.sessions, gift.code, 4403),
        return_exceptions=True,
    )
    won = [o for o in outcomes if isinstance(o, gifts.Claimed)]
    lost = [o for o in outcomes if isinstance(o, GiftRefused)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].key == "gift_taken"
    async with db.sessions() as session:
        keyed = list(
            await session.scalars(select(Grant).where(Grant.source_key == gifts.grant_key(gift.code)))
        )
    assert len(keyed) == 1 and keyed[0].duration_seconds == 30 * 86400
    again = await gifts.claim(db.sessions, gift.code.lower(), won[0].gift.redeemed_by or 0)
    assert again.first is False  # the winner opening the link again: no second grant
    with pytest.raises(GiftRefused, match="gift_taken"):
        await gifts.refund(db.sessions, OPERATOR, gift.code, "asked")


async def test_an_unclaimed_gift_is_refunded_to_the_payer_once_and_then_cannot_be_claimed(
    db: Database,
) -> None:
    await subscriber(db.sessions, 4501)
    await subscriber(db.sessions, 4502, "Bob")
    gift = await paid_gift(db, 4501)
    outcomes = await asyncio.gather(
        *(gifts.refund(db.sessions, OPERATOR, gift.code, "changed mind") for _ in range(2)),
        return_exceptions=True,
    )
    assert sum(isinstance(o, gifts.GiftView) for o in outcomes) == 1
    assert await ledger.balance(db.sessions, 4501) == Decimal("299.00")
    with pytest.raises(GiftRefused, match="gift_refunded"):
        await gifts.claim(db.sessions, gift.code, 4502)
    with pytest.raises(GiftRefused, match="gift_unknown"):
        await gifts.claim(db.sessions, "NOSUCHGIFT", 4502)


async def test_with_the_owner_setting_a_referral_reward_lands_on_the_balance_once(db: Database) -> None:
    ctx = make_context(db, None, "q", settings_cache_seconds=0)
    await ctx.storefront.update({"referral_to_balance": True, "referral_discount_percent": 0}, OPERATOR)
    await register_user(db.sessions, 4601, "ref", "Referrer")
    await register_user(db.sessions, 4602, "inv", "Invitee", referrer_id=4601)
    await subscriber(db.sessions, 4602, "Invitee")
    payment = await delivered_payment(db.sessions, await ctx.storefront.current(), 4602, price="500.00")
    rewarding = ReferralActivities(db.sessions, ctx.storefront, None)
    for _ in range(2):  # a retried activity
        await rewarding.reward_referrer(RewardInput(payment_id=payment.id))
    assert await ledger.balance(db.sessions, 4601) == Decimal("50.00")
    assert (await referrals.summary(db.sessions, 4601)).balance == 0  # nothing left to withdraw
