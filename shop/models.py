"""The shop's tables (SQLAlchemy 2). Alembic migrations in `shop/migrations` create the same schema."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Product(enum.StrEnum):
    """What a plan sells and a grant extends: the VPN subscription or the Telegram MTProto proxy."""

    VPN = "vpn"
    PROXY = "proxy"


class GrantKind(enum.StrEnum):
    PURCHASE = "purchase"
    TRIAL = "trial"
    GIFT = "gift"
    REFERRAL = "referral"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"  # an operator adds or removes days by hand


class PaymentMethod(enum.StrEnum):
    YOOKASSA = "yookassa"
    CRYPTOPAY = "cryptopay"
    STARS = "stars"
    P2P = "p2p"
    BALANCE = "balance"  # the customer's RUB balance (shop.balance): no provider, debited once


class PaymentStatus(enum.StrEnum):
    CREATED = "created"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    DELIVERED = "delivered"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REVIEW = "review"
    REFUNDED = "refunded"


class PaymentPurpose(enum.StrEnum):
    """What a payment buys: days for the payer, money on their balance, or a gift for someone else."""

    SUBSCRIPTION = "subscription"
    TOPUP = "topup"
    GIFT = "gift"


class WithdrawalStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    SKIPPED = "skipped"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK, so adding a member needs no ALTER TYPE on PostgreSQL.
    return Enum(cls, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # Telegram id
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    full_name: Mapped[str] = mapped_column(String(256), default="")
    language: Mapped[str] = mapped_column(String(8), default="ru")
    referrer_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    trial_used: Mapped[bool] = mapped_column(Boolean, default=False)
    bot_blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_users_referrer_id", "referrer_id"),
        Index("ix_users_created_at", "created_at"),  # the dashboard's new customers
        # The console's customer list: newest first, paged by (created_at, id).
        Index("ix_users_created_at_id", "created_at", "id"),
        Index("ix_users_lower_username", text("lower(username)")),  # search by @username
        # Search by a part of a name: a trigram index on PostgreSQL (pg_trgm); a plain one on SQLite,
        # where the migration creates it without the operator class.
        Index("ix_users_name_trgm", text("lower(full_name) gin_trgm_ops"), postgresql_using="gin"),
        # The few users no message may reach: the expiry scan anti-joins against this small index
        # instead of reading every user.
        Index(
            "ix_users_unreachable",
            "id",
            postgresql_where=text("banned OR bot_blocked_at IS NOT NULL"),
            sqlite_where=text("banned OR bot_blocked_at IS NOT NULL"),
        ),
    )


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # Cache of the ledger's result: written only by shop.access.ledger in the grant's transaction.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    has_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    token_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The proxy entitlement's expiry: a cache of the ledger's proxy grants, like `expires_at`.
    proxy_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Grant(Base):
    """One row of the entitlement ledger; `source_key` makes every grant apply at most once."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[GrantKind] = mapped_column(_enum(GrantKind, "grant_kind"))
    product: Mapped[Product] = mapped_column(
        _enum(Product, "product"), default=Product.VPN, server_default="vpn"
    )
    source_key: Mapped[str] = mapped_column(String(128), unique=True)
    duration_seconds: Mapped[int] = mapped_column(BigInteger)
    resulting_expiry: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanAudience(enum.StrEnum):
    ANY = "any"
    FIRST = "first"  # only for customers who never paid
    RENEWAL = "renewal"  # only for customers who paid before


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))  # Russian, and every language without its own
    name_en: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Comma-separated payment methods that may sell the plan; empty: every method the shop offers.
    methods: Mapped[str] = mapped_column(String(64), default="", server_default="")
    audience: Mapped[PlanAudience] = mapped_column(
        _enum(PlanAudience, "plan_audience"), default=PlanAudience.ANY, server_default="any"
    )
    product: Mapped[Product] = mapped_column(
        _enum(Product, "product"), default=Product.VPN, server_default="vpn"
    )
    duration_days: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(8), default="RUB")
    price_stars: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Host(Base):
    __tablename__ = "hosts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    panel_url: Mapped[str] = mapped_column(String(512))  # scheme://host:port/base-path/
    username: Mapped[str] = mapped_column(String(128), default="")
    password_encrypted: Mapped[str] = mapped_column(Text, default="")
    api_token_encrypted: Mapped[str] = mapped_column(Text, default="")
    totp_secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    verify_tls: Mapped[bool] = mapped_column(Boolean, default=True)
    inbound_id: Mapped[int] = mapped_column(Integer)
    public_address: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    country: Mapped[str] = mapped_column(String(64), default="")
    flag: Mapped[str] = mapped_column(String(16), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The last reconciliation of this host (shop.access.reconcile.HostReconcileReport as JSON).
    last_reconcile_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reconcile_report: Mapped[str | None] = mapped_column(Text)


class PanelClient(Base):
    """A subscription's client on one host, and what the shop last wrote there."""

    __tablename__ = "panel_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(Integer, ForeignKey("subscriptions.id", ondelete="CASCADE"))
    host_id: Mapped[int] = mapped_column(Integer, ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    client_uuid: Mapped[str] = mapped_column(String(36))
    email: Mapped[str] = mapped_column(String(64))
    sub_id: Mapped[str] = mapped_column(String(32))
    link: Mapped[str] = mapped_column(Text, default="")
    expiry_written: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enabled_written: Mapped[bool] = mapped_column(Boolean, default=False)
    upload: Mapped[int] = mapped_column(BigInteger, default=0)
    download: Mapped[int] = mapped_column(BigInteger, default=0)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    needs_reconcile: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("subscription_id", "host_id"),
        Index("ix_panel_clients_email", "email"),  # the console finds a customer by panel email
    )


class MtgHost(Base):
    """An MTG admin panel (Telegram MTProto proxies on its nodes); the password sealed like a host's."""

    __tablename__ = "mtg_hosts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    panel_url: Mapped[str] = mapped_column(String(512))
    username: Mapped[str] = mapped_column(String(128), default="")
    password_encrypted: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProxyClient(Base):
    """A subscription's proxy on an MTG panel (one per customer), and what the shop last wrote there."""

    __tablename__ = "proxy_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("subscriptions.id", ondelete="CASCADE"), unique=True
    )
    host_id: Mapped[int] = mapped_column(Integer, ForeignKey("mtg_hosts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))  # deterministic, from the subscription id
    node: Mapped[str] = mapped_column(String(64), default="")  # empty until a node holds it
    link: Mapped[str] = mapped_column(Text, default="")  # tg://proxy?server=…&port=…&secret=…
    expiry_written: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enabled_written: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_reconcile: Mapped[bool] = mapped_column(Boolean, default=False)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Payments an operator must look at: a provider's answer that did not match (review), money taken
# but not delivered (succeeded), a P2P transfer the customer says they made. Few rows in a big shop:
# the dashboard counts them through a partial index with this predicate.
NEEDS_ATTENTION = text(
    "status IN ('review', 'succeeded')"
    " OR (method = 'p2p' AND status = 'pending' AND transfer_claimed_at IS NOT NULL)"
)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # ours, minted at method choice
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("plans.id"))  # None: a top-up
    purpose: Mapped[PaymentPurpose] = mapped_column(
        _enum(PaymentPurpose, "payment_purpose"),
        default=PaymentPurpose.SUBSCRIPTION,
        server_default="subscription",
    )
    method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod, "payment_method"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(8))
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus, "payment_status"), default=PaymentStatus.CREATED
    )
    provider_payment_id: Mapped[str | None] = mapped_column(String(128))
    confirmation_url: Mapped[str | None] = mapped_column(Text)
    receipt_email: Mapped[str | None] = mapped_column(String(255))
    review_reason: Mapped[str | None] = mapped_column(Text)
    # P2P: when the customer said "I have paid"; pending with this set = waiting for an operator.
    transfer_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The invitee's first-purchase discount, fixed with `amount` when the payment is minted.
    discount_percent: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The order's worth in RUB after that discount, also for Stars: the referral reward's base.
    price_rub: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("method", "provider_payment_id"),
        Index("ix_payments_status_created_at", "status", "created_at"),
        # The dashboard's revenue windows and daily series, and what needs attention.
        Index("ix_payments_paid_at", "paid_at"),
        # The console's payment list: newest first, paged by (created_at, id), by method.
        Index("ix_payments_created_at_id", "created_at", "id"),
        Index("ix_payments_method_created_at", "method", "created_at"),
        Index(
            "ix_payments_attention", "status", postgresql_where=NEEDS_ATTENTION, sqlite_where=NEEDS_ATTENTION
        ),
    )


