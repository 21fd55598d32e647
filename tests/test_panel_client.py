"""The panel client against sandbox panels in every version mode, over real HTTP."""

from __future__ import annotations

import asyncio
import time

import pytest

from sandbox.panel import V2, V3_0, V3_1, V3_4, SandboxPanel
from shop.http_client import Timeouts
from shop.panel.client import PanelClient, UpsertAction
from shop.panel.errors import PanelAuthError, PanelDuplicate, PanelNotFound, PanelUnavailable
from shop.panel.models import VISION, ClientSpec
from shop.panel.session import PanelCredentials
from shop.panel.totp import totp
from tests.panel_fixtures import StartPanel

UUID = "b831381d-6324-4d53-ad4f-8cda48b30811"
DAY_MS = 86_400_000
EXPIRY = int(time.time() * 1000) + 30 * DAY_MS


def spec(**changes: object) -> ClientSpec:
    values: dict[str, object] = {
        "uuid": UUID,
        "email": "vpnshop-7-1",
        "sub_id": "k3j4h5g6f7d8s9a0",
        "expiry_ms": EXPIRY,
        "enable": True,
        "flow": VISION,
        "tg_id": 12345,
    }
    values.update(changes)
    return ClientSpec(**values)  # type: ignore[arg-type]


def client_for(panel: SandboxPanel, timeout: float = 3.0, **creds: object) -> PanelClient:
    values: dict[str, object] = {"url": panel.url, "username": panel.username, "password": panel.password}
    values.update(creds)
    return PanelClient(PanelCredentials(**values), Timeouts.of(timeout))  # type: ignore[arg-type]


async def test_detects_each_version(any_panel: SandboxPanel) -> None:
    # v3.4.2+ speaks the v3.1 routes; only its record and write types differ, which the client's
    # write bodies cover without knowing the minor version.
    expected = V3_1 if any_panel.version == V3_4 else any_panel.version
    async with client_for(any_panel) as panel:
        assert (await panel.version()).value == expected


async def test_client_lifecycle_in_every_version(any_panel: SandboxPanel) -> None:
    async with client_for(any_panel) as panel:
        await panel.version()
        inbound = any_panel.inbound_id
        # An operator's own client, so deleting ours is not refused by the last-client rule.
        any_panel.state.add_clients(
            inbound,
            {
                "clients": [
                    {"id": "0b7d4c55-0000-4000-8000-000000000009", "email": "admin-phone", "enable": True}
                ]
            },
        )
        wanted = spec()
        before = panel.calls
        assert (await panel.upsert_client(inbound, wanted)).action is UpsertAction.CREATED
        assert panel.calls - before <= 2
        stored = any_panel.client(wanted.email)
        assert stored is not None and stored["id"] == UUID and stored["expiryTime"] == wanted.expiry_ms
        assert stored["subId"] == wanted.sub_id and stored["flow"] == VISION and stored["enable"] is True

        before = panel.calls
        assert (await panel.upsert_client(inbound, wanted)).action is UpsertAction.UNCHANGED
        assert panel.calls - before == 1

        for change in (
            {"expiry_ms": wanted.expiry_ms + 30 * DAY_MS},  # extend
            {"expiry_ms": wanted.expiry_ms - 10 * DAY_MS},  # shorten
            {"enable": False},
            {"enable": True},
        ):
            wanted = spec(**{**wanted.__dict__, **change})
            before = panel.calls
            result = await panel.upsert_client(inbound, wanted)
            assert result.action is UpsertAction.UPDATED and result.drift
            assert panel.calls - before <= 3
            stored = any_panel.client(wanted.email)
            assert stored is not None
            assert (stored["expiryTime"], stored["enable"]) == (wanted.expiry_ms, wanted.enable)
            assert stored["subId"] == wanted.sub_id and stored["tgId"] == 12345  # nothing dropped by replace
        assert len([c for c in any_panel.clients() if c["email"] == wanted.email]) == 1

        assert await panel.delete_client(inbound, wanted.email) is True
        assert any_panel.client(wanted.email) is None
        assert await panel.delete_client(inbound, wanted.email) is False
        assert any_panel.client("admin-phone") is not None


