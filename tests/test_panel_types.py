"""The sandbox panel decodes write bodies into the panel's Go types, per version (reference §5.1)."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import httpx
import pytest

from sandbox.panel import V2, V3_0, V3_1, V3_4, VERSIONS, SandboxPanel
from tests.panel_fixtures import StartPanel
from tests.test_panel_sandbox import add, client_entry, logged_in

UID = "b831381d-6324-4d53-ad4f-8cda48b30811"


def snapshot(panel: SandboxPanel) -> str:
    inbounds = {i.id: copy.deepcopy(i.settings) for i in panel.state.inbounds.values()}
    rows = {e: vars(r).copy() for e, r in panel.state.traffic.items()}
    return json.dumps([inbounds, rows], sort_keys=True, default=str)


async def post(http: httpx.AsyncClient, headers: dict[str, str], path: str, body: Any) -> dict[str, Any]:
    answer = await http.post(path, json=body, headers=headers)
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


async def seed(panel: SandboxPanel, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    if panel.state.clients_api:
        body = {"client": {**client_entry("alice"), "comment": "vip", "limitIp": 2}, "inboundIds": [1]}
        assert (await post(http, headers, "panel/api/clients/add", body))["success"]
    else:
        assert (await add(http, headers, 1, client_entry("alice", comment="vip", limitIp=2))).json()[
            "success"
        ]


def bad_writes(version: str) -> list[tuple[str, Any, str]]:
    """(path, body, the panel's error) for writes carrying one value of the wrong JSON type."""
    if version in (V2, V3_0):
        settings = {"clients": [client_entry("bob", limitIp="2")]}
        return [
            (
                "panel/api/inbounds/addClient",
                {"id": "1", "settings": json.dumps({"clients": [client_entry("bob")]})},
                "Inbound has been successfully updated. "
                "(json: cannot unmarshal string into Go struct field Inbound.id of type int)",
            ),
            (
                "panel/api/inbounds/addClient",
                {"id": 1, "settings": {"clients": [client_entry("bob")]}},
                "Inbound has been successfully updated. "
                "(json: cannot unmarshal object into Go struct field Inbound.settings of type string)",
            ),
            (
                "panel/api/inbounds/addClient",
                {"id": 1, "settings": json.dumps(settings)},
                "Something went wrong "
                "(json: cannot unmarshal string into Go struct field Client.limitIp of type int)",
            ),
            (
                f"panel/api/inbounds/updateClient/{UID}",
                {"id": 1, "settings": json.dumps({"clients": [client_entry("alice", expiryTime="soon")]})},
                "Something went wrong "
                "(json: cannot unmarshal string into Go struct field Client.expiryTime of type int64)",
            ),
        ]
    return [
        (
            "panel/api/clients/add",
            {"client": client_entry("bob", tgId=""), "inboundIds": [1]},
            "Something went wrong "
            "(json: cannot unmarshal string into Go struct field Client.tgId of type int64)",
        ),
        (
            "panel/api/clients/add",
            {"client": client_entry("bob"), "inboundIds": ["1"]},
            "Something went wrong "
            "(json: cannot unmarshal string into Go struct field ClientCreatePayload.inboundIds of type int)",
        ),
        (
            "panel/api/clients/update/alice",
            {**client_entry("alice"), "enable": "false"},
            "Something went wrong "
            "(json: cannot unmarshal string into Go struct field Client.enable of type bool)",
        ),
        (
            "panel/api/clients/update/alice",
            {**client_entry("alice"), "totalGB": 1.5},
            "Something went wrong "
            "(json: cannot unmarshal number 1.5 into Go struct field Client.totalGB of type int64)",
        ),
    ]


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_value_of_the_wrong_type_is_refused_and_changes_nothing(
    start_panel: StartPanel, version: str
) -> None:
    panel = await start_panel(version=version)
    http, headers = await logged_in(panel)
    async with contextlib.aclosing(http):
        await seed(panel, http, headers)
        before = snapshot(panel)
        for path, body, message in bad_writes(version):
            assert await post(http, headers, path, body) == {"success": False, "msg": message, "obj": None}
            assert snapshot(panel) == before
        json_headers = {**headers, "Content-Type": "application/json"}
        for raw in (b"{oops", b"[1, 2]"):
            answer = (await http.post(bad_writes(version)[0][0], content=raw, headers=json_headers)).json()
            assert answer["success"] is False and ("invalid character" in answer["msg"]) == (raw == b"{oops")
            assert snapshot(panel) == before


@pytest.mark.parametrize(("version", "refused"), [(V3_1, False), (V3_4, True)])
async def test_the_record_echoed_back_into_update_is_refused_from_v342(
    start_panel: StartPanel, version: str, refused: bool
) -> None:
    """What the shop did before issue 12: read the record, put its fields on top, send it back."""
    panel = await start_panel(version=version)
    http, headers = await logged_in(panel)
    async with contextlib.aclosing(http):
        await seed(panel, http, headers)
        record = (await http.get("panel/api/clients/get/alice")).json()["obj"]["client"]
        assert isinstance(record["id"], int) and record["uuid"] == UID
        assert ("allowedIPs" in record) == refused and record.get("allowedIPs", "") == ""
        echoed = {k: v for k, v in record.items() if k not in ("id", "uuid", "createdAt", "updatedAt")}
        echoed.update(id=UID, enable=False)
        before = snapshot(panel)
        answer = await post(http, headers, "panel/api/clients/update/alice", echoed)
        if refused:
            assert answer["msg"] == (
                "Something went wrong "
                "(json: cannot unmarshal string into Go struct field Client.allowedIPs of type []string)"
            )
            assert snapshot(panel) == before
        else:
            assert answer["success"] is True and panel.client("alice")["enable"] is False  # type: ignore[index]


@pytest.mark.parametrize("version", [V3_1, V3_4])
async def test_update_resets_what_it_omits_and_ignores_unknown_keys(
    start_panel: StartPanel, version: str
) -> None:
    panel = await start_panel(version=version)
    http, headers = await logged_in(panel)
    async with contextlib.aclosing(http):
        await seed(panel, http, headers)
        body = {"id": UID, "email": "alice", "enable": True, "colour": "blue", "allowedIPs": None}
        assert (await post(http, headers, "panel/api/clients/update/alice", body))["success"]
        stored = panel.client("alice")
        assert stored is not None and "colour" not in stored
        assert (stored["subId"], stored["comment"], stored["limitIp"], stored["tgId"], stored["flow"]) == (
            "",
            "",
            0,
            0,
            "",
        )


async def test_classic_panels_keep_the_ui_s_empty_tg_id(start_panel: StartPanel) -> None:
    for version in (V2, V3_0):
        panel = await start_panel(version=version)
        http, headers = await logged_in(panel)
        async with contextlib.aclosing(http):
            assert (await add(http, headers, 1, client_entry("ui", tgId=""))).json()["success"]
        assert panel.client("ui")["tgId"] == ""  # type: ignore[index]


@pytest.mark.parametrize(("version", "answer"), [(V2, "Inbound client has been deleted."), (V3_0, None)])
async def test_deleting_an_unknown_id(start_panel: StartPanel, version: str, answer: str | None) -> None:
    panel = await start_panel(version=version)
    http, headers = await logged_in(panel)
    async with contextlib.aclosing(http):
        await seed(panel, http, headers)
        got = await post(http, headers, "panel/api/inbounds/1/delClient/nobody", {})
    if answer is None:
        assert got == {
            "success": False,
            "msg": "Something went wrong (Client Not Found In Inbound For ID: nobody\n)",
            "obj": None,
        }
    else:
        assert got == {"success": True, "msg": answer, "obj": None}


async def test_inbound_update_is_typed_and_replaces_the_inbound(any_panel: SandboxPanel) -> None:
    http, headers = await logged_in(any_panel)
    async with contextlib.aclosing(http):
        await seed(any_panel, http, headers)
        inbound = (await http.get("panel/api/inbounds/get/1")).json()["obj"]
        settings = (
            inbound["settings"] if isinstance(inbound["settings"], dict) else json.loads(inbound["settings"])
        )
        body = {**inbound, "remark": "renamed", "port": "8443"}
        before = snapshot(any_panel)
        refused = await post(http, headers, "panel/api/inbounds/update/1", body)
        assert refused["msg"] == (
            "Inbound has been successfully updated. "
            "(json: cannot unmarshal string into Go struct field Inbound.port of type int)"
        )
        assert snapshot(any_panel) == before
        settings["clients"] = [c for c in settings["clients"] if c["email"] != "alice"] + [
            client_entry("carol")
        ]
        body = {
            **inbound,
            "remark": "renamed",
            "port": 8443,
            "settings": json.dumps(settings),
            "clientStats": None,
        }
        assert (await post(http, headers, "panel/api/inbounds/update/1", body))["success"]
    assert (any_panel.inbound.remark, any_panel.inbound.port) == ("renamed", 8443)
    assert any_panel.client("alice") is None and "alice" not in any_panel.state.traffic
    assert any_panel.client("carol") is not None and "carol" in any_panel.state.traffic
