"""The owner's settings on SQLite and PostgreSQL: the environment as the default, each value's
source, validation that refuses bad values and changes nothing, texts, reset, and a change made by
one process (the console) seen by another (the bot, the worker) without a restart."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop.models import PaymentMethod, ShopSetting
from shop.operators import audit
from shop.operators.audit import Actor
from shop.payments.service import available_methods
from shop.storefront.fields import OwnerSettings, Source
from shop.storefront.store import SettingsInvalid, SettingView
from tests.conftest import Database, make_context

OWNER = Actor(1, "console")
WEB = "must be a web address starting with https:// (or empty)"
LE_100 = "Input should be less than or equal to 100"
GE = "Input should be greater than or equal to"


def sources(views: list[SettingView]) -> dict[str, tuple[object, Source]]:
    return {view.name: (view.value, view.source) for view in views}


async def rows(db: Database) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(ShopSetting)) or 0


async def test_values_come_from_the_database_then_the_environment_then_the_default(db: Database) -> None:
    ctx = make_context(db, None, "q", shop_name="Env VPN", support_url="https://t.me/env_help", trial_days=0)
    seen = sources(await ctx.storefront.describe())
    assert seen["shop_name"] == ("Env VPN", Source.ENVIRONMENT)
    assert seen["support_url"] == ("https://t.me/env_help", Source.ENVIRONMENT)
    assert seen["terms_url"] == ("", Source.DEFAULT)
    assert seen["trial_enabled"] == (False, Source.ENVIRONMENT)  # TRIAL_DAYS=0 meant "no trial"
    assert seen["trial_days"] == (3, Source.DEFAULT)
    assert seen["about.en"] == ("", Source.DEFAULT)

    changes = await ctx.storefront.update(
        {"shop_name": "Owner VPN", "support_url": "", "trial_enabled": True, "about.en": "<b>Fast</b> VPN"},
        OWNER,
    )
    assert [(c.name, c.before, c.after) for c in changes] == [
        ("shop_name", "Env VPN", "Owner VPN"),
        ("support_url", "https://t.me/env_help", ""),
        ("trial_enabled", False, True),
        ("about.en", "", "<b>Fast</b> VPN"),
    ]
    seen = sources(await ctx.storefront.describe())
    assert seen["shop_name"] == ("Owner VPN", Source.DATABASE)
    assert seen["support_url"] == ("", Source.DATABASE)  # emptied by the owner: not the env's again
    assert seen["about.en"] == ("<b>Fast</b> VPN", Source.DATABASE)
    current = await ctx.storefront.current()
    assert (current.shop_name, current.support_url) == ("Owner VPN", "")
    assert (current.text("about", "en"), current.text("about", "ru")) == ("<b>Fast</b> VPN", None)
    async with db.sessions() as session:
        row = await session.get(ShopSetting, "shop_name")
    assert row is not None and row.updated_by == "console:1"
    entries, total = await audit.entries(db.sessions)
    assert total == 1 and (entries[0].actor_id, entries[0].action, entries[0].target) == (
        1,
        "settings.update",
        "settings",
    )
    assert entries[0].before == {"shop_name": "Env VPN", "support_url": "https://t.me/env_help",
                                 "trial_enabled": False, "about.en": ""}  # fmt: skip
    assert entries[0].after == {"shop_name": "Owner VPN", "support_url": "", "trial_enabled": True,
                                "about.en": "<b>Fast</b> VPN"}  # fmt: skip

    # Setting what is already there changes nothing and writes nothing.
    assert await ctx.storefront.update({"shop_name": "Owner VPN"}, OWNER) == []

    reset = await ctx.storefront.reset(["shop_name", "support_url", "about.en"], OWNER)
    assert {c.name: c.after for c in reset} == {"shop_name": "Env VPN", "support_url": "https://t.me/env_help",
                                               "about.en": ""}  # fmt: skip
    seen = sources(await ctx.storefront.describe())
    assert seen["shop_name"] == ("Env VPN", Source.ENVIRONMENT) and seen["about.en"] == ("", Source.DEFAULT)
    assert await rows(db) == 1  # trial_enabled stays the owner's
    entries, total = await audit.entries(db.sessions)
    assert total == 2 and entries[0].action == "settings.reset"  # the no-op update wrote nothing
    assert entries[0].after == {
        "shop_name": "Env VPN",
        "support_url": "https://t.me/env_help",
        "about.en": "",
    }


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({"support_url": "t.me/help"}, {"support_url": WEB}),
        ({"terms_url": "javascript:alert(1)"}, {"terms_url": WEB}),
        ({"referral_percent": -1}, {"referral_percent": f"{GE} 0"}),
        ({"referral_percent": 101, "shop_name": "Fine"}, {"referral_percent": LE_100}),
        ({"referral_min_withdrawal": "0"}, {"referral_min_withdrawal": "Input should be greater than 0"}),
        ({"trial_days": 0}, {"trial_days": f"{GE} 1"}),
        ({"shop_name": ""}, {"shop_name": "String should have at least 1 character"}),
        ({"reminder_marks": "-24h,tomorrow"},
         {"reminder_marks": "bad reminder mark 'tomorrow': use offsets like -24h, 0h, +1d"}),
        ({"channel_chat_id": "news"}, {"channel_chat_id": "must be @channelname or a numeric chat id "
                                          "like -1001234567890"}),
        ({"about.en": "<b>bold"}, {"about.en": "<b> is never closed"}),
        ({"welcome.ru": "<script>x</script>"}, {"welcome.ru": "<script> is not allowed: use b, i, u, s, a, "
                                    "code, pre or blockquote"}),
        ({"welcome.de": "Hallo"}, {"welcome.de": "is not a setting"}),
        ({"database_url": "sqlite://"}, {"database_url": "is not a setting"}),
        ({"force_channel_subscription": True, "channel_url": "https://t.me/+invite"},
         {"force_channel_subscription": "needs a public channel link (https://t.me/name or @name) or a "
                                        "channel chat id; the bot cannot check an invite link"}),
    ],
)  # fmt: skip
async def test_a_bad_value_is_refused_by_name_and_changes_nothing(
    db: Database, changes: dict[str, object], refused: dict[str, str]
) -> None:
    ctx = make_context(db, None, "q", shop_name="Env VPN")
    await ctx.storefront.update({"p2p_requisites": "Card 2200 0000 0000 0000"}, OWNER)
    before = await ctx.storefront.current()
    with pytest.raises(SettingsInvalid) as error:
        await ctx.storefront.update(changes, OWNER)
    assert error.value.errors == refused
    assert set(error.value.fields) == set(refused)  # the console's reason codes, per field
    assert await ctx.storefront.current() == before
    assert await rows(db) == 1
    assert (await audit.entries(db.sessions))[1] == 1  # only the requisites' entry


async def test_a_change_reaches_another_process_without_a_restart(db: Database) -> None:
    # The bot's (or worker's) context and the console's: two Storefronts, as in two processes.
    bot = make_context(db, None, "q", settings_cache_seconds=0, yookassa_shop_id="1", yookassa_secret_key="k")
    console = make_context(db, None, "q")
    owner = await bot.storefront.current()
    assert owner.referral_percent == 10
    # The balance needs no credentials: it is on until the owner switches it off.
    assert available_methods(bot.settings, owner) == [PaymentMethod.YOOKASSA, PaymentMethod.BALANCE]

    await console.storefront.update(
        {
            "referral_percent": 25,
            "p2p_requisites": "Card 2200",
            "yookassa_enabled": False,
            "p2p_name": "Card",
        },
        OWNER,
    )
    owner = await bot.storefront.current()
    assert owner.referral_percent == 25
    assert available_methods(bot.settings, owner) == [PaymentMethod.P2P, PaymentMethod.BALANCE]
    assert owner.method_name(PaymentMethod.P2P) == "Card" and owner.method_name(PaymentMethod.STARS) == ""


async def test_a_process_rereads_only_when_its_cache_runs_out(db: Database) -> None:
    cached = make_context(db, None, "q", settings_cache_seconds=300)
    console = make_context(db, None, "q")
    assert (await cached.storefront.current()).shop_name == "vpnshop"
    await console.storefront.update({"shop_name": "New name"}, OWNER)
    assert (await cached.storefront.current()).shop_name == "vpnshop"  # within its 300 s
    cached.storefront.forget()  # what running out of time does
    assert (await cached.storefront.current()).shop_name == "New name"


async def test_an_environment_value_the_rules_refuse_is_skipped_not_fatal(db: Database) -> None:
    # The environment admits a tg:// support link; the console's rules want a web address. A shop
    # whose .env has one must still start (the owner fixes it in the console).
    ctx = make_context(db, None, "q", support_url="tg://resolve?domain=help", shop_name="Env VPN")
    current = await ctx.storefront.current()
    assert (current.support_url, current.shop_name) == ("", "Env VPN")
    views = {view.name: view for view in await ctx.storefront.describe()}
    assert views["support_url"].source is Source.DEFAULT and views["shop_name"].source is Source.ENVIRONMENT
    await ctx.storefront.update({"support_url": "https://t.me/help"}, OWNER)  # the owner fixes it here
    assert (await ctx.storefront.current()).support_url == "https://t.me/help"


async def test_a_value_stored_under_looser_rules_is_skipped_not_fatal(db: Database) -> None:
    ctx = make_context(db, None, "q", support_url="https://t.me/env_help")
    async with db.sessions() as session, session.begin():
        session.add(ShopSetting(key="support_url", value='"not a url"', updated_by="old version"))
        session.add(ShopSetting(key="shop_name", value='"Kept"', updated_by="old version"))
    current = await ctx.storefront.current()
    assert (current.support_url, current.shop_name) == ("https://t.me/env_help", "Kept")


async def test_reason_codes_for_the_console(db: Database) -> None:
    ctx = make_context(db, None, "q")
    with pytest.raises(SettingsInvalid) as error:
        await ctx.storefront.update(
            {
                "support_url": "nope",
                "referral_percent": 200,
                "trial_days": "x",
                "about.ru": "<i>",
                "logo": "1",
            },
            OWNER,
        )
    assert error.value.fields == {"logo": "unknown"}  # an unknown name is refused before the values
    with pytest.raises(SettingsInvalid) as error:
        await ctx.storefront.update(
            {"support_url": "nope", "referral_percent": 200, "trial_days": "x", "about.ru": "<i>"}, OWNER
        )
    assert error.value.fields == {
        "support_url": "url", "referral_percent": "out_of_range", "trial_days": "not_number",
        "about.ru": "html",
    }  # fmt: skip


def test_stars_price_and_reminder_policy() -> None:
    owner = OwnerSettings(stars_rate=Decimal("0.55"), trial_reminder_marks="-2d, 0h")
    assert owner.stars_price(150, Decimal(299)) == 150  # the plan's own Stars price wins
    assert owner.stars_price(None, Decimal(299)) == 165  # 164.45 rounded up
    assert OwnerSettings().stars_price(None, Decimal(299)) is None  # no rate: not sold for Stars
    assert [m.name for m in owner.reminder_policy(timedelta(hours=1)).trial] == ["-48h", "0h"]


@pytest.mark.parametrize(
    ("logo", "accepted"),
    [
        ("https://cdn.example.com/logo.png", True),
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("data:image/svg+xml;base64,PHN2Zy8+", True),
        ("javascript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("data:image/png;base64," + "A" * 70_000, False),
    ],
)
def test_a_logo_is_an_https_image_or_a_small_inline_image(logo: str, accepted: bool) -> None:
    if accepted:
        assert OwnerSettings(logo_url=logo).logo_url == logo
    else:
        with pytest.raises(ValueError, match="https://"):
            OwnerSettings(logo_url=logo)
