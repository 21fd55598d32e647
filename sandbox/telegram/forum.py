"""Groups and forum topics: the Bot API methods (createForumTopic ... deleteForumTopic, getChatMember,
getChatAdministrators) and what people do there (`ForumControl`: members post in topics, close,
reopen or delete them, a basic group is upgraded to a supergroup)."""

from __future__ import annotations

import itertools
from typing import Any

from sandbox.telegram.params import Params
from sandbox.telegram.records import Group, SandboxUser, SentMessage, Topic, bad_request
from sandbox.telegram.state import World

FORUM_METHODS = (
    "createForumTopic",
    "editForumTopic",
    "closeForumTopic",
    "reopenForumTopic",
    "deleteForumTopic",
    "getChatMember",
    "getChatAdministrators",
)
# The colours createForumTopic accepts (Bot API: 0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F).
ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
MAX_TOPIC_NAME = 128
NOT_MODIFIED = "TOPIC_NOT_MODIFIED"
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_send_welcome_messages", "can_manage_topics",
)  # fmt: skip


class ForumMethods:
    """Mixed into `BotApi`: the methods of groups and forum topics."""

    world: World

    def _forum(self, p: Params, right: str) -> Group:
        group = self.world.group(p.chat_id())
        if not group.is_forum:
            raise bad_request("the chat is not a forum")
        if group.bot_status != "administrator" or not group.bot_can_manage_topics:
            raise bad_request(f"not enough rights to {right}")
        return group

    def _topic(self, group: Group, p: Params) -> Topic:
        topic = group.topics.get(p.required_integer("message_thread_id"))
        if topic is None or topic.deleted:
            raise bad_request("TOPIC_ID_INVALID")
        return topic

    def _service(self, group: Group, topic: Topic, kind: str, body: dict[str, Any]) -> SentMessage:
        message = self.world.add_message(group.id, True, extra={kind: body})
        message.thread_id = topic.thread_id
        return message

    async def createForumTopic(self, p: Params) -> Any:
        group = self._forum(p, "create a topic")
        name = p.required_text("name")
        if len(name) > MAX_TOPIC_NAME:
            raise bad_request("TOPIC_TITLE_TOO_LONG")
        color = p.integer("icon_color", ICON_COLORS[0])
        if color not in ICON_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        created = self.world.add_message(
            group.id, True, extra={"forum_topic_created": {"name": name, "icon_color": color}}
        )
        created.thread_id = created.message_id  # a topic's id is its creation message's id
        group.topics[created.message_id] = Topic(created.message_id, name, color)
        return {"message_thread_id": created.message_id, "name": name, "icon_color": color}

    async def editForumTopic(self, p: Params) -> Any:
        group = self._forum(p, "edit the topic")
        topic = self._topic(group, p)
        name = p.text("name")
        if name is None or name == topic.name:
            raise bad_request(NOT_MODIFIED)
        if not 1 <= len(name) <= MAX_TOPIC_NAME:
            raise bad_request("TOPIC_TITLE_TOO_LONG" if name else "TOPIC_TITLE_EMPTY")
        topic.name = name
        self._service(group, topic, "forum_topic_edited", {"name": name})
        return True

    async def closeForumTopic(self, p: Params) -> Any:
        return self._set_closed(p, True)

    async def reopenForumTopic(self, p: Params) -> Any:
        return self._set_closed(p, False)

    def _set_closed(self, p: Params, closed: bool) -> bool:
        group = self._forum(p, "close the topic" if closed else "reopen the topic")
        topic = self._topic(group, p)
        if topic.closed == closed:
            raise bad_request(NOT_MODIFIED)
        topic.closed = closed
        self._service(group, topic, "forum_topic_closed" if closed else "forum_topic_reopened", {})
        return True

    async def deleteForumTopic(self, p: Params) -> Any:
        group = self._forum(p, "delete the topic")
        delete_topic(self.world, group, self._topic(group, p))
        return True

    async def getChatMember(self, p: Params) -> Any:
        chat_id = p.chat_id()
        user = self.world.users.get(p.required_integer("user_id"))
        if user is None:
            raise bad_request("PARTICIPANT_ID_INVALID")
        if chat_id == user.id:
            return {"status": "member", "user": user.as_user()}
        if isinstance(chat_id, int) and chat_id in self.world.groups:
            group = self.world.group(chat_id)
            return member_json(group.members.get(user.id, "left"), user)
        channel = self.world.channel(chat_id)
        if not channel.bot_is_admin:
            raise bad_request("member list is inaccessible")
        return member_json(channel.members.get(user.id, "left"), user)

    async def getChatAdministrators(self, p: Params) -> Any:
        chat_id = p.chat_id()
        if isinstance(chat_id, int) and chat_id in self.world.users:
            raise bad_request("there are no administrators in the private chat")
        group = self.world.group(chat_id)
        admins = [
            member_json(status, self.world.users[user_id])
            for user_id, status in group.members.items()
            if status in ("creator", "administrator")
        ]
        if group.bot_status == "administrator":
            admins.append(member_json("administrator", None) | {"user": self.world.bot_user()})
        return admins