class Reminder(Base):
    """One expiry reminder; UNIQUE(subscription, expiry, mark) makes each one send at most once."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(Integer, ForeignKey("subscriptions.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mark: Mapped[str] = mapped_column(String(16))
    status: Mapped[ReminderStatus] = mapped_column(
        _enum(ReminderStatus, "reminder_status"), default=ReminderStatus.PENDING
    )
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("subscription_id", "expires_at", "mark"),)


class BroadcastStatus(enum.StrEnum):
    DRAFT = "draft"  # previewed, waiting for the operator's confirmation
    RUNNING = "running"
    FINISHED = "finished"
    CANCELED = "canceled"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"


class Broadcast(Base):
    """An operator's message copied to every reachable customer; its id is minted at the preview."""

    __tablename__ = "broadcasts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator_id: Mapped[int] = mapped_column(BigInteger)
    source_chat_id: Mapped[int] = mapped_column(BigInteger)
    source_message_id: Mapped[int] = mapped_column(BigInteger)
    button_text: Mapped[str | None] = mapped_column(String(64))
    button_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[BroadcastStatus] = mapped_column(
        _enum(BroadcastStatus, "broadcast_status"), default=BroadcastStatus.DRAFT
    )
    # The snapshot at start: everyone, and those not tried (banned; known to have blocked the bot).
    total: Mapped[int] = mapped_column(Integer, default=0)
    skipped_banned: Mapped[int] = mapped_column(Integer, default=0)
    known_blocked: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BroadcastDelivery(Base):
    """One recipient of a broadcast: the row is the claim (UNIQUE per broadcast and user), its
    status the outcome recorded right after Telegram answered."""

    __tablename__ = "broadcast_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[str] = mapped_column(String(32), ForeignKey("broadcasts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("broadcast_id", "user_id"),)