async def test_a_fresh_client_is_added_in_one_call_and_a_present_one_is_read_back(
    any_panel: SandboxPanel,
) -> None:
    """`fresh` (the shop never wrote this client here) skips the lookup where the panel refuses a
    duplicate add (v2, v3.0); when the client is there after all (an attempt whose answer was lost),
    the `Duplicate email` leads to reading it back and rewriting what differs. v3.1+ takes such an
    add as a no-op success, so there the lookup stays."""
    async with client_for(any_panel) as panel:
        classic = not (await panel.version()).clients_api
        inbound = any_panel.inbound_id
        before = panel.calls
        assert (await panel.upsert_client(inbound, spec(), fresh=True)).action is UpsertAction.CREATED
        assert panel.calls - before == (1 if classic else 2)

        longer = spec(expiry_ms=EXPIRY + 30 * DAY_MS)
        result = await panel.upsert_client(inbound, longer, fresh=True)
        assert result.action is (UpsertAction.CREATED if classic else UpsertAction.UPDATED) and result.drift
        stored = any_panel.client(longer.email)
        assert stored is not None and stored["expiryTime"] == longer.expiry_ms
        assert len([c for c in any_panel.clients() if c["email"] == longer.email]) == 1


async def test_update_keeps_the_operators_fields(any_panel: SandboxPanel) -> None:
    async with client_for(any_panel) as panel:
        await panel.upsert_client(any_panel.inbound_id, spec())
        stored = any_panel.client("vpnshop-7-1")
        assert stored is not None
        stored.update(limitIp=2, comment="vip")  # set by an admin in the panel UI
        await panel.upsert_client(any_panel.inbound_id, spec(enable=False))
        stored = any_panel.client("vpnshop-7-1")
        assert stored is not None and (stored["limitIp"], stored["comment"], stored["enable"]) == (
            2,
            "vip",
            False,
        )


async def test_delete_of_the_last_client_is_refused_by_classic_panels(start_panel: StartPanel) -> None:
    from shop.panel.errors import PanelLastClient

    for version in (V2, V3_0):
        sandbox = await start_panel(version=version)
        async with client_for(sandbox) as panel:
            await panel.upsert_client(sandbox.inbound_id, spec())
            with pytest.raises(PanelLastClient):
                await panel.delete_client(sandbox.inbound_id, "vpnshop-7-1")
            await panel.upsert_client(
                sandbox.inbound_id, spec(email="vpnshop-8-1", uuid="11111111-2222-4333-8444-555555555555")
            )
            assert await panel.delete_client(sandbox.inbound_id, "vpnshop-7-1") is True
            assert sandbox.client("vpnshop-7-1") is None


async def test_logs_in_again_once_when_the_session_is_gone(any_panel: SandboxPanel) -> None:
    async with client_for(any_panel) as panel:
        await panel.upsert_client(any_panel.inbound_id, spec())
        assert any_panel.auth.logins == 1
        any_panel.expire_sessions()
        result = await panel.upsert_client(any_panel.inbound_id, spec(enable=False))
        assert result.action is UpsertAction.UPDATED
        assert any_panel.auth.logins == 2
        assert any_panel.client("vpnshop-7-1")["enable"] is False  # type: ignore[index]


@pytest.mark.parametrize("cookie_name", ["session", "3x-ui"])
async def test_old_panels_answer_401_or_redirect_and_the_client_recovers(
    start_panel: StartPanel, cookie_name: str
) -> None:
    sandbox = await start_panel(version=V2, cookie_name=cookie_name, legacy_unauth=True)
    async with client_for(sandbox) as panel:
        await panel.upsert_client(sandbox.inbound_id, spec())
        sandbox.expire_sessions()
        assert (
            await panel.upsert_client(sandbox.inbound_id, spec(enable=False))
        ).action is UpsertAction.UPDATED
        assert sandbox.auth.logins == 2