def member_json(status: str, user: SandboxUser | None) -> dict[str, Any]:
    data: dict[str, Any] = {"status": status}
    if user is not None:
        data["user"] = user.as_user()
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        rights = dict.fromkeys(ADMIN_RIGHTS, True)
        data |= {"can_be_edited": False, "is_anonymous": False} | rights
    elif status == "kicked":
        data["until_date"] = 0
    elif status not in ("member", "left"):
        raise ValueError(f"unsupported member status {status!r}")
    return data


def delete_topic(world: World, group: Group, topic: Topic) -> None:
    """Deleting a topic deletes its messages; sending there then answers "message thread not found"."""
    topic.deleted = True
    for message in world.chats.get(group.id, []):
        if message.thread_id == topic.thread_id:
            message.deleted = True


class ForumControl:
    """Mixed into `TelegramSandbox`: groups, their members, and what those members do."""

    world: World
    _group_ids = itertools.count(1)

    def add_group(
        self, title: str = "Support", *, forum: bool = True, basic: bool = False, chat_id: int | None = None
    ) -> Group:
        """A group the bot is an admin of (with the right to manage topics): a forum supergroup, or a
        basic group (`basic=True`, never a forum) that `upgrade_group` turns into a supergroup."""
        number = next(self._group_ids)
        if chat_id is None:
            chat_id = -(4000000000 + number) if basic else -(1002000000000 + number)
        group = Group(chat_id, title, "group" if basic else "supergroup", forum and not basic)
        self.world.groups[chat_id] = group
        return group

    def set_group_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """status: creator, administrator, member, left or kicked (the user must exist: add_user)."""
        member_json(status, self.world.users[user_id])
        self.world.groups[chat_id].members[user_id] = status

    async def post(
        self,
        chat_id: int,
        user_id: int | None,
        text: str | None = None,
        *,
        thread_id: int | None = None,
        media: tuple[str, bytes] | None = None,
        caption: str | None = None,
    ) -> SentMessage:
        """A member (`user_id`; None: an admin posting as the group) writes in a group, in a topic when
        `thread_id`; `media` = (kind, bytes) as `send_media` takes them. The bot gets the update."""
        group = self.world.groups[chat_id]
        if thread_id is not None and (thread_id not in group.topics or group.topics[thread_id].deleted):
            raise LookupError(f"no topic {thread_id} in {chat_id}")
        fields = self.world.media_fields(*media) if media else {}
        message = self.world.add_message(chat_id, False, text=text, caption=caption, **fields)
        message.thread_id, message.sender_id, message.as_group = thread_id, user_id, user_id is None
        await self.world.enqueue("message", self.world.message_json(message))
        return message

    async def close_topic(self, chat_id: int, thread_id: int, user_id: int) -> None:
        """An operator closes the topic: the bot gets the `forum_topic_closed` service message."""
        await self._operator_service(chat_id, thread_id, user_id, closed=True)

    async def reopen_topic(self, chat_id: int, thread_id: int, user_id: int) -> None:
        await self._operator_service(chat_id, thread_id, user_id, closed=False)

    async def _operator_service(self, chat_id: int, thread_id: int, user_id: int, closed: bool) -> None:
        topic = self.world.groups[chat_id].topics[thread_id]
        topic.closed = closed
        kind = "forum_topic_closed" if closed else "forum_topic_reopened"
        message = self.world.add_message(chat_id, False, extra={kind: {}})
        message.thread_id, message.sender_id = thread_id, user_id
        await self.world.enqueue("message", self.world.message_json(message))

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """An operator deletes the topic; Telegram tells bots nothing."""
        group = self.world.groups[chat_id]
        delete_topic(self.world, group, group.topics[thread_id])

    async def upgrade_group(self, chat_id: int, user_id: int, forum: bool = True) -> Group:
        """A basic group becomes a supergroup (e.g. to enable topics): the old id answers "group chat
        was upgraded" with `migrate_to_chat_id`; both chats get the migration service message."""
        old = self.world.groups[chat_id]
        new = self.add_group(old.title, forum=forum)
        new.members = dict(old.members)
        old.migrated_to = new.id
        to_new = self.world.add_message(old.id, False, extra={"migrate_to_chat_id": new.id})
        from_old = self.world.add_message(new.id, False, extra={"migrate_from_chat_id": old.id})
        for message in (to_new, from_old):
            message.sender_id = user_id
            await self.world.enqueue("message", self.world.message_json(message))
        return new

    def topic(self, chat_id: int, thread_id: int) -> Topic:
        return self.world.groups[chat_id].topics[thread_id]

    def topics(self, chat_id: int) -> list[Topic]:
        """Every topic of the group, deleted ones too, oldest first."""
        return list(self.world.groups[chat_id].topics.values())

    def in_topic(self, chat_id: int, thread_id: int) -> list[SentMessage]:
        """Everything in a topic now (the bot's and people's messages), oldest first, service too."""
        return [
            message
            for message in self.world.chats.get(chat_id, [])
            if message.thread_id == thread_id and not message.deleted
        ]
