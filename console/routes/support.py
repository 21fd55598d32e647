"""The support desk's queue: open tickets, the longest-waiting first, and one ticket's conversation
as the journal recorded it (the messages themselves stay in Telegram: the topic link opens them)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.auth import NotFound, require_role
from console.render import render
from shop.models import SupportDelivery
from shop.operators.roles import Role
from shop.operators.signin import Operator
from shop.support import journal, tickets

router = APIRouter()
support = Depends(require_role(Role.SUPPORT))
# A ticket's page shows its last messages; older ones are in the topic.
LAST = 500
BADGES = {
    SupportDelivery.PENDING: "off",
    SupportDelivery.DELIVERED: "ok",
    SupportDelivery.BLOCKED: "bad",
    SupportDelivery.FAILED: "bad",
}


def waited(delta: timedelta | None) -> tuple[str, dict[str, int]] | None:
    """How long a customer has waited, as a text key and its values: minutes under an hour, hours
    and minutes under a day, then days and hours."""
    if delta is None:
        return None
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return "waited_days", {"days": days, "hours": hours}
    if hours:
        return "waited_hours", {"hours": hours, "minutes": minutes}
    if minutes:
        return "waited_minutes", {"minutes": minutes}
    return "waited_moment", {}


@router.get("/support")
async def support_queue(request: Request, operator: Operator = support) -> Response:
    queue = await tickets.open_tickets(request.app.state.ctx.sessions)
    return render(request, operator, "support.html", queue=queue, waited=waited)


@router.get("/support/{ticket_id}")
async def support_ticket(request: Request, ticket_id: int, operator: Operator = support) -> Response:
    sessions = request.app.state.ctx.sessions
    try:
        ticket = await tickets.waiting_ticket(sessions, ticket_id)
    except LookupError:
        raise NotFound from None
    entries = await journal.conversation(sessions, ticket_id, last=LAST)
    return render(
        request,
        operator,
        "support_ticket.html",
        item=ticket,
        entries=entries,
        waited=waited,
        last=LAST,
        kinds=journal.CONTENT_KINDS,
        badges=BADGES,
    )
