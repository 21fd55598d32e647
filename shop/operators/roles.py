"""Operator roles, from settings: ADMIN_IDS are owners (everything), CONSOLE_SUPPORT_IDS support
(customers and payments only). Read on every request, so removing an id revokes at once."""

from __future__ import annotations

import enum

from shop.settings import Settings


class Role(enum.StrEnum):
    OWNER = "owner"
    SUPPORT = "support"


def role_of(settings: Settings, telegram_id: int) -> Role | None:
    if telegram_id in settings.admin_ids:
        return Role.OWNER
    if telegram_id in settings.console_support_ids:
        return Role.SUPPORT
    return None


def allows(role: Role, needed: Role) -> bool:
    """An owner may do what support may; support may not do an owner's action."""
    return role is Role.OWNER or role is needed
