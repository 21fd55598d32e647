"""Promo codes, balances and gifts in the console (over HTTP, signed in as an operator signs in):
create, edit, deactivate, see uses and performance; a balance adjustment with its reason, once per
form; a gift refunded once; bad input beside its field and nothing changed; owners only."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import func, select

from shop.balance import ledger
from shop.gifts import store as gifts
from shop.models import AuditEntry, PaymentMethod, PaymentPurpose, PaymentStatus, PromoCode
from shop.payments.service import new_payment_id, record_payment
from shop.payments.status import transition
from shop.promo import codes
from tests import factories
from tests.conftest import Database
from tests.console_client import OWNER, SUPPORT, console_context, sign_in
from tests.sub_client import api_client

LAUNCH = {"code": "launch", "kind": "percent", "value": "20", "max_uses": "10", "once_per_customer": "on",
          "active": "on", "comment": "spring"}  # fmt: skip


async def audit_actions(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_promo_codes_created_edited_deactivated_with_performance(db: Database) -> None:
    ctx = console_context(db)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        assert "Промокодов пока нет." in (await client.get("/console/promo")).text
        bad = await client.post(
            "/console/promo/new",
            data={"csrf_token": csrf, "code": "no spaces", "kind": "percent", "value": "95", "max_uses": "x"},
        )
        assert bad.status_code == 422
        assert (
            'id="code-error"' in bad.text
            and 'id="value-error"' in bad.text
            and 'id="max_uses-error"' in bad.text
        )
        async with db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(PromoCode)) == 0
        created = await client.post("/console/promo/new", data={**LAUNCH, "csrf_token": csrf})
        assert created.status_code == 303
        again = await client.post("/console/promo/new", data={**LAUNCH, "csrf_token": csrf})
        assert again.status_code == 422 and "Такой код уже есть." in again.text

        # A customer's discounted order, delivered: the list shows one use, its revenue and discount.
        month = await factories.plan(db.sessions, price="299.00")
        await factories.subscriber(db.sessions, 7001)
        code = await codes.find(db.sessions, "LAUNCH")
        assert code is not None
        await codes.choose(db.sessions, 7001, code.id)
        owner = await ctx.storefront.current()
        paid = await record_payment(
            db.sessions, owner, new_payment_id(), 7001, month.id, PaymentMethod.YOOKASSA
        )
        await transition(db.sessions, paid.id, PaymentStatus.SUCCEEDED)
        await transition(db.sessions, paid.id, PaymentStatus.DELIVERED)
        listed = (await client.get("/console/promo")).text
        row = re.search(r'<tr id="promo-\d+">(.*?)</tr>', listed, re.S)
        assert row is not None
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
        assert cells[1:5] == ["−20%", "1 / 10", "239.20 ₽", "59.80 ₽"]
        page = await client.get(f"/console/promo/{code.id}")
        assert paid.id in page.text and "−59.80 ₽" in page.text

        # Editing below the uses counted is refused; a real change is audited; deactivating works.
        low = await client.post(
            f"/console/promo/{code.id}", data={**LAUNCH, "max_uses": "0", "csrf_token": csrf}
        )
        assert low.status_code == 422
        saved = await client.post(
            f"/console/promo/{code.id}", data={**LAUNCH, "value": "25", "csrf_token": csrf}
        )
        assert saved.headers["location"].endswith("done=done_promo_saved")
        off = await client.post(f"/console/promo/{code.id}/active", data={"active": "0", "csrf_token": csrf})
        assert off.status_code == 303
        refreshed = await codes.find(db.sessions, "launch")
        assert refreshed is not None and not refreshed.active and refreshed.value == Decimal(25)
        assert await audit_actions(db) == ["promo.create", "promo.update", "promo.deactivate"]

        # Support operators cannot open it.
        await client.post("/console/signout", data={"csrf_token": csrf})
        await sign_in(client, ctx, SUPPORT)
        assert (await client.get("/console/promo")).status_code == 403


async def test_a_balance_adjustment_with_its_reason_once_and_a_gift_refund(db: Database) -> None:
    ctx = console_context(db)
    await factories.subscriber(db.sessions, 7101)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        form = await client.get("/console/balance?user=7101")
        nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', form.text)
        assert nonce is not None
        for bad, field in (
            ({"user_id": "42", "amount": "10", "reason": "x"}, "user_id"),
            ({"user_id": "7101", "amount": "ten", "reason": "x"}, "amount"),
            ({"user_id": "7101", "amount": "10", "reason": ""}, "reason"),
            ({"user_id": "7101", "amount": "-5", "reason": "typo"}, "amount"),  # below zero
        ):
            refused = await client.post(
                "/console/balance", data={**bad, "nonce": nonce.group(1), "csrf_token": csrf}
            )
            assert refused.status_code == 422 and f'id="{field}-error"' in refused.text, bad
        assert await ledger.balance(db.sessions, 7101) == 0
        good = {"user_id": "7101", "amount": "150", "reason": "outage apology", "nonce": nonce.group(1)}
        for _ in range(2):  # the form sent twice (a double click, a reload): one movement
            done = await client.post("/console/balance", data={**good, "csrf_token": csrf})
            assert done.status_code == 303
        assert await ledger.balance(db.sessions, 7101) == Decimal(150)
        page = await client.get(done.headers["location"])
        assert "Клиент 7101: баланс 150.00 ₽" in page.text and "outage apology" in page.text

        month = await factories.plan(db.sessions, price="299.00")
        owner = await ctx.storefront.current()
        payment = await record_payment(
            db.sessions,
            owner,
            new_payment_id(),
            7101,
            month.id,
            PaymentMethod.YOOKASSA,
            purpose=PaymentPurpose.GIFT,
        )
        await transition(db.sessions, payment.id, PaymentStatus.SUCCEEDED)
        gift = await gifts.mint(db.sessions, payment.id)
        no_reason = await client.post(f"/console/balance/gifts/{gift.code}/refund", data={"csrf_token": csrf})
        assert no_reason.status_code == 409 and await ledger.balance(db.sessions, 7101) == Decimal(150)
        url = f"/console/balance/gifts/{gift.code}/refund"
        assert (await client.post(url, data={"reason": "asked", "csrf_token": csrf})).status_code == 303
        twice = await client.post(url, data={"reason": "asked", "csrf_token": csrf})
        assert twice.status_code == 409 and f"Подарок {gift.code} уже возвращён." in twice.text
        assert await ledger.balance(db.sessions, 7101) == Decimal("449.00")
        assert await audit_actions(db) == ["balance.adjust", "gift.refund"]
