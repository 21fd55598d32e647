"""Client routes per API generation: classic `/panel/api/inbounds/*` (v2, v3.0) and
`/panel/api/clients/*` (v3.1+). Both only ever write one client, never a whole inbound."""

from __future__ import annotations

import json
from typing import Any, Protocol

from shop.panel.errors import PanelNotFound, PanelRejected
from shop.panel.models import ClientSpec, Inbound, RemoteClient, Usage
from shop.panel.session import PanelSession, path_part

INBOUNDS = "panel/api/inbounds"
CLIENTS = "panel/api/clients"


class Dialect(Protocol):
    # An add of an email the panel holds is refused (`Duplicate email`), rather than taken as a
    # no-op success, which v3.1+ does when the subId matches (and leaves the record as it was).
    refuses_duplicate_add: bool

    async def get_inbound(self, inbound_id: int) -> Inbound: ...

    async def find_client(self, inbound_id: int, email: str) -> RemoteClient | None: ...

    async def add_client(self, inbound_id: int, spec: ClientSpec) -> None: ...

    async def update_client(self, inbound_id: int, remote: RemoteClient, spec: ClientSpec) -> None: ...

    async def delete_client(self, inbound_id: int, remote: RemoteClient) -> None: ...

    async def usage(self, inbound_id: int) -> dict[str, Usage]: ...


def _in_inbound(inbound: Inbound, email: str) -> RemoteClient | None:
    for entry in inbound.clients:
        if str(entry.get("email", "")) == email:
            return RemoteClient.from_settings_entry(entry, inbound.id)
    return None


class _Routes:
    def __init__(self, session: PanelSession) -> None:
        self.session = session

    async def get_inbound(self, inbound_id: int) -> Inbound:
        obj = await self.session.call("GET", f"{INBOUNDS}/get/{inbound_id}")
        if not isinstance(obj, dict):
            raise PanelNotFound(f"inbound {inbound_id} not found")
        return Inbound.parse(obj)


class ClassicDialect(_Routes):
    refuses_duplicate_add = True

    async def usage(self, inbound_id: int) -> dict[str, Usage]:
        # `get/:id` does not carry the traffic rows (clientStats is null there); `list` does.
        inbounds = await self.session.call("GET", f"{INBOUNDS}/list")
        for inbound in inbounds if isinstance(inbounds, list) else []:
            if isinstance(inbound, dict) and inbound.get("id") == inbound_id:
                rows = inbound.get("clientStats") or []
                found = {str(row.get("email")): Usage.of(row) for row in rows if isinstance(row, dict)}
                return {email: usage for email, usage in found.items() if usage is not None}
        raise PanelNotFound(f"inbound {inbound_id} not found")

    async def find_client(self, inbound_id: int, email: str) -> RemoteClient | None:
        # One traffic row is far cheaper than the whole inbound; since 2.8.3 it carries uuid and subId.
        try:
            row = await self.session.call("GET", f"{INBOUNDS}/getClientTraffics/{path_part(email)}")
        except PanelNotFound:
            return None  # >= 2.8.1 reports an unknown email as an error
        if not isinstance(row, dict):
            return None  # <= 2.8.0: success with obj null
        if not row.get("uuid"):
            return _in_inbound(await self.get_inbound(inbound_id), email)
        return RemoteClient(
            uuid=str(row["uuid"]),
            email=str(row.get("email") or email),
            sub_id=str(row.get("subId") or ""),
            expiry_ms=int(row.get("expiryTime") or 0),
            enable=bool(row.get("enable", True)),
            inbound_ids=(int(row.get("inboundId") or 0),),
            total=int(row.get("total") or 0),
        )

    def _body(self, inbound_id: int, client: dict[str, Any]) -> dict[str, Any]:
        return {"id": inbound_id, "settings": json.dumps({"clients": [client]})}

    async def add_client(self, inbound_id: int, spec: ClientSpec) -> None:
        await self.session.call(
            "POST", f"{INBOUNDS}/addClient", json_body=self._body(inbound_id, spec.new_object())
        )

    async def update_client(self, inbound_id: int, remote: RemoteClient, spec: ClientSpec) -> None:
        full = remote.raw
        if full is None:
            # Update replaces the whole client: read the operator's fields before writing ours.
            found = _in_inbound(await self.get_inbound(inbound_id), spec.email)
            if found is None:
                raise PanelNotFound(f"client {spec.email} vanished from inbound {inbound_id}")
            remote, full = found, found.raw
        body = self._body(inbound_id, spec.write_body(full))
        try:
            await self.session.call(
                "POST", f"{INBOUNDS}/updateClient/{path_part(remote.uuid)}", json_body=body
            )
        except PanelRejected as error:
            if "empty client ID" in str(error):
                raise PanelNotFound(f"client {spec.email} not found for update") from None
            raise

    async def delete_client(self, inbound_id: int, remote: RemoteClient) -> None:
        try:
            await self.session.call("POST", f"{INBOUNDS}/{inbound_id}/delClient/{path_part(remote.uuid)}")
        except PanelNotFound:
            return  # 2.9.4+ reports an unknown client; before, deleting it was a silent success


