"""What the operator reads about a broadcast: its progress, and the report when it ends."""

from __future__ import annotations

from bot.texts import t
from shop.messaging.broadcasts import BroadcastProgress


def _numbers(progress: BroadcastProgress) -> dict[str, int]:
    return {
        "sent": progress.sent,
        "recipients": progress.recipients,
        "failed": progress.failed,
        "blocked": progress.blocked + progress.blocked_before,
        "skipped": progress.skipped,
        "left": progress.left,
    }


def progress_text(language: str, progress: BroadcastProgress) -> str:
    state = t(language, f"bc_state_{progress.state}")
    return t(language, "bc_progress", state=state, **_numbers(progress))


def report_text(language: str, progress: BroadcastProgress) -> str:
    key = "bc_report_stopped" if progress.state == "canceled" else "bc_report"
    return t(language, key, **_numbers(progress))
