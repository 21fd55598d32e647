"""Traffic: the sandbox's traffic job moves the counters, reconciliation reads them from every host,
and `/sub` and the bot's "My subscription" show the totals summed over hosts."""

from __future__ import annotations

import contextlib

from temporalio.client import Client

from bot.routers.subscription import subscription_screen
from sandbox.panel import V2, V3_4, SandboxPanel
from shop.context import AppContext
from shop.customers.users import access_of, get_customer
from shop.panel.identity import parse_email
from tests.panel_fixtures import StartPanel, add_sandbox_host
from tests.sub_client import api_client
from tests.test_panel_sandbox import client_entry, logged_in
from tests.test_reconcile import reconcile, two_subscriptions


def ours(panel: SandboxPanel, subscription_id: int) -> str:
    return next(
        c["email"] for c in panel.clients() if (parse_email(c["email"]) or (0,))[0] == subscription_id
    )


async def test_sub_and_the_bot_show_traffic_summed_over_hosts(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    ctx = panel_worker
    first, second = await start_panel(version=V2), await start_panel(version=V3_4)
    for panel in (first, second):
        await add_sandbox_host(ctx, panel)
    alice, bob = await two_subscriptions(ctx, temporal_client, task_queue)
    first.tick({ours(first, alice.id): (1000, 20000), ours(first, bob.id): (1, 1)})
    first.tick({ours(first, alice.id): (500, 4000)})
    second.tick({ours(second, alice.id): (7, 300)})
    assert first.state.onlines == [ours(first, alice.id)]  # the last cycle's only client with traffic

    result = await reconcile(temporal_client, task_queue, "traffic")
    assert sorted(r.traffic_updated for r in result.hosts) == [1, 2] and not any(
        r.errors for r in result.hosts
    )
    async with api_client(ctx) as client:
        response = await client.get(f"/sub/{alice.token}", headers={"User-Agent": "v2rayNG/1.8.5"})
    assert response.status_code == 200
    assert response.headers["subscription-userinfo"].startswith("upload=1507; download=24300; total=0; ")

    access = await access_of(ctx.sessions, alice.user_id)
    assert (access.upload, access.download) == (1507, 24300)
    customer = await get_customer(ctx.sessions, alice.user_id)
    assert customer is not None
    text, _ = await subscription_screen(ctx, customer, "en")
    assert "Traffic: ↑ 1.47 KB ↓ 23.73 KB" in text

    again = await reconcile(temporal_client, task_queue, "steady")
    assert [r.traffic_updated for r in again.hosts] == [0, 0]


async def test_the_traffic_job_cuts_depleted_and_expired_clients(any_panel: SandboxPanel) -> None:
    http, headers = await logged_in(any_panel)
    async with contextlib.aclosing(http):
        if any_panel.state.clients_api:
            for body in (
                {"client": {**client_entry("quota", subId="q"), "totalGB": 1000}, "inboundIds": [1]},
                {
                    "client": {**client_entry("later", subId="l"), "expiryTime": -86_400_000},
                    "inboundIds": [1],
                },
            ):
                assert (await http.post("panel/api/clients/add", json=body, headers=headers)).json()[
                    "success"
                ]
        else:
            entries = [
                client_entry("quota", subId="q", totalGB=1000),
                client_entry("later", uid="11111111-2222-4333-8444-555555555555", expiryTime=-86_400_000),
            ]
            any_panel.state.add_clients(1, {"clients": entries})
    assert any_panel.tick({"quota": (600, 500), "later": (1, 0)}, at_ms=1_000_000) == ["quota"]
    later = any_panel.state.traffic["later"]
    assert (
        later.expiry_time == 1_000_000 + 86_400_000 and later.last_online == 1_000_000
    )  # started on first use
    assert any_panel.client("later")["expiryTime"] == later.expiry_time  # type: ignore[index]
    # From 2.9.4 the settings entry is switched off as well; 2.8.x only flips the traffic row.
    assert any_panel.client("quota")["enable"] is (any_panel.version == V2)  # type: ignore[index]
    assert any_panel.tick(at_ms=1_000_000 + 86_400_000) == ["later"]


async def test_traffic_routes_by_email_and_id_and_resets(any_panel: SandboxPanel) -> None:
    uid = "b831381d-6324-4d53-ad4f-8cda48b30811"
    any_panel.state.add_clients(
        1, {"clients": [client_entry("alice"), client_entry("bob", uid=uid[:-1] + "2")]}
    )
    any_panel.tick({"alice": (10, 20)}, at_ms=1_700_000_000_000)
    any_panel.state.ips["alice"] = ["1.2.3.4 (2026-12-07 05:00:00)"]
    http, headers = await logged_in(any_panel)
    async with contextlib.aclosing(http):

        async def obj(method: str, path: str) -> object:
            answer = await http.request(method, path, headers=headers if method == "POST" else {})
            assert answer.status_code == 200 and answer.json()["success"], answer.text
            return answer.json()["obj"]

        api = "panel/api/clients" if any_panel.state.clients_api else "panel/api/inbounds"
        if any_panel.state.clients_api:
            row = await obj("GET", f"{api}/traffic/alice")
            assert await obj("GET", f"{api}/traffic/nobody") is None
            listed = await obj("GET", f"{api}/list")
            assert isinstance(listed, list) and {e["email"]: e["traffic"]["up"] for e in listed} == {
                "alice": 10,
                "bob": 0,
            }
        else:
            row = await obj("GET", f"{api}/getClientTraffics/alice")
            by_id = await obj("GET", f"{api}/getClientTrafficsById/{uid}")
            assert isinstance(by_id, list) and [r["email"] for r in by_id] == ["alice"]
        assert isinstance(row, dict) and (row["up"], row["down"], row["lastOnline"]) == (
            10,
            20,
            1_700_000_000_000,
        )
        assert await obj("POST", f"{api}/onlines") == ["alice"]
        assert await obj("POST", f"{api}/lastOnline") == {"alice": 1_700_000_000_000}
        ips, clear = ("ips", "clearIps") if any_panel.state.clients_api else ("clientIps", "clearClientIps")
        assert await obj("POST", f"{api}/{ips}/alice") == ["1.2.3.4 (2026-12-07 05:00:00)"]
        await obj("POST", f"{api}/{clear}/alice")
        assert await obj("POST", f"{api}/{ips}/alice") == "No IP Record"
        reset = "resetTraffic/alice" if any_panel.state.clients_api else "1/resetClientTraffic/alice"
        await obj("POST", f"{api}/{reset}")
        assert (any_panel.state.traffic["alice"].up, any_panel.state.traffic["alice"].down) == (0, 0)
        status = await obj("GET", "panel/api/server/status")
        assert isinstance(status, dict) and status["xray"]["state"] == "running"
        assert {"cpuCores", "swap", "loads", "netTraffic", "publicIP", "appStats"} <= set(status)
        assert ("panelVersion" in status) == (any_panel.version != V2)


async def test_the_shop_reads_usage_in_one_call(any_panel: SandboxPanel) -> None:
    from tests.test_panel_client import client_for, spec

    async with client_for(any_panel) as panel:
        await panel.upsert_client(any_panel.inbound_id, spec())
        any_panel.tick({"vpnshop-7-1": (123, 456)})
        before = panel.calls
        usage = await panel.usage(any_panel.inbound_id)
        assert panel.calls - before == 1
    assert {e: (u.up, u.down) for e, u in usage.items()} == {"vpnshop-7-1": (123, 456)}
