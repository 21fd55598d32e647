"""What an operator does to a customer from the console, through the services the bot uses: time
added or removed (a ledger grant run by `GrantAccessWorkflow`), the expiry set to a date (the grant
that gets there), ban and unban (the panels follow), a new link, provisioning now, a message.

Every action carries the id minted into its form and a reason (`shop.operators.actions`): a double
click does it once and audits it once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError

from activities.operators import CustomerNoticeInput
from shop.access.grants import GrantOutcome, run_grant
from shop.context import AppContext
from shop.customers.accounts import ensure_subscription, new_token
from shop.customers.admin import AccessSync
from shop.models import GrantKind, Product, Subscription, User, utcnow
from shop.operators import actions
from shop.operators.actions import Change
from shop.operators.audit import Actor
from shop.operators.forms import Invalid
from shop.storefront.fields import TEXT_MAX, is_telegram_html
from workflows.operator import CustomerNoticeWorkflow, notice_workflow_id
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow, provision_workflow_id

log = logging.getLogger(__name__)
UNITS = {"days": 86400, "hours": 3600}
MAX_SECONDS = 3650 * 86400
MAX_MESSAGE = TEXT_MAX  # the bot's own texts' limit, under Telegram's 4096


async def tell(ctx: AppContext, user_id: int, text: str, key: str) -> None:
    """A message from the shop to a customer, sent by a worker at the bot's pace, once per `key`
    (a decision's id: a resent form or a second operator tells nobody twice). What it tells of
    (a decision, a gift opened) stands without it: Temporal out of reach is logged, not raised."""
    notice = CustomerNoticeInput(user_id=user_id, text=text)
    try:
        await actions.start_once(ctx, CustomerNoticeWorkflow.run, notice, notice_workflow_id(key))
    except (RPCError, RuntimeError) as error:  # the SDK raises RuntimeError when it cannot connect
        log.warning("customer %s not told (%s): %s", user_id, key, error)


def product_of(value: str) -> Product:
    """The form's product ("vpn", "proxy"); anything else is refused beside its field."""
    try:
        return Product(value or "vpn")
    except ValueError:
        raise Invalid({"product": "invalid"}) from None


def duration(amount: str, unit: str, sign: str) -> timedelta:
    """The form's "add/remove N days/hours" as a signed duration; refused beside its field."""
    if unit not in UNITS:
        raise Invalid({"unit": "invalid"})
    try:
        count = int(amount)
    except ValueError:
        raise Invalid({"amount": "integer"}) from None
    seconds = count * UNITS[unit]
    if count <= 0 or seconds > MAX_SECONDS:
        raise Invalid({"amount": "range"})
    return timedelta(seconds=-seconds if sign == "remove" else seconds)


def parse_expiry(value: str, now: datetime) -> datetime:
    """`YYYY-MM-DDTHH:MM` (the datetime-local field), UTC, in the future."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid({"expires_at": "invalid"}) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)
    if moment <= now:
        raise Invalid({"expires_at": "past"})
    if moment - now > timedelta(seconds=MAX_SECONDS):
        raise Invalid({"expires_at": "range"})
    return moment


class CustomerDesk:
    def __init__(self, ctx: AppContext, actor: Actor) -> None:
        self.ctx = ctx
        self.actor = actor

    async def _user(self, user_id: int) -> User:
        async with self.ctx.sessions() as session:
            user = await session.get(User, user_id)
        if user is None:
            raise LookupError(user_id)
        return user

    async def _grant(
        self,
        user_id: int,
        change: timedelta,
        action_id: str,
        reason: str,
        action: str,
        shown: dict[str, object],
        product: Product,
    ) -> GrantOutcome:
        outcome = await run_grant(
            self.ctx,
            user_id,
            f"console:{user_id}:{action_id}",
            change,
            GrantKind.ADJUSTMENT,
            actor=f"admin:{self.actor.id}",
            product=product,
        )
        after = {**shown, "expires_at": outcome.expires_at}
        if product is not Product.VPN:
            after["product"] = product.value
        await actions.recorded(
            self.ctx.sessions, self.actor, action_id, action, f"user:{user_id}", reason, after
        )
        return outcome

    async def adjust(
        self,
        user_id: int,
        amount: str,
        unit: str,
        sign: str,
        action_id: str,
        reason: str,
        product: str = "vpn",
    ) -> GrantOutcome:
        """Time added to or removed from one product: the VPN or the Telegram proxy."""
        reason = actions.checked(action_id, reason)
        change = duration(amount, unit, sign)
        chosen = product_of(product)
        await self._user(user_id)
        shown: dict[str, object] = {unit: int(change.total_seconds()) // UNITS[unit]}
        return await self._grant(user_id, change, action_id, reason, "customer.time", shown, chosen)

    async def set_expiry(
        self, user_id: int, value: str, action_id: str, reason: str, product: str = "vpn"
    ) -> GrantOutcome:
        """The grant that moves the product's expiry to `value` from where it is now (a past expiry
        counts from now, as every grant does)."""
        reason = actions.checked(action_id, reason)
        now = utcnow()
        target = parse_expiry(value, now)
        chosen = product_of(product)
        await self._user(user_id)
        subscription = await ensure_subscription(self.ctx.sessions, user_id)
        current = subscription.proxy_expires_at if chosen is Product.PROXY else subscription.expires_at
        change = target - max(now, current) if current else target - now
        shown: dict[str, object] = {"set_to": target}
        return await self._grant(user_id, change, action_id, reason, "customer.expiry", shown, chosen)

    async def set_banned(self, user_id: int, banned: bool, action_id: str, reason: str) -> bool:
        reason = actions.checked(action_id, reason)
        await self._user(user_id)

        async def flip(session: AsyncSession) -> Change:
            result = await session.execute(
                update(User).where(User.id == user_id, User.banned.is_not(banned)).values(banned=banned)
            )
            return ({"banned": not banned}, {"banned": banned}) if result.rowcount else None  # type: ignore[attr-defined]

        action = "customer.ban" if banned else "customer.unban"
        done = await actions.once(
            self.ctx.sessions, self.actor, action_id, action, f"user:{user_id}", reason, flip
        )
        if done:
            await AccessSync(self.ctx).sync(user_id)
        return done

    async def rotate_link(self, user_id: int, action_id: str, reason: str) -> bool:
        reason = actions.checked(action_id, reason)
        await self._user(user_id)
        subscription = await ensure_subscription(self.ctx.sessions, user_id)

        async def rotate(session: AsyncSession) -> Change:
            await session.execute(
                update(Subscription)
                .where(Subscription.id == subscription.id)
                .values(token=new_token(), token_rotated_at=utcnow())
            )
            return None, {"link": "rotated"}

        target = f"user:{user_id}"
        return await actions.once(
            self.ctx.sessions, self.actor, action_id, "customer.link", target, reason, rotate
        )

    async def reprovision(self, user_id: int, action_id: str, reason: str) -> bool:
        reason = actions.checked(action_id, reason)
        await self._user(user_id)
        async with self.ctx.sessions() as session:
            subscription_id = await session.scalar(
                select(Subscription.id).where(Subscription.user_id == user_id)
            )
        if subscription_id is None:
            raise Invalid({"form": "no_subscription"})
        workflow_id = provision_workflow_id(subscription_id, f"console:{action_id}")
        inp = ProvisionInput(subscription_id=subscription_id)
        await actions.start_once(self.ctx, ProvisionSubscriptionWorkflow.run, inp, workflow_id)
        after = {"workflow": workflow_id}
        target = f"user:{user_id}"
        return await actions.recorded(
            self.ctx.sessions, self.actor, action_id, "customer.provision", target, reason, after
        )

    async def message(self, user_id: int, text: str, action_id: str, reason: str) -> bool:
        reason = actions.checked(action_id, reason)
        text = text.strip()
        if not text:
            raise Invalid({"text": "required"})
        if len(text) > MAX_MESSAGE:
            raise Invalid({"text": "too_long"})
        if not is_telegram_html(text):  # Telegram would refuse it after the form said "sent"
            raise Invalid({"text": "html"})
        await self._user(user_id)
        notice = CustomerNoticeInput(user_id=user_id, text=text, operator_id=self.actor.id)
        workflow_id = notice_workflow_id(action_id)
        await actions.start_once(self.ctx, CustomerNoticeWorkflow.run, notice, workflow_id)
        after = {"message": text[:200]}
        target = f"user:{user_id}"
        return await actions.recorded(
            self.ctx.sessions, self.actor, action_id, "customer.message", target, reason, after
        )
