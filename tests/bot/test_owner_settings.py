"""The owner changes settings from another process (the console's); the running bot shows them on
the next screen, without a restart: texts, links, the trial, payment methods and their names."""

from __future__ import annotations

from shop.context import AppContext
from shop.operators.audit import Actor
from tests.bot.conftest import OpenShop
from tests.conftest import Database, make_context
from tests.factories import plan

OWNER = Actor(900, "console")


def console(db: Database) -> AppContext:
    """The console's process: its own context (and settings cache) on the same database."""
    return make_context(db, None, "console")


async def test_texts_and_links_edited_by_the_owner_reach_the_running_bot(
    shop_with: OpenShop, sqlite_db: Database
) -> None:
    # No cache in the bot's process, so the test needs no clock: the cache is shown in test_storefront.
    async with shop_with(settings_cache_seconds=0, shop_name="Env VPN") as shop:
        ann = await shop.started(31, "Ann", "en")
        assert "Welcome to Env VPN, Ann!" in ann.texts[0]
        await ann.taps("About")
        assert ann.last.text is not None and ann.last.text.startswith("ℹ️ Env VPN")
        await ann.taps("Back")
        await ann.taps("Support")
        assert ann.last.text == "No support contact has been set yet."

        await console(sqlite_db).storefront.update(
            {
                "about.en": "<b>Owner VPN</b> — servers in 5 countries.",
                "support_url": "https://t.me/owner_help",
                "channel_url": "@ownernews",
                "instructions_ios.en": "Install <b>Happ</b>, then tap Import.",
                "welcome.en": "Hello from the owner!",
            },
            OWNER,
        )
        await ann.taps("Back")
        await ann.taps("About")
        assert ann.last.text == "Owner VPN — servers in 5 countries."  # the sandbox shows text, not HTML
        assert ann.last.button("Our channel")["url"] == "https://t.me/ownernews"
        await ann.taps("Back")
        await ann.taps("Support")
        assert ann.last.button("Contact support")["url"] == "https://t.me/owner_help"
        await ann.taps("Back")
        await ann.taps("How to connect")
        await ann.taps("iOS")
        assert ann.last.text == "Install Happ, then tap Import."
        bob = await shop.started(32, "Bob", "en")
        assert bob.texts[0] == "Hello from the owner!"
        # Russian customers keep the catalogue's text: the owner replaced only the English one.
        ivan = await shop.started(33, "Ivan", "ru")
        await ivan.taps("О проекте")
        assert ivan.last.text is not None and ivan.last.text.startswith("ℹ️ Env VPN")


async def test_trial_and_payment_methods_switched_by_the_owner(
    shop_with: OpenShop, sqlite_db: Database
) -> None:
    async with shop_with(settings_cache_seconds=0, providers=True) as shop:
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=None)
        cid = await shop.started(34, "Cid", "en")
        await cid.says("/menu")
        assert "🎁 Try for free" in cid.last.button_texts
        await cid.says("/buy")
        await cid.taps("Month")
        assert "⭐ Telegram Stars" not in cid.last.button_texts  # the plan has no Stars price, no rate

        await console(sqlite_db).storefront.update(
            {
                "trial_enabled": False,
                "yookassa_enabled": False,
                "p2p_name": "💳 Card to card",
                "stars_rate": "0.5",
            },
            OWNER,
        )
        await cid.says("/menu")
        assert "🎁 Try for free" not in cid.last.button_texts
        await cid.says("/buy")
        await cid.taps("Month")
        methods = cid.last.button_texts
        assert "🏦 Bank card / SBP" not in methods
        assert {"💳 Card to card", "⭐ Telegram Stars"} <= set(methods)
        await cid.taps("Telegram Stars")
        assert "100 ⭐" in (cid.last.text or "")  # 199 ₽ at 0.5 Stars per ruble, rounded up
