"""Settings from the environment and `.env`.

Every process builds one `Settings` through `load_settings()`; a missing or malformed variable
stops start-up with one line naming it (`SettingsError`), never a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shop.messaging.reminders import parse_marks


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


class Settings(BaseSettings):
    # Empty values (as in .env.example) mean "unset": the default applies.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    # Storage and Temporal. Unset TEMPORAL_ADDRESS means "start the embedded dev server".
    data_dir: Path = Path("data")
    database_url: str = ""
    temporal_address: str | None = None
    temporal_namespace: str = "vpnshop"
    temporal_task_queue: str = "vpnshop"
    temporal_port: int = Field(7233, ge=1, le=65535)
    temporal_ui_port: int = Field(8233, ge=1, le=65535)
    temporal_ui_url: str = ""
    temporal_retention_days: int = Field(30, ge=1)
    # Run workflows inside Temporal's sandbox, which re-imports each run's workflow modules and
    # checks every call for non-determinism at run time. Off by default: a payment's workflows
    # replay in 0.24x the CPU without it, and a burst of payments costs the shop's process 9 % less
    # (docs/performance.md); the test suite and the replay of every saved history run with it on,
    # so the checks still see every workflow path we test.
    workflow_sandbox: bool = False

    # HTTP API (webhooks, /sub, health, admin).
    api_host: str = "127.0.0.1"
    api_port: int = Field(8080, ge=1, le=65535)
    public_base_url: str = ""

    # Telegram. The bot runs only when a token is set.
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    # The bot's @username (with or without "@"): processes without the bot (the API) build t.me links.
    telegram_bot_username: str = ""
    admin_ids: Annotated[list[int], NoDecode] = []  # operators; in the console they are owners
    # Console operators with the support role (customers and payments; no settings, hosts, plans
    # or money actions). An id in both lists is an owner.
    console_support_ids: Annotated[list[int], NoDecode] = []
    # Updates by long polling, or by a webhook to PUBLIC_BASE_URL/telegram/webhook served by the API.
    bot_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None

    # Onboarding and the customer's links; each works on its own when set.
    terms_url: str = ""
    privacy_url: str = ""
    channel_url: str = ""  # https://t.me/<name> or @name
    channel_chat_id: str = ""  # what getChatMember checks; default: @name from CHANNEL_URL
    force_channel_subscription: bool = False
    support_url: str = ""  # e.g. https://t.me/<support account>; also offered by the apps and /sub page
    # The support desk (docs/support.md): a forum supergroup where each customer's ticket is a topic.
    # With SUPPORT_BOT_TOKEN a second bot talks to customers; without it the shop bot does.
    support_chat_id: int | None = None
    support_bot_token: SecretStr | None = None
    support_language: Literal["ru", "en"] = "ru"  # of what the desk writes in the topics

    # Key for panel credentials stored in the database (Fernet, urlsafe base64 of 32 bytes).
    encryption_key: SecretStr | None = None

    # 3x-ui panels. Client emails are "<prefix>-<subscription>-<inbound>"; use a distinct prefix
    # per shop when two shops share one panel.
    panel_email_prefix: str = Field("vpnshop", pattern=r"^[a-z][a-z0-9]{0,15}$")
    panel_timeout_seconds: float = Field(15.0, gt=0, le=120)
    panel_reconcile_minutes: int = Field(10, ge=1)

    # Shop.
    shop_name: str = "vpnshop"
    shop_logo_url: str = ""  # https:// or data: image shown beside the name on the /sub page
    currency: str = "RUB"
    trial_days: int = Field(3, ge=0)

    # Expiry lifecycle: reminder marks are offsets from the expiry (-24h before, +24h after).
    reminder_marks: str = "-72h,-24h,-1h,0h,+24h"
    trial_reminder_marks: str = "-24h,0h"
    reminder_grace_hours: int = Field(24, ge=1)
    reminder_keep_days: int = Field(90, ge=1)
    expiry_scan_minutes: int = Field(5, ge=1)
    telegram_messages_per_second: float = Field(28.0, gt=0, le=30)

    # Subscription endpoint /sub/<token>.
    sub_profile_title: str = ""  # profile name in the apps; SHOP_NAME when empty
    sub_update_interval_hours: int = Field(12, ge=1, le=168)
    sub_renew_url: str = ""  # where "Renew" leads; default https://t.me/<TELEGRAM_BOT_USERNAME>?start=renew
    sub_xray_json_for_apps: bool = False
    sub_rate_limit_per_minute: int = Field(60, ge=0)  # per client IP and API process; 0 turns it off
    sub_rate_limit_burst: int = Field(30, ge=1)
    trusted_proxies: Annotated[list[str], NoDecode] = []  # IPs/CIDRs whose X-Forwarded-For is believed

    # Payments. A provider is offered only when its credentials are set.
    yookassa_shop_id: str | None = None
    yookassa_secret_key: SecretStr | None = None
    yookassa_api_url: str = "https://api.yookassa.ru/v3"
    yookassa_return_url: str = "https://t.me/"
    yookassa_receipt_email: str | None = None  # fallback receipt e-mail when the customer gives none
    yookassa_vat_code: int = Field(1, ge=1, le=12)
    yookassa_test_mode: bool = False
    cryptopay_token: SecretStr | None = None
    cryptopay_api_url: str = "https://pay.crypt.bot/api"
    cryptopay_accepted_assets: str = "USDT,TON,BTC"
    cryptopay_invoice_seconds: int = Field(3600, ge=60, le=2678400)
    stars_enabled: bool = False
    p2p_requisites: str = ""  # e.g. "Card 2200 0000 0000 0000, Sberbank, Ivan I."
    p2p_confirm_seconds: int = Field(3600, ge=1)
    p2p_review_seconds: int = Field(24 * 3600, ge=1)
    payment_deadline_minutes: int = Field(120, ge=1)
    payment_poll_first_seconds: int = Field(10, ge=1)
    payment_poll_max_seconds: int = Field(300, ge=1)
    payment_sweep_minutes: int = Field(10, ge=1)
    sales_digest_minutes: int = Field(10, ge=1, le=1440)  # operators hear of sales once per interval
    payment_sweep_lookback_hours: int = Field(48, ge=1)
    provider_timeout_seconds: float = Field(10.0, gt=0)

    # Referral program: the referrer earns a share of each invitee purchase (in RUB), the invitee
    # gets a discount on their first purchase; the balance is paid out by an operator on request.
    referrals_enabled: bool = True
    referral_percent: int = Field(10, ge=0, le=100)
    # Above 90 % a first purchase would be nearly free (and 100 % a 0 ₽ payment no provider takes).
    referral_discount_percent: int = Field(5, ge=0, le=90)
    referral_min_withdrawal: Decimal = Field(Decimal(100), gt=0, le=1_000_000, decimal_places=2)

    # Owner settings (texts, links, trial, referral terms, payment toggles...) live in the database
    # (shop.storefront) with the values above as their defaults; each process rereads them this often.
    settings_cache_seconds: float = Field(3.0, ge=0, le=300)
    # The console dashboard's figures are recomputed at most this often per API process.
    dashboard_cache_seconds: float = Field(30.0, ge=0, le=3600)
    # `/metrics` answers a scraper sending `Authorization: Bearer <METRICS_TOKEN>`; unset, it is 404.
    metrics_token: SecretStr | None = None
    # `vpnshop worker` as a process of its own serves its counters (panel requests and errors) at
    # http://API_HOST:WORKER_METRICS_PORT/metrics, with the same token; unset: it serves nothing.
    worker_metrics_port: int | None = Field(None, ge=1, le=65535)

    # `vpnshop up` runs its worker in this many processes of its own beside the API and the bots,
    # so the shop's work uses every core; 0 runs it inside `up`'s own process. Unset: one per core
    # and per 1.5 GB of memory, at most 4; none on one core, where a process more only adds memory.
    worker_processes: int | None = Field(None, ge=0, le=16)

    log_level: str = "INFO"

    @field_validator("admin_ids", "console_support_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for item in value:
                ipaddress.ip_network(str(item), strict=False)  # ValueError names the bad entry
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value:
            parsed = urlsplit(value)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ValueError("must be the shop's public address, like https://vpn.example.com")
            if parsed.query or parsed.fragment or parsed.username or parsed.password:
                raise ValueError("must be a plain https://host[/path], without ?query, #fragment or login")
        return value

    @field_validator("support_url", "terms_url", "privacy_url", "sub_renew_url", "yookassa_return_url")
    @classmethod
    def _link(cls, value: str) -> str:
        # Telegram buttons and the /sub page open these: http(s) or a tg:// link, nothing else.
        if not value:
            return value
        parsed = urlsplit(value)
        web = parsed.scheme in ("http", "https") and bool(parsed.hostname)
        if not (web or (parsed.scheme == "tg" and parsed.netloc)) or any(c.isspace() for c in value):
            raise ValueError("must be an https:// (or tg://) link")
        return value

    @field_validator("channel_url")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value and not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,31}", value):
            cls._link(value)
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError("must be a three-letter ISO 4217 code, like RUB or USD")
        return value.upper()

    @field_validator("reminder_marks", "trial_reminder_marks")
    @classmethod
    def _marks(cls, value: str) -> str:
        parse_marks(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return upper

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'vpnshop.db'}"

    @property
    def embedded_temporal(self) -> bool:
        return not self.temporal_address

    @property
    def worker_process_count(self) -> int:
        """WORKER_PROCESSES, or what the machine carries (above): two on a 2-core machine carried a
        burst of payments at 17.1/s against 15.5/s with one and 13.2/s in `up`'s own process, and
        each takes ~270 MB at rest (docs/performance.md)."""
        if self.worker_processes is not None:
            return self.worker_processes
        return default_worker_processes(os.cpu_count() or 1, physical_memory())

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def temporal_web(self) -> str:
        return self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}"

    @property
    def shop_bot_is_desk(self) -> bool:
        """The shop bot talks to customers for the support desk (no support bot of its own)."""
        return self.support_chat_id is not None and self.support_bot_token is None

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def reminder_grace(self) -> timedelta:
        return timedelta(hours=self.reminder_grace_hours)

    def is_admin(self, telegram_id: int) -> bool:
        return telegram_id in self.admin_ids


def describe_error(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "settings"
    value = first.get("input")
    # A URL's password (DATABASE_URL's, a proxy's) never reaches the terminal or a log.
    masked = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", str(value))
    hidden = name.endswith(("_KEY", "_TOKEN", "_SECRET", "PASSWORD"))
    shown = "" if value is None or isinstance(value, dict) or hidden else f" (got {masked[:40]!r})"
    return f"invalid setting {name}: {first['msg']}{shown}"


WORKER_PROCESS_MEMORY = 1536 * 2**20  # bytes of the machine's memory per worker process by default


def physical_memory() -> int | None:
    """The machine's memory in bytes, where the system tells it."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def default_worker_processes(cores: int, memory: int | None) -> int:
    if cores < 2:
        return 0
    fits = 4 if memory is None else memory // WORKER_PROCESS_MEMORY
    return min(cores, 4, fits)


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
