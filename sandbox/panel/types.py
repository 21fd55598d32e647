"""The Go structs a 3x-ui panel decodes its write bodies into, per version (reference §5.1).

`encoding/json` does not coerce: a JSON value of the wrong kind fails the whole request with
`json: cannot unmarshal <kind> into Go struct field <Struct>.<field> of type <type>`, and nothing
is written. Unknown keys are ignored; `null` leaves a field at its zero value, as does omitting it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from sandbox.panel.errors import ServiceError


@dataclass(frozen=True)
class Go:
    """The Go type of a field, as the panel's error message names it."""

    name: str


String = Annotated[str, Go("string")]
Int = Annotated[int, Go("int")]
Int64 = Annotated[int, Go("int64")]
Bool = Annotated[bool, Go("bool")]
Strings = Annotated[list[str], Go("[]string")]
Ints = Annotated[list[int], Go("[]int")]
# The panel's own client form writes `"tgId": ""`; classic panels keep settings entries verbatim
# and only v3.1+ decodes tgId into its int64 column (issue 12), so classic modes take either kind.
LooseInt64 = Annotated[int | str, Go("int64")]


class GoStruct(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    go_name: ClassVar[str] = "struct"
    omitempty: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _null_is_zero(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data

    def to_json(self) -> dict[str, Any]:
        """The struct as the panel marshals it back: every field, `omitempty` ones only when set."""
        dumped = self.model_dump()
        return {k: v for k, v in dumped.items() if k not in self.omitempty or v}


class _ClientFields(GoStruct):
    """The fields model.Client has had since v2 (tgId differs in how it is decoded)."""

    go_name = "Client"
    id: String = ""
    security: String = ""
    password: String = ""
    flow: String = ""
    auth: String = ""
    email: String = ""
    limitIp: Int = 0
    totalGB: Int64 = 0
    expiryTime: Int64 = 0
    enable: Bool = False
    subId: String = ""
    comment: String = ""
    reset: Int = 0
    created_at: Int64 = 0
    updated_at: Int64 = 0


class ClassicClient(_ClientFields):
    """model.Client of v2.x / v3.0 (an entry of the `settings` string)."""

    tgId: LooseInt64 = 0


class ClassicSettings(GoStruct):
    go_name = "settings"
    clients: Annotated[list[ClassicClient], Go("[]model.Client")] = []


class ClientV31(_ClientFields):
    """The write type `Client` of v3.1.0 - v3.4.1: the body of `clients/update`, `client` of `add`."""

    omitempty: ClassVar[tuple[str, ...]] = ("reverse", "created_at", "updated_at")
    tgId: Int64 = 0
    reverse: Annotated[dict[str, Any] | None, Go("*model.Reverse")] = None
    limitHwid: Int = 0


class ClientV34(ClientV31):
    """v3.4.2+: the WireGuard / mtproto fields join the write type (all `omitempty`)."""

    omitempty: ClassVar[tuple[str, ...]] = (
        *ClientV31.omitempty,
        "privateKey",
        "publicKey",
        "allowedIPs",
        "preSharedKey",
        "keepAlive",
        "secret",
        "adTag",
        "group",
    )
    privateKey: String = ""
    publicKey: String = ""
    allowedIPs: Strings = []
    preSharedKey: String = ""
    keepAlive: Int = 0
    secret: String = ""
    adTag: String = ""
    group: String = ""


class AddClientsV31(GoStruct):
    go_name = "ClientCreatePayload"
    client: ClientV31 = ClientV31()
    inboundIds: Ints = []


class AddClientsV34(AddClientsV31):
    client: ClientV34 = ClientV34()


class InboundIds(GoStruct):
    go_name = "InboundIdsPayload"
    inboundIds: Ints = []


class ClassicInboundForm(GoStruct):
    """model.Inbound as `addClient`/`updateClient`/`update/:id` bind it (v2, v3.0): JSON strings."""

    go_name = "Inbound"
    id: Int = 0
    up: Int64 = 0
    down: Int64 = 0
    total: Int64 = 0
    remark: String = ""
    enable: Bool = False
    expiryTime: Int64 = 0
    listen: String = ""
    port: Int = 0
    protocol: String = ""
    settings: String = ""
    streamSettings: String = ""
    tag: String = ""
    sniffing: String = ""


JsonText = Annotated[str | dict[str, Any], Go("string")]


class InboundFormV31(ClassicInboundForm):
    """v3.1+: settings, streamSettings and sniffing may be JSON strings or nested objects."""

    settings: JsonText = ""  # type: ignore[assignment]
    streamSettings: JsonText = ""  # type: ignore[assignment]
    sniffing: JsonText = ""  # type: ignore[assignment]


class TrafficForm(GoStruct):
    go_name = "TrafficUpdateRequest"
    upload: Int64 = 0
    download: Int64 = 0


Struct = TypeVar("Struct", bound=GoStruct)


@dataclass(frozen=True)
class InvalidJson:
    """A request body that is not JSON at all; binding it fails with the parser's message."""

    message: str


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _nested(annotation: Any) -> type[GoStruct] | None:
    candidates = (annotation, *getattr(annotation, "__args__", ()))
    return next((c for c in candidates if isinstance(c, type) and issubclass(c, GoStruct)), None)


def _go_field(model: type[GoStruct], loc: tuple[int | str, ...]) -> tuple[str, str]:
    """(`Struct.field`, Go type) for a pydantic error location, walking into nested structs."""
    current, struct, path, go_type = model, model.go_name, list[str](), f"model.{model.go_name}"
    for index, part in enumerate(loc):
        if isinstance(part, int):
            go_type = go_type.removeprefix("[]")
            continue
        field = current.model_fields.get(part)
        if field is None:
            break  # a union member's tag, not a field
        nested = _nested(field.annotation)
        go_type = next((m.name for m in field.metadata if isinstance(m, Go)), "")
        go_type = go_type or (f"model.{nested.go_name}" if nested else "interface {}")
        path.append(part)
        if nested is not None and any(isinstance(p, str) for p in loc[index + 1 :]):
            current, struct, path = nested, nested.go_name, []
    return f"{struct}.{'.'.join(path)}" if path else struct, go_type


def decode(model: type[Struct], data: Any) -> Struct:
    """Bind `data` (parsed JSON) like Go does, or raise the panel's ServiceError."""
    if isinstance(data, InvalidJson):
        raise ServiceError(data.message)
    if not isinstance(data, dict):
        raise ServiceError(
            f"json: cannot unmarshal {_kind(data)} into Go value of type model.{model.go_name}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where, go_type = _go_field(model, tuple(first["loc"]))
        kind = _kind(first["input"])
        raise ServiceError(
            f"json: cannot unmarshal {kind} into Go struct field {where} of type {go_type}"
        ) from None
