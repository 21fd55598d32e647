"""A second copy, busy ports, a first-time owner's settings and the secrets on disk: `vpnshop` as an
operator runs it, in real subprocesses."""

from __future__ import annotations

import logging
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shop.db import create_engine
from shop.runtime.temporal import free_port
from shop.settings import SettingsError, load_settings
from tests.test_cli import Shop, _env, _run, shop  # noqa: F401 (the fixture)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_second_up_on_one_data_dir_is_refused_naming_the_first(shop: Shop) -> None:  # noqa: F811
    data = shop.tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "vpnshop.db").touch(mode=0o644)  # as earlier versions left them
    data.chmod(0o755)
    (data / "vpnshop.db").chmod(0o644)
    shop.start()
    await shop.wait_healthy()
    assert shop.process is not None
    temporal_log = (data / "temporal.log").read_bytes()

    ports = {"API_PORT": free_port(), "TEMPORAL_PORT": free_port(), "TEMPORAL_UI_PORT": free_port()}
    second = _run(["up"], {**shop.env, **{k: str(v) for k, v in ports.items()}}, shop.tmp_path)
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [
        f"vpnshop: {data} is in use by another vpnshop (PID {shop.process.pid}): "
        "stop it first, or give this one its own DATA_DIR"
    ]
    assert (data / "temporal.log").read_bytes()[: len(temporal_log)] == temporal_log
    assert "starting vpnshop" not in second.stderr

    # The secrets on disk are the shop's user's only, those of earlier versions too.
    assert _mode(data) == 0o700
    for name in ("vpnshop.db", "temporal.db", "temporal.log", "vpnshop.lock"):
        assert _mode(data / name) & 0o077 == 0, f"{name} is {oct(_mode(data / name))}"
    assert shop.stop() == 0


@pytest.fixture
def listeners() -> Iterator[list[int]]:
    sockets = []
    for _ in range(2):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sockets.append(sock)
    yield [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()


def test_busy_ports_are_each_named_before_anything_starts(tmp_path: Path, listeners: list[int]) -> None:
    api_port, ui_port = listeners
    env = _env(
        tmp_path, API_PORT=str(api_port), TEMPORAL_PORT=str(free_port()), TEMPORAL_UI_PORT=str(ui_port)
    )
    result = _run(["up"], env, tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(f"vpnshop: port {api_port} (API_PORT, for the API) is in use")
    assert lines[1].startswith(f"vpnshop: port {ui_port} (TEMPORAL_UI_PORT, for the Temporal UI) is in use")
    data = tmp_path / "data"
    assert not (data / "temporal.log").exists() and not (data / "vpnshop.db").exists()


@pytest.mark.parametrize("command", ["up", "bot"])
def test_bot_without_a_public_url_is_refused(tmp_path: Path, command: str) -> None:
    env = _env(tmp_path, TELEGRAM_BOT_TOKEN="123456:ABC-real-looking", TEMPORAL_ADDRESS="127.0.0.1:1")
    if command == "up":
        del env["TEMPORAL_ADDRESS"]
    result = _run([command], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vpnshop: invalid setting PUBLIC_BASE_URL: required when TELEGRAM_BOT_TOKEN")
    assert "http://127.0.0.1:8080" in lines[0]
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("public_base_url", "vpn.example.com"),
        ("public_base_url", "ftp://vpn.example.com"),
        ("public_base_url", "https://vpn.example.com/?x=1"),
        ("support_url", "javascript:alert(1)"),
        ("support_url", "t.me/help"),
        ("terms_url", "https://exa mple.com/terms"),
        ("privacy_url", "/privacy"),
        ("channel_url", "vpnnews"),
        ("currency", "rubles"),
        ("currency", "R1B"),
    ],
)
def test_owner_facing_urls_and_currency_are_validated(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"invalid setting {name.upper()}:"):
        load_settings(_env_file=None, **{name: value})


def test_good_urls_and_currency_pass() -> None:
    settings = load_settings(
        _env_file=None,
        public_base_url="https://vpn.example.com/shop",
        support_url="tg://resolve?domain=help_desk",
        terms_url="https://example.com/terms",
        channel_url="@vpnnews",
        currency="usd",
    )
    assert (settings.base_url, settings.currency) == ("https://vpn.example.com/shop", "USD")


def test_malformed_database_url_is_reported_without_its_password(tmp_path: Path) -> None:
    result = _run(["up"], _env(tmp_path, DATABASE_URL="mysql://shop:hunter2-secret@db/shop"), tmp_path)
    assert result.returncode == 2
    assert "hunter2" not in result.stderr
    assert result.stderr.strip() == (
        "vpnshop: invalid setting DATABASE_URL: Value error, must start with sqlite+aiosqlite:// or "
        "postgresql+asyncpg:// (got 'mysql://shop:***@db/shop')"
    )


async def test_debug_sql_logs_never_carry_subscription_tokens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = "Zq3xTokenOfACustomer_0123456789"
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT :token"), {"token": token})
            with pytest.raises(Exception) as failed:
                await connection.execute(text("SELECT * FROM missing WHERE t = :token"), {"token": token})
    finally:
        await engine.dispose()
    assert "SELECT" in caplog.text, "the statement itself is still logged"
    assert token not in caplog.text
    assert token not in str(failed.value)
