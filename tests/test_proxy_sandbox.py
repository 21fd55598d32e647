"""The sandbox MTG panel answers like the API the shop calls (seed-system.md §5.6), and the MTG
client over real HTTP: token login cached and renewed on 401, typed errors for every fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.mtg import sandbox_mtg
from shop.http_client import Timeouts
from shop.proxy.client import MtgClient, MtgCredentials, renew_days
from shop.proxy.errors import MtgAuthError, MtgConflict, MtgNotFound, MtgRejected, MtgUnavailable

LATER = datetime(2030, 1, 1, tzinfo=UTC)


async def test_the_api_wants_a_token_and_validates_what_it_is_given() -> None:
    async with sandbox_mtg() as mtg, httpx.AsyncClient(base_url=mtg.url) as http:
        assert (await http.get("api/nodes")).status_code == 401
        refused = await http.post("api/login", json={"username": "admin", "password": "wrong"})
        assert refused.status_code == 401 and refused.json() == {"error": "invalid credentials"}
        login = await http.post("api/login", json={"username": mtg.username, "password": mtg.password})
        token = {"x-auth-token": login.json()["token"]}
        nodes = (await http.get("api/nodes", headers=token)).json()
        assert [node["id"] for node in nodes] == ["n1", "n2"]
        best = (await http.get("api/nodes/best", headers=token)).json()
        assert best["id"] == "n2"  # n1 carries other users: the lower load wins
        bad = await http.post("api/nodes/n2/users", headers=token, json={"name": "a b", "expires_at": "2030"})
        assert bad.status_code == 400
        no_z = {"name": "u1", "expires_at": "2030-01-01T00:00:00"}
        assert (await http.post("api/nodes/n2/users", headers=token, json=no_z)).status_code == 400
        good = {"name": "u1", "expires_at": "2030-01-01T00:00:00Z"}
        created = await http.post("api/nodes/n2/users", headers=token, json=good)
        assert created.status_code == 201
        link = urlsplit(created.json()["link"])
        query = parse_qs(link.query)
        assert (link.scheme, link.netloc) == ("tg", "proxy")
        assert query["server"] == ["mtg2.example.net"] and query["port"] == ["443"]
        assert query["secret"][0].startswith("ee")
        again = await http.post("api/nodes/n1/users", headers=token, json=good)  # names are panel-wide
        assert again.status_code == 409
        assert (
            await http.post("api/nodes/n2/users/u1/renew", headers=token, json={"days": 0})
        ).status_code == 400
        renewed = await http.post("api/nodes/n2/users/u1/renew", headers=token, json={"days": 2})
        assert renewed.json()["expires_at"] == "2030-01-03T00:00:00Z"
        assert (await http.post("api/nodes/n1/users/u1/stop", headers=token)).status_code == 404  # wrong node
        stopped = await http.post("api/nodes/n2/users/u1/stop", headers=token)
        assert stopped.json()["active"] is False
        assert (await http.get("api/users/u1", headers=token)).json()["link"] == created.json()["link"]
        assert (await http.delete("api/nodes/n2/users/u1", headers=token)).json() == {"deleted": True}
        assert (await http.get("api/users/u1", headers=token)).status_code == 404
        mtg.expire_tokens()
        assert (await http.get("api/nodes", headers=token)).status_code == 401


async def test_the_client_logs_in_once_and_again_only_when_the_token_dies() -> None:
    async with sandbox_mtg() as mtg:
        async with MtgClient(MtgCredentials(mtg.url, mtg.username, mtg.password)) as client:
            await client.nodes()
            user = await client.create_user((await client.best_node()).id, "u1", LATER)
            assert await client.link("u1") == user.link
            assert mtg.app.logins == 1
            mtg.expire_tokens()
            assert (await client.find_user("u1")) is not None
            assert mtg.app.logins == 2
            with pytest.raises(MtgConflict):
                await client.create_user("n1", "u1", LATER)
            with pytest.raises(MtgRejected):
                await client.renew(user.node, "u1", 0)
            with pytest.raises(MtgNotFound):
                await client.set_active("n9", "u1", False)
            assert await client.delete(user.node, "u1") is True
            assert await client.delete(user.node, "u1") is False
        async with MtgClient(MtgCredentials(mtg.url, mtg.username, "wrong")) as client:
            with pytest.raises(MtgAuthError):
                await client.nodes()


async def test_faults_become_typed_errors() -> None:
    async with sandbox_mtg() as mtg:
        credentials = MtgCredentials(mtg.url, mtg.username, mtg.password)
        async with MtgClient(credentials, Timeouts.of(0.5)) as client:
            mtg.faults.panic_next = 1
            with pytest.raises(MtgUnavailable, match="500"):
                await client.nodes()
            mtg.faults.delay = 1.0  # slow: past the client's explicit timeout
            with pytest.raises(MtgUnavailable, match="timed out"):
                await client.nodes()
            mtg.faults.delay = 0
            mtg.faults.commit_then_timeout, mtg.faults.hang_seconds = 1, 2.0
            with pytest.raises(MtgUnavailable, match="timed out"):
                await client.create_user("n1", "u1", LATER)
            assert mtg.user("u1") is not None  # applied, though the answer never came
            await mtg.down()
            with pytest.raises(MtgUnavailable):
                await client.nodes()
            await mtg.up()
            assert len(await client.nodes()) == 2  # same port, same state


def test_renew_days_reach_the_wanted_expiry_in_whole_days() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert renew_days(now + timedelta(days=5), now + timedelta(days=5), now) == 0
    assert renew_days(now + timedelta(days=5), now + timedelta(days=35), now) == 30
    assert renew_days(now + timedelta(days=5), now + timedelta(days=35, hours=1), now) == 31
    assert renew_days(now - timedelta(days=9), now + timedelta(days=30), now) == 30  # expired: from now
    assert renew_days(now + timedelta(days=40), now + timedelta(days=30), now) == 0  # ahead: nothing
