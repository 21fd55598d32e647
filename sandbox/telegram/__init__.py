"""A faithful Telegram Bot API server for tests, benchmarks and the demo.

It speaks the Bot API over real HTTP as aiogram 3 calls it: `POST /bot<token>/<method>` with a
form (url-encoded or multipart, complex fields JSON-encoded), JSON or a query string; it answers
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "..."}` with the
same HTTP status (429 adds `parameters.retry_after`). A wrong token gets 401 "Unauthorized", an
unknown method 404 "Not Found".

Start it and point aiogram at it::

    async with TelegramSandbox() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.api_url)))

Methods: getMe; getUpdates (long polling; `offset` confirms, `timeout`, `limit`,
`allowed_updates` remembered as Telegram does; 409 while a webhook is set); setWebhook /
deleteWebhook / getWebhookInfo (updates are POSTed in order with `X-Telegram-Bot-Api-Secret-Token`
and redelivered every `webhook_retry_delay` seconds until a 2xx; a method in the 2xx JSON body is
run, as Telegram does; http:// URLs are accepted, real Telegram requires HTTPS); sendMessage,
editMessageText, editMessageReplyMarkup, deleteMessage, copyMessage (text, photo, video or
document with its caption, a new reply_markup; invoices and payment messages refused),
sendChatAction; sendPhoto (multipart upload, checked to be an image); answerCallbackQuery; sendInvoice and
createInvoiceLink (XTR only: one price, 1..10000 Stars, no provider token; payload 1..128 bytes);
answerPreCheckoutQuery (10 s deadline, configurable); refundStarPayment (CHARGE_NOT_FOUND,
USER_ID_INVALID, CHARGE_ALREADY_REFUNDED; a successful refund also delivers a `refunded_payment`
message); getStarTransactions (`offset`, `limit` clamped to 1..100; oldest first; a charge is an
incoming transaction whose `id` is the telegram_payment_charge_id, with `source` a
TransactionPartnerUser carrying `invoice_payload`; its refund an outgoing one, same `id`, `receiver`);
getChatMember (statuses creator/administrator/member/left/kicked; "member list is
inaccessible" when the bot is not a channel admin) and getChatAdministrators for groups;
setMyCommands / getMyCommands / deleteMyCommands. Forum supergroups (sandbox/telegram/forum.py):
createForumTopic (a topic's id is its `forum_topic_created` message's id; TOPIC_ICON_COLOR_INVALID,
"the chat is not a forum", "not enough rights to create a topic"), editForumTopic, closeForumTopic,
reopenForumTopic (TOPIC_NOT_MODIFIED when nothing changes), deleteForumTopic (its messages go too;
sending there answers "message thread not found"); `message_thread_id` on sendMessage, sendPhoto and
copyMessage; copyMessage also carries voice messages, stickers and locations, and refuses service
messages. A basic group upgraded to a supergroup answers "group chat was upgraded to a supergroup
chat" with `parameters.migrate_to_chat_id`.

Faithful errors: HTML parse mode is parsed as Telegram does ("can't parse entities: ..." for an
unknown or unclosed tag or a bare `<`); "message is not modified"; "message to edit not found";
"chat not found" (users must be added first); 403 "Forbidden: bot was blocked by the user"; query
too old for a callback answered twice; BUTTON_DATA_INVALID for callback data over 64 bytes; 429
"Too Many Requests: retry after N" once the global limit (`set_rate_limit`, default off) of
sendMessage/sendPhoto/sendInvoice/copyMessage calls per second is reached.

Test-control API (`TelegramSandbox`):
- people: `add_user(id, first_name, username=, last_name=, language_code="ru")`,
  `block(user_id, blocked=True)`; channels: `add_channel("name", bot_is_admin=True)`,
  `set_membership("name", user_id, status)`, `set_bot_admin("name", bool)`;
  limits: `set_rate_limit(per_second | None)`, `flood_wait(after, seconds)` (429s for `seconds`
  once `after` more messages went out), `set_pre_checkout_timeout(seconds)`.
- groups: `add_group(title, forum=True, basic=False)`, `set_group_member(chat, user_id, status)`,
  `post(chat, user_id | None (as the group), text, thread_id=, media=(kind, bytes), caption=)`,
  `close_topic` / `reopen_topic(chat, thread, user_id)` (service updates), `delete_topic(chat, thread)`
  (no update, as Telegram), `upgrade_group(chat, user_id)` -> the supergroup; `topic()`, `topics()`,
  `in_topic(chat, thread)` read them; `redeliver(update_id)` sends an update again.
- updates (each enqueued for polling or webhook delivery): `send_text(user_id, text)` (commands
  too) -> update id; `send_media(user_id, kind, data, caption=)` (kind: photo, video, document,
  voice, sticker or location);
  `press(user_id, message, button_text)` taps a callback button that exists on
  the message now -> callback query id; `send_callback(user_id, message_id, data)` with any data
  (stale or forged); `pre_checkout(user_id, payload, amount)` -> `PreCheckout` (the bot's answer
  lands on it: `answered`, `ok`, `error_message`, `answered_after`); `pay(user_id, invoice)` runs
  Telegram's flow (pre-checkout, then `successful_payment` only if answered ok in time) -> `Charge`
  or None; `successful_payment(user_id, payload, amount, charge_id=None, lost=False)` (repeat a charge id
  for a duplicate delivery; `lost=True`: charged, the update never delivered; `pay` takes `lost` too);
  `refunded_payment(charge_id)`.
- waiting: `await settle()` until the bot confirmed every update (handled, when polling with
  `handle_as_tasks=False` or webhook handling inline); `await wait_for(check)`.
- reading: `messages(chat_id)` (the bot's messages, oldest first, edits applied; each a
  `SentMessage` with `text` (tags stripped), `html`, `reply_markup`, `buttons`, `button_texts`,
  `keyboard_texts`, `button(text)`, `photo` bytes, `media_kind`, `caption`, `invoice`, `edited`, `deleted`);
  `last(chat_id)`; `callback_answer(query_id)` -> `CallbackAnswer(text, show_alert, url)` or None;
  `calls(method)` (parameters of every call, in order); `invoice(link)`; `commands(scope, lang)`;
  `webhook_deliveries` [(update_id, status or error)]; `world` holds all state.
"""

from sandbox.telegram.records import (
    BotApiError,
    CallbackAnswer,
    Channel,
    Charge,
    Invoice,
    PreCheckout,
    SandboxUser,
    SentMessage,
)
from sandbox.telegram.sandbox import DEFAULT_TOKEN, TelegramSandbox

__all__ = [
    "DEFAULT_TOKEN",
    "BotApiError",
    "CallbackAnswer",
    "Channel",
    "Charge",
    "Invoice",
    "PreCheckout",
    "SandboxUser",
    "SentMessage",
    "TelegramSandbox",
]