async def test_commit_then_timeout_is_retried_without_a_second_client(any_panel: SandboxPanel) -> None:
    async with client_for(any_panel, timeout=1.0) as panel:
        await panel.version()
        any_panel.faults.commit_then_timeout = 1
        any_panel.faults.hang_seconds = 3
        with pytest.raises(PanelUnavailable):
            await panel.upsert_client(any_panel.inbound_id, spec())
        assert any_panel.client("vpnshop-7-1") is not None  # the write landed
        assert (await panel.upsert_client(any_panel.inbound_id, spec())).action is UpsertAction.UNCHANGED
        assert len([c for c in any_panel.clients() if c["email"] == "vpnshop-7-1"]) == 1


async def test_racing_adds_end_with_one_client(any_panel: SandboxPanel) -> None:
    any_panel.faults.delay = 0.05  # both lookups miss before either add lands
    async with client_for(any_panel) as first, client_for(any_panel) as second:
        results = await asyncio.gather(
            first.upsert_client(any_panel.inbound_id, spec()),
            second.upsert_client(any_panel.inbound_id, spec()),
        )
    assert {r.action for r in results} <= {UpsertAction.CREATED, UpsertAction.UNCHANGED}
    assert len([c for c in any_panel.clients() if c["email"] == "vpnshop-7-1"]) == 1


async def test_empty_answer_and_panic_are_unavailable_and_retry_is_safe(any_panel: SandboxPanel) -> None:
    async with client_for(any_panel) as panel:
        await panel.version()
        any_panel.faults.panic_next = 1
        with pytest.raises(PanelUnavailable, match="HTTP 500"):
            await panel.upsert_client(any_panel.inbound_id, spec())
        assert any_panel.client("vpnshop-7-1") is None  # a panic changes nothing
        any_panel.faults.empty_next = 1
        any_panel.faults.only_path = "add"
        with pytest.raises(PanelUnavailable, match="empty answer"):
            await panel.upsert_client(any_panel.inbound_id, spec())
        assert (await panel.upsert_client(any_panel.inbound_id, spec())).action is UpsertAction.UNCHANGED


async def test_panel_down_then_up_keeps_the_session(any_panel: SandboxPanel) -> None:
    async with client_for(any_panel) as panel:
        await panel.upsert_client(any_panel.inbound_id, spec())
        await any_panel.down()
        with pytest.raises(PanelUnavailable):
            await panel.upsert_client(any_panel.inbound_id, spec(enable=False))
        await any_panel.up()
        assert (
            await panel.upsert_client(any_panel.inbound_id, spec(enable=False))
        ).action is UpsertAction.UPDATED
        assert any_panel.auth.logins == 1  # cookies survive a panel restart


async def test_slow_panel_times_out(any_panel: SandboxPanel) -> None:
    any_panel.faults.delay = 1.5
    async with client_for(any_panel, timeout=0.5) as panel:
        with pytest.raises(PanelUnavailable, match="timed out"):
            await panel.version()


async def test_bad_credentials_unknown_inbound_and_wrong_base_path(any_panel: SandboxPanel) -> None:
    async with client_for(any_panel, password="wrong") as panel:
        with pytest.raises(PanelAuthError, match="Invalid username or password"):
            await panel.version()
    async with client_for(any_panel) as panel:
        with pytest.raises(PanelNotFound):
            await panel.get_inbound(99)
        with pytest.raises(PanelNotFound):
            await panel.upsert_client(99, spec())
    async with client_for(any_panel, url=f"http://127.0.0.1:{any_panel.port}/wrong/") as panel:
        with pytest.raises(PanelNotFound, match="base path"):
            await panel.version()


async def test_foreign_client_holding_our_email_is_a_duplicate(start_panel: StartPanel) -> None:
    for version in (V2, V3_0):
        sandbox = await start_panel(version=version)
        other = sandbox.state.add_inbound(port=8443, remark="other")
        sandbox.state.add_clients(
            other.id,
            {
                "clients": [
                    {
                        "id": "0b7d4c55-0000-4000-8000-000000000001",
                        "email": "VPNSHOP-7-1",
                        "subId": "x",
                        "enable": True,
                    }
                ]
            },
        )
        async with client_for(sandbox) as panel:
            with pytest.raises(PanelDuplicate):
                await panel.upsert_client(sandbox.inbound_id, spec())
        assert sandbox.client("vpnshop-7-1") is None


