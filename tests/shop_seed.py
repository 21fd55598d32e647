"""A shop with history, for the dashboard's test and benchmark: customers, subscriptions, payments
in every status and method over 60 days, hosts with clients behind. Rows are generated from a
seed (the same seed, the same shop) and inserted in bulk; `Seeded` keeps them so a test can count
what the dashboard must show without asking the database."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from shop.db import SessionFactory
from shop.models import Host, PanelClient, Payment, PaymentMethod, PaymentStatus, Plan, Subscription, User

METHODS = list(PaymentMethod)
# As in a running shop: most orders delivered or left unpaid, a few waiting for someone.
STATUS_WEIGHTS = {
    PaymentStatus.DELIVERED: 50, PaymentStatus.EXPIRED: 20, PaymentStatus.CANCELED: 10,
    PaymentStatus.CREATED: 6, PaymentStatus.PENDING: 6, PaymentStatus.REFUNDED: 3,
    PaymentStatus.REVIEW: 2, PaymentStatus.SUCCEEDED: 3,
}  # fmt: skip
BATCH = 5000


@dataclass
class Seeded:
    now: datetime
    users: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    hosts: list[dict[str, Any]] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)


def generate(now: datetime, customers: int, payments: int, hosts: int = 3, seed: int = 16) -> Seeded:
    rng = random.Random(seed)
    shop = Seeded(now)
    for n in range(customers):
        user_id = 10_000 + n
        trial = rng.random() < 0.6
        shop.users.append({
            "id": user_id, "username": f"u{n}", "full_name": f"User {n}", "language": "ru",
            "trial_used": trial, "banned": False, "updated_at": now,
            "created_at": now - timedelta(minutes=rng.randint(0, 60 * 24 * 60)),
        })  # fmt: skip
        if rng.random() < 0.8:
            shop.subscriptions.append({
                "id": n + 1, "user_id": user_id, "token": f"t{n:012d}",
                "expires_at": now + timedelta(minutes=rng.randint(-60 * 24 * 40, 60 * 24 * 40)),
                "has_paid": rng.random() < 0.5, "created_at": now, "updated_at": now,
            })  # fmt: skip
    for n in range(payments):
        status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        method = rng.choice(METHODS)
        created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        paid = status in (PaymentStatus.SUCCEEDED, PaymentStatus.DELIVERED, PaymentStatus.REFUNDED)
        shop.payments.append({
            "id": f"p{n:012d}", "user_id": 10_000 + rng.randrange(customers), "plan_id": 1,
            "method": method, "status": status,
            "amount": Decimal(rng.choice((150, 199, 499))) if method is PaymentMethod.STARS
            else Decimal(rng.choice(("199.00", "499.00", "1290.50"))),
            "currency": "XTR" if method is PaymentMethod.STARS else "RUB",
            "transfer_claimed_at": created if method is PaymentMethod.P2P and rng.random() < 0.5 else None,
            "created_at": created, "updated_at": created,
            "paid_at": created + timedelta(minutes=3) if paid else None,
            "delivered_at": created + timedelta(minutes=4) if status is PaymentStatus.DELIVERED else None,
            "discount_percent": 0,
        })  # fmt: skip
    for n in range(hosts):
        shop.hosts.append({
            "id": n + 1, "name": f"host-{n}", "panel_url": f"https://panel{n}.example/", "inbound_id": 1,
            "enabled": n != hosts - 1, "country": "", "flag": "", "sort_order": n, "verify_tls": True,
            "username": "", "password_encrypted": "", "api_token_encrypted": "", "totp_secret_encrypted": "",
            # The first host reconciled fine, the second could not reach its panel, the rest never ran.
            "last_reconcile_at": now if n < 2 else None,
            "last_reconcile_report": None if n >= 2 else json.dumps(
                {"host_id": n + 1, "host_name": f"host-{n}", "errors": [] if n == 0 else ["timeout"]}
            ),
        })  # fmt: skip
    for subscription in shop.subscriptions[: len(shop.subscriptions) // 2]:
        host_id = rng.randint(1, hosts)
        shop.clients.append({
            "subscription_id": subscription["id"], "host_id": host_id, "client_uuid": "0" * 36,
            "email": f"c-{subscription['id']}-{host_id}", "sub_id": f"s{subscription['id']}",
            "link": "", "enabled_written": True, "upload": 0, "download": 0,
            "needs_reconcile": rng.random() < 0.1,
        })  # fmt: skip
    return shop


async def insert_seeded(sessions: SessionFactory, shop: Seeded) -> None:
    async with sessions() as session, session.begin():
        plan = {"id": 1, "name": "Month", "duration_days": 30, "price": Decimal(199), "currency": "RUB",
                "active": True, "sort_order": 0, "created_at": shop.now}  # fmt: skip
        await session.execute(insert(Plan), [plan])
        for table, rows in (
            (User, shop.users),
            (Subscription, shop.subscriptions),
            (Payment, shop.payments),
            (Host, shop.hosts),
            (PanelClient, shop.clients),
        ):
            for start in range(0, len(rows), BATCH):
                await session.execute(insert(table), rows[start : start + BATCH])