class ClientsApiDialect(_Routes):
    """v3.1+: one client record per email, attached to inbounds by id."""

    refuses_duplicate_add = False

    async def usage(self, inbound_id: int) -> dict[str, Usage]:
        listed = await self.session.call("GET", f"{CLIENTS}/list")
        found: dict[str, Usage] = {}
        for entry in listed if isinstance(listed, list) else []:
            if not isinstance(entry, dict) or inbound_id not in (entry.get("inboundIds") or ()):
                continue
            usage = Usage.of(entry.get("traffic"))
            if usage is not None:
                found[str(entry.get("email"))] = usage
        return found

    async def find_client(self, inbound_id: int, email: str) -> RemoteClient | None:
        try:
            obj = await self.session.call("GET", f"{CLIENTS}/get/{path_part(email)}")
        except PanelNotFound:
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("client"), dict):
            return None
        record: dict[str, Any] = obj["client"]
        # The record's `id` is a database number; the VLESS UUID is `uuid`, and `id` on write.
        # The record is a read type: `write_body` takes from it only what the write type holds.
        return RemoteClient(
            uuid=str(record.get("uuid") or ""),
            email=str(record.get("email") or email),
            sub_id=str(record.get("subId") or ""),
            expiry_ms=int(record.get("expiryTime") or 0),
            enable=bool(record.get("enable", True)),
            inbound_ids=tuple(int(i) for i in obj.get("inboundIds") or ()),
            flow=str(record.get("flow") or ""),
            total=int(record.get("totalGB") or 0),
            raw=record,
        )

    async def add_client(self, inbound_id: int, spec: ClientSpec) -> None:
        await self.session.call(
            "POST", f"{CLIENTS}/add", json_body={"client": spec.new_object(), "inboundIds": [inbound_id]}
        )
        if not spec.enable:  # add forces enable=true on create
            found = await self.find_client(inbound_id, spec.email)
            if found is None:
                raise PanelNotFound(f"client {spec.email} missing right after add")
            await self.update_client(inbound_id, found, spec)

    async def update_client(self, inbound_id: int, remote: RemoteClient, spec: ClientSpec) -> None:
        email = path_part(remote.email)
        if inbound_id not in remote.inbound_ids:
            await self.session.call(
                "POST", f"{CLIENTS}/{email}/attach", json_body={"inboundIds": [inbound_id]}
            )
        if remote.drift(spec):
            await self.session.call(
                "POST", f"{CLIENTS}/update/{email}", json_body=spec.write_body(remote.raw)
            )

    async def delete_client(self, inbound_id: int, remote: RemoteClient) -> None:
        email = path_part(remote.email)
        others = [i for i in remote.inbound_ids if i != inbound_id]
        try:
            if others:  # `del` would remove it from every inbound; only leave this one
                await self.session.call(
                    "POST", f"{CLIENTS}/{email}/detach", json_body={"inboundIds": [inbound_id]}
                )
            else:
                await self.session.call("POST", f"{CLIENTS}/del/{email}")
        except PanelNotFound:
            return


def dialect_for(session: PanelSession) -> Dialect:
    assert session.version is not None
    return ClientsApiDialect(session) if session.version.clients_api else ClassicDialect(session)
