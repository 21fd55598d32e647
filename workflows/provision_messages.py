"""What callers send to a provisioning run and read from it, and its id. Models only: the worker
passes this module through the workflow sandbox, so its pydantic models are built once per process,
not once per workflow run (worker.main.PASSTHROUGH)."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shop.access.provisioning import SyncStatus


class ProvisionInput(BaseModel):
    subscription_id: int
    host_ids: list[int] | None = None  # None: every enabled host
    retry_seconds: int = 900  # per host; past it the host is left to reconciliation
    report_to: str | None = None  # a workflow id told of each host's first outcome (HOST_REPORT)
    # The payment it delivers, for the timeline's host lines (a `payment:<id>` report_to says it too).
    payment_id: str | None = None


# The signal a `report_to` workflow receives, once per host outcome.
HOST_REPORT = "record_host_report"


class HostReport(BaseModel):
    host_id: int
    hosts: int  # how many hosts the run provisions
    ready: bool  # the host holds the client and its link is cached; False: its first attempt failed
    error: str = ""


class HostProvision(BaseModel):
    host_id: int
    status: SyncStatus | str  # a SyncStatus, or "failed"
    error: str = ""
    # The host's status only: customers' links stay in the database, out of workflow histories.


class ProvisionResult(BaseModel):
    subscription_id: int
    hosts: list[HostProvision]

    @property
    def failed_hosts(self) -> list[int]:
        return [h.host_id for h in self.hosts if h.status == "failed"]


def provision_workflow_id(subscription_id: int, trigger: str) -> str:
    """`provision:<subscription>:<trigger>`, e.g. trigger = "payment:<id>" or "grant:<source key>"."""
    return f"provision:{subscription_id}:{trigger}"
