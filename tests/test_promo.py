"""Promo codes in the domain, on SQLite and PostgreSQL: limits under concurrency, the discount fixed
into the payment, uses given back by payments that end without money, free-day activations."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop.models import Grant, PaymentMethod, PaymentStatus, PromoCode, PromoUse
from shop.operators.audit import Actor
from shop.operators.forms import Invalid
from shop.payments.pricing import CheckoutError
from shop.payments.service import new_payment_id, record_payment
from shop.payments.stars import pre_checkout_problem
from shop.payments.status import transition
from shop.promo import codes, uses
from shop.promo.catalogue import PromoCatalogue, parse_promo
from shop.promo.codes import PromoRefused
from shop.storefront.fields import OwnerSettings
from tests.conftest import Database
from tests.factories import plan, subscriber

OWNER = OwnerSettings(referrals_enabled=False)
OPERATOR = Actor(900, "console")


async def promo(db: Database, code: str = "LAUNCH", **fields: str) -> PromoCode:
    form = {"code": code, "kind": "percent", "value": "20", "active": "on", "once_per_customer": "on"}
    form |= fields
    code_id = await PromoCatalogue(db.sessions).create(OPERATOR, parse_promo(form))
    async with db.sessions() as session:
        row = await session.get(PromoCode, code_id)
    assert row is not None
    return row


async def counted(db: Database, code_id: int) -> tuple[int, int]:
    """(the code's counter, its uses that hold)."""
    async with db.sessions() as session:
        used = await session.scalar(select(PromoCode.used).where(PromoCode.id == code_id))
        held = await session.scalar(
            select(func.count())
            .select_from(PromoUse)
            .where(PromoUse.code_id == code_id, PromoUse.released_at.is_(None))
        )
    return int(used or 0), int(held or 0)


async def order(db: Database, user_id: int, plan_id: int) -> str:
    payment = await record_payment(
        db.sessions, OWNER, new_payment_id(), user_id, plan_id, PaymentMethod.YOOKASSA
    )
    return payment.id


async def test_fifty_customers_at_once_on_a_code_limited_to_ten_get_exactly_ten(db: Database) -> None:
    month = await plan(db.sessions, price="200.00")
    code = await promo(db, max_uses="10")
    customers = range(2000, 2050)
    for customer in customers:
        await subscriber(db.sessions, customer, f"c{customer}")
        await codes.choose(db.sessions, customer, code.id)

    outcomes = await asyncio.gather(
        *(order(db, customer, month.id) for customer in customers), return_exceptions=True
    )
    minted = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, CheckoutError)]
    assert len(minted) == 10 and len(refused) == 40, [o for o in outcomes if isinstance(o, BaseException)][:3]
    assert {error.key for error in refused} == {"promo_exhausted"}
    assert await counted(db, code.id) == (10, 10)
    for payment_id in minted:  # each discounted 20 %, the discount recorded with the use
        use = await uses.of_payment(db.sessions, payment_id)
        assert use is not None and use.discount == Decimal("40.00")


async def test_one_customer_twice_at_once_on_a_once_per_customer_code_holds_one_use(db: Database) -> None:
    month = await plan(db.sessions)
    code = await promo(db)
    await subscriber(db.sessions, 3001)
    await codes.choose(db.sessions, 3001, code.id)
    outcomes = await asyncio.gather(*(order(db, 3001, month.id) for _ in range(2)), return_exceptions=True)
    assert all(isinstance(o, str | CheckoutError) for o in outcomes), outcomes
    assert await counted(db, code.id) == (1, 1)

    # Delivered: the code is spent for this customer; another order is refused, nothing changes.
    [live] = [o for o in outcomes if isinstance(o, str) and not await uses.hold_lost(db.sessions, o)]
    await transition(db.sessions, live, PaymentStatus.SUCCEEDED)
    await transition(db.sessions, live, PaymentStatus.DELIVERED)
    assert await codes.chosen(db.sessions, 3001) is None  # the choice is settled with the delivery
    await codes.choose(db.sessions, 3001, code.id)
    with pytest.raises(CheckoutError) as refused:
        await order(db, 3001, month.id)
    assert refused.value.key == "promo_already_used"
    assert await counted(db, code.id) == (1, 1)


