"""The sandbox panel's own fidelity to the 3x-ui contract, probed with raw HTTP."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest

from sandbox.panel import V2, V3_0, V3_1, SandboxPanel
from tests.panel_fixtures import StartPanel

XHR = {"X-Requested-With": "XMLHttpRequest"}


def client_entry(
    email: str, uid: str = "b831381d-6324-4d53-ad4f-8cda48b30811", **extra: Any
) -> dict[str, Any]:
    return {"id": uid, "email": email, "enable": True, "subId": "s1", "flow": "xtls-rprx-vision", **extra}


async def logged_in(panel: SandboxPanel) -> tuple[httpx.AsyncClient, dict[str, str]]:
    http = httpx.AsyncClient(base_url=panel.url)
    headers: dict[str, str] = {}
    if panel.version != V2:
        token = (await http.get("csrf-token")).json()["obj"]
        headers["X-CSRF-Token"] = token
    answer = await http.post("login", data={"username": "admin", "password": "admin"}, headers=headers)
    assert answer.json()["success"] is True
    return http, headers


async def add(
    http: httpx.AsyncClient, headers: dict[str, str], inbound: int, *clients: dict[str, Any]
) -> Any:
    body = {"id": inbound, "settings": json.dumps({"clients": list(clients)})}
    return await http.post("panel/api/inbounds/addClient", json=body, headers=headers)


@pytest.mark.parametrize("version", [V2, V3_0])
async def test_classic_quirks(start_panel: StartPanel, version: str) -> None:
    panel = await start_panel(version=version)
    http, headers = await logged_in(panel)
    async with contextlib.aclosing(http):
        assert (await add(http, headers, 1, client_entry("alice"))).json()["success"] is True
        other = panel.state.add_inbound(port=8443)
        dup = (await add(http, headers, other.id, client_entry("ALICE", subId="x"))).json()
        assert dup == {
            "success": False,
            "msg": "Something went wrong (Duplicate email: ALICE\n)",
            "obj": None,
        }
        assert (await add(http, headers, 99, client_entry("bob"))).json()[
            "msg"
        ] == "Something went wrong (record not found)"
        panic = await http.post(
            "panel/api/inbounds/addClient", json={"id": 1, "settings": "{}"}, headers=headers
        )
        assert (panic.status_code, panic.content) == (500, b"")
        # Update replaces the whole client: omitted fields are gone.
        body = {
            "id": 1,
            "settings": json.dumps(
                {
                    "clients": [
                        {"id": "b831381d-6324-4d53-ad4f-8cda48b30811", "email": "alice", "enable": False}
                    ]
                }
            ),
        }
        url = "panel/api/inbounds/updateClient/b831381d-6324-4d53-ad4f-8cda48b30811"
        assert (await http.post(url, json=body, headers=headers)).json()["success"] is True
        stored = panel.client("alice")
        assert stored is not None and "subId" not in stored and "flow" not in stored
        last = await http.post(
            "panel/api/inbounds/1/delClient/b831381d-6324-4d53-ad4f-8cda48b30811", headers=headers
        )
        assert last.json()["msg"] == "Something went wrong (no client remained in Inbound\n)"
        unknown = (await http.get("panel/api/inbounds/getClientTraffics/nobody")).json()
        assert unknown["success"] is False and unknown["msg"].endswith(
            "(Inbound Not Found For Email: nobody\n)"
        )
        got = (await http.get("panel/api/inbounds/get/1")).json()["obj"]
        assert isinstance(got["settings"], str) and got["clientStats"] is None  # not preloaded by get/:id
        assert json.loads(got["settings"])["clients"][0]["email"] == "alice"


async def test_v3_needs_csrf_on_login_and_posts(start_panel: StartPanel) -> None:
    panel = await start_panel(version=V3_0)
    async with httpx.AsyncClient(base_url=panel.url) as http:
        refused = await http.post("login", data={"username": "admin", "password": "admin"})
        assert (refused.status_code, refused.content) == (403, b"")
    http, headers = await logged_in(panel)
    async with contextlib.aclosing(http):
        no_token = await add(http, {}, 1, client_entry("a"))
        assert (no_token.status_code, no_token.content) == (403, b"")
        assert (await add(http, headers, 1, client_entry("a"))).json()["success"] is True
        other = panel.state.add_inbound(port=8443)
        # v3.0: one email may live in several inbounds when it carries the same subId.
        assert (
            await add(http, headers, other.id, client_entry("a", uid="11111111-2222-4333-8444-555555555555"))
        ).json()["success"]


async def test_v31_moves_client_routes_and_makes_add_idempotent(start_panel: StartPanel) -> None:
    panel = await start_panel(version=V3_1)
    http, headers = await logged_in(panel)
    async with contextlib.aclosing(http):
        assert (await add(http, headers, 1, client_entry("a"))).status_code == 404
        body = {"client": client_entry("a", enable=False), "inboundIds": [1]}
        for _ in range(2):  # same email and subId: the retry is a silent success
            assert (await http.post("panel/api/clients/add", json=body, headers=headers)).json()["success"]
        assert len(panel.clients()) == 1 and panel.clients()[0]["enable"] is True  # add forces enable
        clash = {"client": client_entry("a", subId="other"), "inboundIds": [1]}
        answer = (await http.post("panel/api/clients/add", json=clash, headers=headers)).json()
        assert answer["msg"] == "Something went wrong (email already in use: a\n)"
        got = (await http.get("panel/api/clients/get/a")).json()["obj"]
        assert got["client"]["uuid"] == "b831381d-6324-4d53-ad4f-8cda48b30811" and isinstance(
            got["client"]["id"], int
        )
        inbound = (await http.get("panel/api/inbounds/get/1")).json()["obj"]
        assert isinstance(inbound["settings"], dict) and isinstance(inbound["streamSettings"], dict)
        assert (await http.post("panel/api/clients/del/a", headers=headers)).json()["success"]
        assert panel.clients() == []  # no last-client rule any more


@pytest.mark.parametrize(
    ("version", "xhr", "status"), [(V2, True, 404), (V3_0, True, 404), (V3_1, True, 401), (V3_1, False, 404)]
)
async def test_unauthenticated_answers_per_version(
    start_panel: StartPanel, version: str, xhr: bool, status: int
) -> None:
    panel = await start_panel(version=version)
    async with httpx.AsyncClient(base_url=panel.url) as http:
        answer = await http.get("panel/api/inbounds/list", headers=XHR if xhr else {})
    assert (answer.status_code, answer.content) == (status, b"")


async def test_legacy_panels_redirect_or_answer_401_json(start_panel: StartPanel) -> None:
    panel = await start_panel(version=V2, legacy_unauth=True, base_path="/b/")
    async with httpx.AsyncClient(base_url=panel.url) as http:
        redirect = await http.get("panel/api/inbounds/list")
        assert (redirect.status_code, redirect.headers["location"]) == (307, "/b/")
        expired = await http.get("panel/api/inbounds/list", headers=XHR)
        assert (
            expired.status_code == 401
            and expired.json()["msg"] == "Your session has expired, please log in again"
        )