@pytest.mark.parametrize("version", [V3_0, V3_1])
async def test_bearer_token_needs_no_login_and_is_scoped(start_panel: StartPanel, version: str) -> None:
    sandbox = await start_panel(
        version=version, api_tokens={"tok-admin": {"admin"}, "tok-monitor": {"monitor"}}
    )
    async with client_for(sandbox, username="", password="", api_token="tok-admin") as panel:
        assert (await panel.upsert_client(sandbox.inbound_id, spec())).action is UpsertAction.CREATED
    assert sandbox.auth.logins == 0
    async with client_for(sandbox, username="", password="", api_token="tok-monitor") as panel:
        with pytest.raises(PanelAuthError, match="not permitted"):
            await panel.upsert_client(sandbox.inbound_id, spec(enable=False))
    async with client_for(sandbox, username="", password="", api_token="nope") as panel:
        with pytest.raises(PanelAuthError):
            await panel.get_inbound(sandbox.inbound_id)


async def test_two_factor_code(start_panel: StartPanel) -> None:
    secret = "JBSWY3DPEHPK3PXP"
    sandbox = await start_panel(version=V3_0, totp_secret=secret)
    async with client_for(sandbox, totp_secret=secret) as panel:
        assert (await panel.get_inbound(sandbox.inbound_id)).protocol == "vless"
    async with client_for(sandbox) as panel:
        with pytest.raises(PanelAuthError):
            await panel.version()


def test_totp_matches_rfc6238_vectors() -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # b"12345678901234567890"
    assert totp(secret, 59) == "287082"
    assert totp(secret, 1111111109) == "081804"
    assert totp(secret, 2000000000) == "279037"


async def test_v3_login_limiter_blocks_after_five_failures(start_panel: StartPanel) -> None:
    sandbox = await start_panel(version=V3_1)
    for _ in range(5):
        async with client_for(sandbox, password="wrong") as panel:
            with pytest.raises(PanelAuthError):
                await panel.version()
    async with client_for(sandbox) as panel:  # right password, still blocked for 15 minutes
        with pytest.raises(PanelAuthError):
            await panel.version()
    sandbox.auth.clock_offset = 16 * 60
    async with client_for(sandbox) as panel:
        assert (await panel.version()).value == V3_1


async def test_write_bodies_follow_the_write_type_not_the_record(any_panel: SandboxPanel) -> None:
    """No Telegram id is tgId 0; the operator's fields survive with their write types; junk that a
    read brought along (another tool's traffic keys, the record's string allowedIPs) is not sent."""
    async with client_for(any_panel) as panel:
        await panel.upsert_client(any_panel.inbound_id, spec(tg_id=None))
        stored = any_panel.client("vpnshop-7-1")
        assert stored is not None and stored["tgId"] == 0
        if any_panel.state.clients_api:
            stored.update(limitIp=3, group="team", allowedIPs=["10.0.0.2/32"], keepAlive=25)
        else:
            stored.update(limitIp=3, up=99, inboundId=1)  # as py3xui's junk keys land in settings
        await panel.upsert_client(any_panel.inbound_id, spec(tg_id=None, enable=False))
        stored = any_panel.client("vpnshop-7-1")
        assert stored is not None and (stored["enable"], stored["limitIp"]) == (False, 3)
        if any_panel.version == V3_4:
            assert (stored["group"], stored["allowedIPs"], stored["keepAlive"]) == (
                "team",
                ["10.0.0.2/32"],
                25,
            )
        if not any_panel.state.clients_api:
            assert "up" not in stored and "inboundId" not in stored


async def test_a_disabled_client_can_be_added(any_panel: SandboxPanel) -> None:
    # v3.1+ `add` forces enable=true, so the client adds, then updates: the update must decode.
    async with client_for(any_panel) as panel:
        assert (
            await panel.upsert_client(any_panel.inbound_id, spec(enable=False))
        ).action is UpsertAction.CREATED
    stored = any_panel.client("vpnshop-7-1")
    assert stored is not None and stored["enable"] is False and stored["subId"] == spec().sub_id
