"""The bot's door to broadcasts: check the operator's URL button, record the draft at the preview,
start `broadcast:<id>` once however many taps, stop it, read its progress."""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from shop.context import AppContext
from shop.messaging import broadcasts
from shop.messaging.broadcasts import BroadcastProgress, Draft
from shop.models import BroadcastStatus
from shop.operators import audit
from shop.operators.audit import Actor
from shop.transitions import TransitionRefused
from workflows.broadcast import BroadcastInput, BroadcastWorkflow, broadcast_workflow_id

log = logging.getLogger(__name__)
MAX_BUTTON_TEXT = 64
MAX_URL = 2048
LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$)({LABEL}\.)+([a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})$", re.IGNORECASE)


class BadButton(ValueError):
    """The operator's button text cannot be used; `key` names the explanation in the catalogues."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class UrlButton:
    text: str
    url: str


def parse_button(raw: str) -> UrlButton:
    """`Text | https://example.com/page` -> the button. Only https URLs with a real host name: what
    customers tap must not be a plain-http or local address."""
    text, separator, url = raw.partition("|")
    text, url = text.strip(), url.strip()
    if not separator or not text or not url:
        raise BadButton("bc_button_format")
    if len(text) > MAX_BUTTON_TEXT:
        raise BadButton("bc_button_text_long")
    try:
        parts = urlsplit(url)
        hostname = (parts.hostname or "").encode("idna").decode("ascii")  # IDN hosts as punycode
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except (ValueError, UnicodeError):
        raise BadButton("bc_button_url") from None
    if (
        parts.scheme != "https"
        or len(url) > MAX_URL
        or not HOSTNAME.match(hostname)
        or any(c.isspace() for c in url)
    ):
        raise BadButton("bc_button_url")
    return UrlButton(text, url)


class StartOutcome(enum.StrEnum):
    STARTED = "started"
    ALREADY = "already"  # a double tap, or started from another device
    CANCELED = "canceled"
    UNKNOWN = "unknown"  # no such draft, or another operator's


class StopOutcome(enum.StrEnum):
    CANCELED = "canceled"  # still a draft: nothing was sent
    STOPPING = "stopping"  # running: copies on their way still go, then the report comes
    OVER = "over"  # finished or cancelled already
    UNKNOWN = "unknown"


class BroadcastControl:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def reachable(self) -> int:
        return await broadcasts.reachable_users(self.ctx.sessions)

    async def create(
        self, operator_id: int, source_chat_id: int, source_message_id: int, button: UrlButton | None
    ) -> str:
        """The draft the preview's Confirm button names: its id is the broadcast's for good."""
        return await broadcasts.create_draft(
            self.ctx.sessions,
            operator_id,
            source_chat_id,
            source_message_id,
            button.text if button else None,
            button.url if button else None,
        )

    async def _own(self, operator_id: int, broadcast_id: str) -> Draft | None:
        draft = await broadcasts.get_draft(self.ctx.sessions, broadcast_id)
        return draft if draft is not None and draft.operator_id == operator_id else None

    def _handle(self, broadcast_id: str) -> WorkflowHandle[BroadcastWorkflow, BroadcastProgress]:
        return self.ctx.require_temporal().get_workflow_handle_for(
            BroadcastWorkflow.run, broadcast_workflow_id(broadcast_id)
        )

    async def start(self, operator_id: int, broadcast_id: str, via: str = "bot") -> StartOutcome:
        draft = await self._own(operator_id, broadcast_id)
        if draft is None:
            return StartOutcome.UNKNOWN
        if draft.status is BroadcastStatus.CANCELED:
            return StartOutcome.CANCELED
        if draft.status is not BroadcastStatus.DRAFT:
            return StartOutcome.ALREADY
        try:
            await self.ctx.require_temporal().start_workflow(
                BroadcastWorkflow.run,
                BroadcastInput(broadcast_id=broadcast_id),
                id=broadcast_workflow_id(broadcast_id),
                task_queue=self.ctx.settings.temporal_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:  # the other tap of a double tap got there first
            return StartOutcome.ALREADY
        await audit.write(
            self.ctx.sessions, Actor(operator_id, via), "broadcast.start", f"broadcast:{broadcast_id}"
        )
        return StartOutcome.STARTED

    async def stop(self, operator_id: int, broadcast_id: str, via: str = "bot") -> StopOutcome:
        """Cancels a draft, or stops a running broadcast: the status in the database stops the batch
        under way within a second; the signal keeps the workflow from starting another."""
        if await self._own(operator_id, broadcast_id) is None:
            return StopOutcome.UNKNOWN
        try:
            previous = await broadcasts.transition(self.ctx.sessions, broadcast_id, BroadcastStatus.CANCELED)
        except TransitionRefused:  # finished already
            return StopOutcome.OVER
        if previous is not BroadcastStatus.CANCELED:
            await audit.write(
                self.ctx.sessions,
                Actor(operator_id, via),
                "broadcast.stop",
                f"broadcast:{broadcast_id}",
                {"status": previous.value},
                {"status": BroadcastStatus.CANCELED.value},
            )
        if previous is BroadcastStatus.DRAFT:  # a run started meanwhile finds it cancelled, sends nothing
            return StopOutcome.CANCELED
        if previous is BroadcastStatus.CANCELED:
            return StopOutcome.OVER
        try:
            await self._handle(broadcast_id).signal(BroadcastWorkflow.stop)
        except (RPCError, RuntimeError) as error:  # the next batch reads the status and stops anyway
            log.info("broadcast %s: stop not signalled: %s", broadcast_id, error)
        return StopOutcome.STOPPING

    async def progress(self, operator_id: int, broadcast_id: str) -> BroadcastProgress | None:
        if await self._own(operator_id, broadcast_id) is None:
            return None
        try:
            return await self._handle(broadcast_id).query(BroadcastWorkflow.progress)
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:  # not started yet, or past retention
                return None
            raise
