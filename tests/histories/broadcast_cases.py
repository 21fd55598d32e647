"""Recorded runs of the operator broadcast through the Telegram sandbox: one run that reaches every
recipient (one of them has blocked the bot), and the last run of a broadcast that continued as new."""

from __future__ import annotations

from bot.main import build_bot
from sandbox.telegram import TelegramSandbox
from shop.context import AppContext
from shop.customers.accounts import register_user
from shop.messaging import broadcasts
from tests.histories.recorder import Recorder, Scenario, expect
from worker.main import build_worker
from workflows.broadcast import BroadcastInput, BroadcastWorkflow, broadcast_workflow_id

OPERATOR = 900


async def _draft(ctx: AppContext, telegram: TelegramSandbox, users: range) -> str:
    for user_id in (OPERATOR, *users):
        telegram.add_user(user_id, f"User{user_id}", language_code="en")
        await register_user(ctx.sessions, user_id, None, f"User{user_id}", language="en")
    await telegram.send_text(OPERATOR, "📢 New servers in Helsinki")
    message_id = telegram.world.chats[OPERATOR][-1].message_id
    return await broadcasts.create_draft(
        ctx.sessions, OPERATOR, OPERATOR, message_id, "Servers", "https://status.example"
    )


async def _run(rec: Recorder, ctx: AppContext, inp: BroadcastInput) -> broadcasts.BroadcastProgress:
    return await rec.client.execute_workflow(
        BroadcastWorkflow.run,
        inp,
        id=broadcast_workflow_id(inp.broadcast_id),
        task_queue=ctx.settings.temporal_task_queue,
    )


async def broadcast(rec: Recorder) -> None:
    async with TelegramSandbox() as telegram:
        ctx = await rec.context(
            "broadcasts", telegram_bot_token=telegram.token, telegram_api_url=telegram.api_url
        )
        rec.keep_out(telegram.token)
        bot = build_bot(ctx.settings)
        try:
            async with build_worker(ctx, rec.client, bot=bot):
                sent_id = await _draft(ctx, telegram, range(1, 4))
                telegram.block(3)
                sent = await _run(rec, ctx, BroadcastInput(broadcast_id=sent_id))
                expect((sent.sent, sent.blocked, sent.state) == (3, 1, "finished"), f"sent: {sent}")
                await rec.save("broadcast_sent", broadcast_workflow_id(sent_id))

                continued_id = await _draft(ctx, telegram, range(4, 7))
                inp = BroadcastInput(broadcast_id=continued_id, batch_size=2, batches_per_run=1)
                continued = await _run(rec, ctx, inp)
                expect(continued.sent == 6, f"continued: {continued}")  # 3 new users, 2 old, the operator
                await rec.save("broadcast_continued", broadcast_workflow_id(continued_id))
        finally:
            await bot.session.close()


SCENARIOS = [Scenario("broadcasts", ("broadcast_sent", "broadcast_continued"), broadcast)]
