"""The sandbox MTG panel's state: nodes with their load, proxy users, login tokens.

Rules the panel enforces (and the shop must live with): a user name is unique across the panel's
nodes (409 on a second create); `renew` adds whole days to max(expiry, now); start and stop only
flip the user's switch (an expired user keeps its switch until the shop stops it)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FAKE_TLS_DOMAIN = "www.google.com"


class MtgRefusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Node:
    id: str
    host: str
    port: int = 443
    capacity: int = 100
    online: bool = True
    base_load: int = 0  # users hosted elsewhere on the node (other shops), for "best node" tests

    def load(self, users: int) -> float:
        return round((self.base_load + users) / self.capacity, 4)


@dataclass
class User:
    name: str
    node: str
    secret: str
    expires_at: datetime
    active: bool = True
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: object) -> datetime:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise MtgRefusal(400, "expires_at must be an ISO 8601 UTC time ending in Z")
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise MtgRefusal(400, "expires_at must be an ISO 8601 UTC time ending in Z") from None


class MtgState:
    def __init__(self, now: Any = None) -> None:
        self.nodes: dict[str, Node] = {}
        self.users: dict[str, User] = {}
        self.now = now or (lambda: datetime.now(UTC))

    def add_node(
        self, node_id: str, host: str, port: int = 443, capacity: int = 100, base_load: int = 0
    ) -> Node:
        node = Node(node_id, host, port, capacity, True, base_load)
        self.nodes[node_id] = node
        return node

    def node(self, node_id: str) -> Node:
        node = self.nodes.get(node_id)
        if node is None:
            raise MtgRefusal(404, f"node {node_id} not found")
        return node

    def node_json(self, node: Node) -> dict[str, Any]:
        users = sum(1 for user in self.users.values() if user.node == node.id)
        return {
            "id": node.id,
            "host": node.host,
            "port": node.port,
            "online": node.online,
            "users": users,
            "load": node.load(users),
        }

    def best(self) -> Node:
        online = [node for node in self.nodes.values() if node.online]
        if not online:
            raise MtgRefusal(503, "no node online")
        return min(online, key=lambda node: (self.node_json(node)["load"], node.id))

    def link(self, user: User) -> str:
        node = self.nodes[user.node]
        return f"tg://proxy?server={node.host}&port={node.port}&secret={user.secret}"

    def user_json(self, user: User) -> dict[str, Any]:
        return {
            "name": user.name,
            "node": user.node,
            "link": self.link(user),
            "expires_at": iso(user.expires_at),
            "active": user.active,
            "expired": user.expires_at <= self.now(),
        }

    def user(self, name: str, node_id: str | None = None) -> User:
        user = self.users.get(name)
        if user is None or (node_id is not None and user.node != node_id):
            raise MtgRefusal(404, f"user {name} not found")
        return user

    def create(self, node_id: str, body: dict[str, Any]) -> User:
        node = self.node(node_id)
        name = body.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise MtgRefusal(400, "name must be 1-64 letters, digits, '_' or '-'")
        expires = parse_iso(body.get("expires_at"))
        if name in self.users:
            raise MtgRefusal(409, f"user {name} already exists")
        if not node.online:
            raise MtgRefusal(503, f"node {node_id} is offline")
        # Fake-TLS secret: "ee", 16 random bytes, the disguise domain.
        secret = "ee" + secrets.token_hex(16) + FAKE_TLS_DOMAIN.encode().hex()
        user = User(name, node_id, secret, expires)
        self.users[name] = user
        return user

    def renew(self, node_id: str, name: str, body: dict[str, Any]) -> User:
        user = self.user(name, node_id)
        days = body.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
            raise MtgRefusal(400, "days must be an integer from 1 to 3650")
        user.expires_at = max(user.expires_at, self.now()) + timedelta(days=days)
        return user

    def switch(self, node_id: str, name: str, active: bool) -> User:
        user = self.user(name, node_id)
        user.active = active
        return user

    def delete(self, node_id: str, name: str) -> dict[str, bool]:
        self.user(name, node_id)
        del self.users[name]
        return {"deleted": True}