class ReferralReward(Base):
    """The referrer's share of one delivered invitee payment; UNIQUE(payment_id) applies it once."""

    __tablename__ = "referral_rewards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("payments.id", ondelete="CASCADE"), unique=True
    )
    referrer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    invitee_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # RUB
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("amount > 0", name="ck_referral_rewards_amount_positive"),)


OPEN_WITHDRAWAL = text("status = 'requested'")


class Withdrawal(Base):
    """A request to pay out the referral balance; requested -> approved | declined, once."""

    __tablename__ = "withdrawals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # RUB
    details: Mapped[str] = mapped_column(Text)  # where to pay, as the customer typed it
    status: Mapped[WithdrawalStatus] = mapped_column(
        _enum(WithdrawalStatus, "withdrawal_status"), default=WithdrawalStatus.REQUESTED
    )
    decided_by: Mapped[int | None] = mapped_column(BigInteger)  # the operator's Telegram id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # At most one open request per customer, whatever races the bot loses.
        Index(
            "uq_withdrawals_open_user_id",
            "user_id",
            unique=True,
            postgresql_where=OPEN_WITHDRAWAL,
            sqlite_where=OPEN_WITHDRAWAL,
        ),
        CheckConstraint("amount > 0", name="ck_withdrawals_amount_positive"),
    )


class ShopSetting(Base):
    """One setting the owner changed (shop.storefront); a missing row means the environment's value
    or the default. `value` is JSON."""

    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """One operator action, in the console or the bot: who did what to what, and what changed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(BigInteger, index=True)  # the operator's Telegram id
    channel: Mapped[str] = mapped_column(String(16))  # console, bot or cli
    action: Mapped[str] = mapped_column(String(64))  # e.g. plan.create, customer.ban
    # e.g. plan:3, user:42; indexed for the audit entries on a customer's or a payment's page
    target: Mapped[str] = mapped_column(String(128), default="", index=True)
    before: Mapped[str | None] = mapped_column(Text)  # JSON of the fields that changed
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ConsoleSignin(Base):
    """A redeemed one-time sign-in link: its nonce (so a second use is refused) and the session it
    opened, until the operator signs out or the session expires."""

    __tablename__ = "console_signins"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator_id: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    session_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signed_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SupportTicket(Base):
    """A customer's support conversation and its forum topic in the operators' group: one per
    customer, closed with the topic and reopened by the customer's next message."""

    __tablename__ = "support_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus, "ticket_status"), default=TicketStatus.OPEN
    )
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # the group holding the topic
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set by whoever creates the topic now: ten first messages at once create one topic.
    topic_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The oldest customer message no operator has answered yet (None: nobody is waiting).
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_support_tickets_chat_id_thread_id", "chat_id", "thread_id"),)


class MessageDirection(enum.StrEnum):
    IN = "in"  # the customer's message, copied into the topic
    OUT = "out"  # an operator's message in the topic, copied to the customer


class SupportDelivery(enum.StrEnum):
    PENDING = "pending"  # recorded, the copy not confirmed yet (a retry copies it)
    DELIVERED = "delivered"
    BLOCKED = "blocked"  # the customer blocked the bot
    FAILED = "failed"  # Telegram refused it for good; `error` says why


