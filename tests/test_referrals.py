"""The referral ledgers on SQLite and PostgreSQL: the invitee's discount fixed at minting, rewards
written once per payment (also under concurrent duplicates), the balance, and withdrawals with one
open request per customer (enforced by the database) decided once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shop.customers import referrals
from shop.customers.accounts import register_user
from shop.customers.referrals import WithdrawalRefused
from shop.models import Payment, PaymentMethod, ReferralReward, Withdrawal
from shop.payments.service import new_payment_id, record_payment
from shop.settings import SettingsError, load_settings
from shop.storefront.fields import OwnerSettings
from tests.conftest import Database
from tests.factories import delivered_payment, plan

REFERRER, INVITEE, STRANGER, OPERATOR = 2001, 2002, 2003, 900


def terms(**overrides: object) -> OwnerSettings:
    return OwnerSettings.model_validate(overrides)


OPERATORS = load_settings(_env_file=None, admin_ids=str(OPERATOR))


async def people(db: Database) -> None:
    await register_user(db.sessions, REFERRER, "ref", "Referrer")
    await register_user(db.sessions, INVITEE, "inv", "Invitee", referrer_id=REFERRER)
    await register_user(db.sessions, STRANGER, None, "Stranger")


async def bought(
    db: Database, settings: OwnerSettings, user_id: int, method: PaymentMethod, price: str = "199.00"
) -> Payment:
    return await delivered_payment(db.sessions, settings, user_id, method, price)


def test_discount_and_share_arithmetic() -> None:
    assert referrals.discounted(Decimal("199.00"), 5) == Decimal("189.05")
    assert referrals.discounted(Decimal("99.99"), 5) == Decimal("94.99")  # 94.9905 -> 94.99
    assert referrals.discounted(Decimal("199.00"), 0) == Decimal("199.00")
    assert referrals.discounted_stars(150, 5) == 143  # 142.5 rounds half up to a whole star
    assert referrals.discounted_stars(1, 90) == 1  # never below one star
    assert referrals.share(Decimal("189.05"), 10) == Decimal("18.91")  # 18.905 -> 18.91
    assert referrals.referrer_from("ref_42") == 42
    assert [referrals.referrer_from(arg) for arg in ("ref_", "ref_x1", "42", None, "ref_-1")] == [None] * 5
    assert referrals.link("shop_bot", 7) == "https://t.me/shop_bot?start=ref_7"


async def test_an_invitee_gets_the_discount_on_the_first_purchase_only(db: Database) -> None:
    settings = terms()
    await people(db)
    assert await referrals.first_purchase_discount(db.sessions, settings, STRANGER) == 0
    assert await referrals.first_purchase_discount(db.sessions, settings, INVITEE) == 5
    off = terms(referrals_enabled=False)
    assert await referrals.first_purchase_discount(db.sessions, off, INVITEE) == 0

    stars = await bought(db, settings, INVITEE, PaymentMethod.STARS)
    assert (stars.amount, stars.currency, stars.discount_percent, stars.price_rub) == (
        Decimal(143), "XTR", 5, Decimal("189.05"),
    )  # fmt: skip
    assert await referrals.first_purchase_discount(db.sessions, settings, INVITEE) == 0
    second = await bought(db, settings, INVITEE, PaymentMethod.YOOKASSA)
    assert (second.amount, second.discount_percent, second.price_rub) == (
        Decimal("199.00"), 0, Decimal("199.00"),
    )  # fmt: skip


async def test_a_discounted_order_opened_beside_the_first_purchase_is_spent(db: Database) -> None:
    settings = terms()
    await people(db)
    offer = await plan(db.sessions)
    aside = await record_payment(
        db.sessions, settings, new_payment_id(), INVITEE, offer.id, PaymentMethod.P2P
    )
    assert aside.discount_percent == 5 and not await referrals.discount_spent(db.sessions, aside)
    await bought(db, settings, INVITEE, PaymentMethod.CRYPTOPAY)
    assert await referrals.discount_spent(db.sessions, aside)


async def test_a_reward_is_written_once_per_payment_and_fills_the_balance(db: Database) -> None:
    settings = terms()
    await people(db)
    first = await bought(db, settings, INVITEE, PaymentMethod.STARS)  # 189.05 ₽ worth, 143 Stars paid
    reward = await referrals.record_reward(db.sessions, settings, first.id)
    assert reward is not None and reward.applied and reward.referrer_id == REFERRER
    assert reward.amount == Decimal("18.91")  # 10 % of the plan's RUB price less the invitee's 5 %
    again = await referrals.record_reward(db.sessions, settings, first.id)
    assert again is not None and not again.applied and again.amount == reward.amount
    second = await bought(db, settings, INVITEE, PaymentMethod.YOOKASSA)
    assert (await referrals.record_reward(db.sessions, settings, second.id)).amount == Decimal("19.90")  # type: ignore[union-attr]
    assert await referrals.summary(db.sessions, REFERRER) == referrals.Summary(
        invited=1, paying=1, earned=Decimal("38.81"), balance=Decimal("38.81"), open_request=None
    )
    # Nothing is due for a customer nobody invited, nor while the program is off.
    own = await bought(db, settings, STRANGER, PaymentMethod.P2P)
    assert await referrals.record_reward(db.sessions, settings, own.id) is None
    third = await bought(db, settings, INVITEE, PaymentMethod.P2P)
    assert await referrals.record_reward(db.sessions, terms(referrals_enabled=False), third.id) is None
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReferralReward)) == 2


async def test_concurrent_duplicate_rewards_apply_once(db: Database) -> None:
    settings = terms()
    await people(db)
    payment = await bought(db, settings, INVITEE, PaymentMethod.YOOKASSA)
    results = await asyncio.gather(
        *(referrals.record_reward(db.sessions, settings, payment.id) for _ in range(30))
    )
    assert sum(1 for result in results if result is not None and result.applied) == 1
    assert {result.amount for result in results if result is not None} == {Decimal("18.91")}
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReferralReward)) == 1
    assert (await referrals.summary(db.sessions, REFERRER)).balance == Decimal("18.91")


async def rewarded(db: Database, settings: OwnerSettings, purchases: int) -> None:
    for _ in range(purchases):
        payment = await bought(db, settings, INVITEE, PaymentMethod.YOOKASSA, price="500.00")
        await referrals.record_reward(db.sessions, settings, payment.id)


async def test_withdrawals_are_a_ledger_with_one_open_request(db: Database) -> None:
    settings = terms(referral_discount_percent=0, referral_min_withdrawal="100")
    await people(db)
    await rewarded(db, settings, 1)  # 50 ₽
    with pytest.raises(WithdrawalRefused, match="wd_below_minimum"):
        await referrals.request_withdrawal(db.sessions, settings, REFERRER, "Card 2200 0000 0000 0001")
    await rewarded(db, settings, 2)  # 150 ₽
    request = await referrals.request_withdrawal(db.sessions, settings, REFERRER, "  Card 2200\n0000 0001 ")
    assert (request.amount, request.details) == (Decimal("150.00"), "Card 2200 0000 0001")
    assert (await referrals.summary(db.sessions, REFERRER)).balance == 0
    with pytest.raises(WithdrawalRefused, match="wd_already_open"):
        await referrals.request_withdrawal(db.sessions, settings, REFERRER, "Card 2200 0000 0000 0001")
    async with db.sessions() as session:  # the database itself refuses a second open request
        session.add(Withdrawal(user_id=REFERRER, amount=Decimal(1), details="sneaky"))
        with pytest.raises(IntegrityError):
            await session.commit()

    with pytest.raises(PermissionError):
        await referrals.decide_withdrawal(db.sessions, OPERATORS, INVITEE, request.id, approve=True)
    declined = await referrals.decide_withdrawal(db.sessions, OPERATORS, OPERATOR, request.id, approve=False)
    late = await referrals.decide_withdrawal(db.sessions, OPERATORS, OPERATOR, request.id, approve=True)
    assert declined.first and not late.first and late.withdrawal.status == "declined"
    assert late.withdrawal.decided_by == OPERATOR
    assert (await referrals.summary(db.sessions, REFERRER)).balance == Decimal("150.00")  # freed again

    again = await referrals.request_withdrawal(db.sessions, settings, REFERRER, "Phone +7 900 000-00-00")
    approved = await referrals.decide_withdrawal(db.sessions, OPERATORS, OPERATOR, again.id, approve=True)
    assert approved.first and [w.id for w in await referrals.open_withdrawals(db.sessions)] == []
    summary = await referrals.summary(db.sessions, REFERRER)
    assert (summary.earned, summary.balance, summary.open_request) == (Decimal("150.00"), 0, None)
    with pytest.raises(LookupError):
        await referrals.decide_withdrawal(db.sessions, OPERATORS, OPERATOR, 999_999, approve=True)


async def test_concurrent_withdrawal_requests_take_the_balance_once(db: Database) -> None:
    settings = terms(referral_discount_percent=0)
    await people(db)
    await rewarded(db, settings, 3)
    outcomes = await asyncio.gather(
        *(
            referrals.request_withdrawal(db.sessions, settings, REFERRER, f"Card 2200 0000 0000 {n:04}")
            for n in range(10)
        ),
        return_exceptions=True,
    )
    made = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, WithdrawalRefused)]
    assert len(made) == 1 and len(refused) == 9 and {r.key for r in refused} == {"wd_already_open"}
    async with db.sessions() as session:
        assert await session.scalar(select(func.sum(Withdrawal.amount))) == Decimal("150.00")
    assert (await referrals.summary(db.sessions, REFERRER)).balance == 0


@pytest.mark.parametrize("details", ["", "    ", "1234", "x" * 201, None])
def test_payout_details_must_be_text_of_a_sane_length(details: str | None) -> None:
    with pytest.raises(WithdrawalRefused, match="wd_details_length"):
        referrals.clean_details(details)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("referral_percent", "101"),
        ("referral_percent", "-1"),
        ("referral_discount_percent", "91"),
        ("referral_min_withdrawal", "0"),
        ("referral_min_withdrawal", "10.001"),
        ("referrals_enabled", "perhaps"),
    ],
)
def test_referral_settings_are_range_checked(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"invalid setting {name.upper()}"):
        load_settings(_env_file=None, **{name: value})
    defaults = load_settings(_env_file=None)
    assert (defaults.referrals_enabled, defaults.referral_percent, defaults.referral_discount_percent) == (
        True, 10, 5,
    )  # fmt: skip
    assert defaults.referral_min_withdrawal == Decimal(100)
