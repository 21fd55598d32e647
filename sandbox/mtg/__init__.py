"""A simulated MTG admin panel (Telegram MTProto proxies on nodes), over real HTTP.

`async with sandbox_mtg() as mtg:` -> mtg.url, .username, .password, .state (nodes, users),
.faults (down/slow/500/commit-then-timeout), .expire_tokens(), .down()/.up()."""

from sandbox.mtg.server import SandboxMtg, sandbox_mtg

__all__ = ["SandboxMtg", "sandbox_mtg"]
