"""Users and their subscription: registration, the subscription row, link tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop.db import SessionFactory
from shop.models import Subscription, User, utcnow

TOKEN_BYTES = 24  # 192 bits; the URL-safe form is 32 characters


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass(frozen=True)
class Registration:
    user: User
    created: bool


async def register_user(
    sessions: SessionFactory,
    telegram_id: int,
    username: str | None,
    full_name: str,
    language: str = "ru",
    referrer_id: int | None = None,
) -> Registration:
    """Create the user on the first visit; later visits only refresh the name fields."""
    async with sessions() as session:
        user = await session.get(User, telegram_id)
        if user is not None:
            user.username = username
            user.full_name = full_name
            user.bot_blocked_at = None  # they are talking to the bot, so it is not blocked
            await session.commit()
            return Registration(user, False)
        referrer = None
        if referrer_id and referrer_id != telegram_id:
            referrer = await session.get(User, referrer_id)
        user = User(
            id=telegram_id,
            username=username,
            full_name=full_name,
            language=language,
            referrer_id=referrer.id if referrer else None,
        )
        session.add(user)
        try:
            await session.commit()
        except IntegrityError:
            # A concurrent /start registered the same user first: theirs stands.
            await session.rollback()
            existing = await session.get(User, telegram_id)
            assert existing is not None
            return Registration(existing, False)
        return Registration(user, True)


async def ensure_subscription(sessions: SessionFactory, user_id: int) -> Subscription:
    async with sessions() as session:
        found = await session.scalar(select(Subscription).where(Subscription.user_id == user_id))
        if found is not None:
            return found
        subscription = Subscription(user_id=user_id, token=new_token())
        session.add(subscription)
        try:
            await session.commit()
            return subscription
        except IntegrityError:
            await session.rollback()
            found = await session.scalar(select(Subscription).where(Subscription.user_id == user_id))
            if found is None:
                raise
            return found


async def rotate_token(sessions: SessionFactory, subscription_id: int) -> str:
    """A new link; the old one stops working at once."""
    token = new_token()
    async with sessions() as session, session.begin():
        await session.execute(
            update(Subscription)
            .where(Subscription.id == subscription_id)
            .values(token=token, token_rotated_at=utcnow())
        )
    return token
