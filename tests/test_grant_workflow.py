from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from shop.context import AppContext
from shop.models import GrantKind, Subscription
from tests.factories import subscriber
from workflows.grant import GrantAccessInput, GrantAccessWorkflow, grant_workflow_id


async def test_grant_workflow_applies_once_even_when_started_twice(
    running_worker: AppContext, temporal_client: Client, task_queue: str
) -> None:
    ctx = running_worker
    sub = await subscriber(ctx.sessions)
    inp = GrantAccessInput(
        subscription_id=sub.id,
        source_key=f"gift:{task_queue}",
        seconds=86400,
        kind=GrantKind.GIFT,
        actor="admin:7",
    )
    result = await temporal_client.execute_workflow(
        GrantAccessWorkflow.run,
        inp,
        id=grant_workflow_id(inp.source_key),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    assert result.applied
    try:
        await temporal_client.start_workflow(
            GrantAccessWorkflow.run,
            inp,
            id=grant_workflow_id(inp.source_key),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass
    else:
        raise AssertionError("a closed grant workflow must not run again")
    async with ctx.sessions() as session:
        stored = await session.get(Subscription, sub.id)
        assert stored is not None and stored.expires_at == result.expires_at