async def test_an_expired_or_refunded_payment_gives_its_use_back_once(db: Database) -> None:
    month = await plan(db.sessions)
    code = await promo(db, max_uses="1", once_per_customer="")
    for customer in (3101, 3102):
        await subscriber(db.sessions, customer, f"c{customer}")
        await codes.choose(db.sessions, customer, code.id)
    first = await order(db, 3101, month.id)
    with pytest.raises(CheckoutError, match="promo_exhausted"):
        await order(db, 3102, month.id)
    await transition(db.sessions, first, PaymentStatus.PENDING)
    await transition(db.sessions, first, PaymentStatus.EXPIRED)
    await transition(db.sessions, first, PaymentStatus.EXPIRED)  # a retried activity
    assert await counted(db, code.id) == (0, 0)
    await codes.choose(db.sessions, 3102, code.id)
    second = await order(db, 3102, month.id)
    assert await counted(db, code.id) == (1, 1)
    await transition(db.sessions, second, PaymentStatus.SUCCEEDED)
    await transition(db.sessions, second, PaymentStatus.REFUNDED)
    assert await counted(db, code.id) == (0, 0)


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"valid_until": "2020-01-01T00:00"}, "promo_expired"),
        ({"valid_from": "2999-01-01T00:00"}, "promo_not_yet"),
        ({"plan_ids": "999999"}, "promo_wrong_plan"),
        ({"active": ""}, "promo_unknown"),
    ],
)
async def test_a_code_that_cannot_apply_refuses_the_order_and_changes_nothing(
    db: Database, fields: dict[str, str], key: str
) -> None:
    month = await plan(db.sessions)
    code = await promo(db, **fields)
    await subscriber(db.sessions, 3201)
    await codes.choose(db.sessions, 3201, code.id)
    with pytest.raises(CheckoutError) as refused:
        await order(db, 3201, month.id)
    assert refused.value.key == key
    assert await counted(db, code.id) == (0, 0)
    assert await codes.chosen(db.sessions, 3201) is None  # forgotten: the next order pays full price
    payment_id = await order(db, 3201, month.id)
    assert await uses.of_payment(db.sessions, payment_id) is None


async def test_fixed_and_bonus_day_codes_price_the_order(db: Database) -> None:
    month = await plan(db.sessions, price="299.00", stars=150)
    fixed = await promo(db, "MINUS100", kind="fixed", value="100")
    await subscriber(db.sessions, 3301)
    await codes.choose(db.sessions, 3301, fixed.id)
    card = await record_payment(db.sessions, OWNER, new_payment_id(), 3301, month.id, PaymentMethod.YOOKASSA)
    assert card.amount == Decimal("199.00") and card.price_rub == Decimal("199.00")
    bonus = await promo(db, "PLUS7", kind="bonus_days", value="7")
    await subscriber(db.sessions, 3302)
    await codes.choose(db.sessions, 3302, bonus.id)
    stars = await record_payment(
        db.sessions, OwnerSettings(stars_enabled=True), new_payment_id(), 3302, month.id, PaymentMethod.STARS
    )
    assert stars.amount == Decimal(150)
    use = await uses.of_payment(db.sessions, stars.id)
    assert use is not None and use.bonus_days == 7 and use.discount == 0


async def test_free_days_once_per_customer_even_when_sent_five_times_at_once(db: Database) -> None:
    code = await promo(db, "SORRY", kind="free_days", value="3", once_per_customer="")
    sub = await subscriber(db.sessions, 3401)
    outcomes = await asyncio.gather(
        *(uses.activate(db.sessions, "sorry", 3401) for _ in range(5)), return_exceptions=True
    )
    done = [o for o in outcomes if isinstance(o, uses.Activation)]
    assert len(done) >= 1 and all(isinstance(o, uses.Activation | PromoRefused) for o in outcomes), outcomes
    async with db.sessions() as session:
        grants = list(await session.scalars(select(Grant).where(Grant.subscription_id == sub.id)))
    assert [(g.source_key, g.duration_seconds) for g in grants] == [
        (uses.free_days_key(code.id, 3401), int(timedelta(days=3).total_seconds()))
    ]
    assert await counted(db, code.id) == (1, 1)
    with pytest.raises(PromoRefused, match="promo_already_used"):
        await uses.activate(db.sessions, "SORRY", 3401)


async def test_the_console_form_refuses_bad_input_field_by_field(db: Database) -> None:
    with pytest.raises(Invalid) as invalid:
        parse_promo({"code": "a b", "kind": "percent", "value": "150", "max_uses": "x",
                     "valid_from": "2030-01-02", "valid_until": "2030-01-01"})  # fmt: skip
    assert invalid.value.fields == {
        "code": "bad_code", "value": "out_of_range", "max_uses": "not_number", "valid_until": "before_start",
    }  # fmt: skip
    await promo(db, "TAKEN")
    with pytest.raises(Invalid, match="taken"):
        await promo(db, "taken")


async def test_an_abandoned_order_gives_its_use_to_the_next_one_and_can_no_longer_be_paid(
    db: Database,
) -> None:
    month = await plan(db.sessions, price="200.00", stars=100)
    code = await promo(db, max_uses="1")
    await subscriber(db.sessions, 3501)
    await codes.choose(db.sessions, 3501, code.id)
    stars = OwnerSettings(referrals_enabled=False, stars_enabled=True)
    first = await record_payment(db.sessions, stars, new_payment_id(), 3501, month.id, PaymentMethod.STARS)
    assert first.amount == Decimal(80)
    # The customer goes back and orders again (another method): the new order holds the one use.
    second = await order(db, 3501, month.id)
    assert await counted(db, code.id) == (1, 1)
    assert await uses.hold_lost(db.sessions, first.id) and not await uses.hold_lost(db.sessions, second)
    # The first order's Stars invoice, paid now, is refused before Telegram takes the money.
    assert await pre_checkout_problem(db.sessions, first.id, "XTR", 80, 3501) == "pay_promo_lost"