class SupportMessage(Base):
    """One message of a ticket. UNIQUE(source chat, source message) is the idempotency key: the row is
    written before the copy, so a redelivered update or a retry after a restart never copies twice."""

    __tablename__ = "support_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_tickets.id", ondelete="CASCADE"), index=True)
    direction: Mapped[MessageDirection] = mapped_column(_enum(MessageDirection, "message_direction"))
    source_chat_id: Mapped[int] = mapped_column(BigInteger)
    source_message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # text, photo, video, document, voice, sticker
    author_id: Mapped[int | None] = mapped_column(BigInteger)  # the operator (None: the group itself)
    status: Mapped[SupportDelivery] = mapped_column(
        _enum(SupportDelivery, "support_delivery"), default=SupportDelivery.PENDING
    )
    error: Mapped[str | None] = mapped_column(Text)
    copy_message_id: Mapped[int | None] = mapped_column(BigInteger)  # the copy, in the other chat
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("source_chat_id", "source_message_id"),)


class SupportChat(Base):
    """Where the configured support group lives now: a group upgraded to a supergroup has a new id."""

    __tablename__ = "support_chats"

    configured_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)


class QuickReply(Base):
    """A saved answer operators send in a topic with `/q <name>`."""

    __tablename__ = "support_quick_replies"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Promo codes, the balance and gifts (issue 19) -------------------------------------------------


class PromoKind(enum.StrEnum):
    PERCENT = "percent"  # `value` percent off the order
    FIXED = "fixed"  # `value` RUB off the order
    BONUS_DAYS = "bonus_days"  # `value` days more with the purchase
    FREE_DAYS = "free_days"  # `value` days at once, no purchase (an activation code)


class PromoCode(Base):
    """A code the owner hands out. `used` counts the uses that hold (a conditional UPDATE keeps it
    at most `max_uses` whatever the concurrency; the CHECK is the last line)."""

    __tablename__ = "promo_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # upper case
    kind: Mapped[PromoKind] = mapped_column(_enum(PromoKind, "promo_kind"))
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    max_uses: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    used: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    once_per_customer: Mapped[bool] = mapped_column(Boolean, default=True)
    first_purchase_only: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    plan_ids: Mapped[str] = mapped_column(String(256), default="")  # comma-separated; empty: every plan
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("used >= 0 AND (max_uses IS NULL OR used <= max_uses)", name="ck_promo_codes_used"),
    )


class PromoUse(Base):
    """One use of a code: fixed into a payment when it is minted (UNIQUE payment_id), or a free-day
    activation (no payment). `holder` is the customer while the use counts against "once per
    customer" (UNIQUE with the code); a released use (expired, refunded payment) clears it."""

    __tablename__ = "promo_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("promo_codes.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    payment_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("payments.id", ondelete="CASCADE"), unique=True
    )
    holder: Mapped[int | None] = mapped_column(BigInteger)
    discount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))  # RUB off
    bonus_days: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("code_id", "holder"),)


class PromoChoice(Base):
    """The code a customer entered for their next order (one at a time)."""

    __tablename__ = "promo_choices"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    code_id: Mapped[int] = mapped_column(Integer, ForeignKey("promo_codes.id", ondelete="CASCADE"))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BalanceKind(enum.StrEnum):
    TOPUP = "topup"
    PURCHASE = "purchase"
    REFERRAL = "referral"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"


class BalanceEntry(Base):
    """One movement of a customer's RUB balance (signed); the balance is their sum. `source_key`
    (UNIQUE) applies each movement once: the payment, the gift, the operator's form."""

    __tablename__ = "balance_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[BalanceKind] = mapped_column(_enum(BalanceKind, "balance_kind"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    source_key: Mapped[str] = mapped_column(String(128), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("amount <> 0", name="ck_balance_entries_amount_nonzero"),)


class Gift(Base):
    """A plan bought for someone else: its code goes to the payer; the first customer to open it
    claims it (a conditional UPDATE) and gets the days as a grant keyed by the gift."""

    __tablename__ = "gifts"

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    payment_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("payments.id", ondelete="CASCADE"), unique=True
    )
    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    plan_name: Mapped[str] = mapped_column(String(64))
    days: Mapped[int] = mapped_column(Integer)
    worth: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # RUB, what a refund gives back
    redeemed_by: Mapped[int | None] = mapped_column(BigInteger)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentEventRow(Base):
    """One step of a payment as the shop saw it, appended by the code that did it (webhook handler,
    activities, operator services): the payment page's timeline. Never updated or deleted."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(40), ForeignKey("payments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # shop.payments.timeline.EventKind
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="")  # operator:<id>, webhook, workflow
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_payment_events_payment_id_id", "payment_id", "id"),)


class OperatorAction(Base):
    """An operator's console action, by the id minted into its form: inserted in the transaction of
    the change, so a double click (the same id twice) changes and audits once."""

    __tablename__ = "operator_actions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
