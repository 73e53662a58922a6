"""Who may run a command where: riftwatch's admins and analysts (settings), and for a group's
subscription that group's own admins, as Telegram reports them (``getChatMember``).

Decides only; never runs a command or changes the store.
"""

from __future__ import annotations

import logging

from telegram import Bot, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.commands import Command, Reply
from config import Settings

log = logging.getLogger(__name__)

SHARED_CHATS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL})
CHAT_ADMINS = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


def refusal(settings: Settings, command: Command, user_id: int | None) -> Reply | None:
    """The polite no for a user the command is not for, or None when they may run it."""
    if command.admin and not settings.is_admin(user_id):
        return Reply.text(f"Sorry, /{command.name} is for riftwatch admins only. "
                          "Nothing was changed.")
    if command.analyst and not settings.is_analyst(user_id):
        return Reply.text(
            f"Sorry, /{command.name} is for riftwatch analysts only. Nothing was stored. "
            f"An admin can add your Telegram user id ({user_id}) to RIFTWATCH_ANALYST_IDS.")
    return None


def _sent_as_the_chat(update: Update) -> bool:
    """Sent in the chat's own name: an anonymous group admin, or a channel's own post."""
    message, chat = update.effective_message, update.effective_chat
    return (message is not None and chat is not None and message.sender_chat is not None
            and message.sender_chat.id == chat.id)


async def is_chat_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Whether Telegram lists ``user_id`` as the chat's owner or one of its administrators."""
    member = await bot.get_chat_member(chat_id, user_id)
    return member.status in CHAT_ADMINS


async def chat_admin_refusal(
    bot: Bot, settings: Settings, command: Command, update: Update
) -> Reply | None:
    """The polite no when someone who is not a group's admin changes its subscription.

    Only for commands marked ``chat_admin`` in a group, supergroup or channel; riftwatch's
    own admins may always. If Telegram cannot say, the answer is no: nothing is changed.
    """
    chat, user = update.effective_chat, update.effective_user
    if not command.chat_admin or chat is None or chat.type not in SHARED_CHATS:
        return None
    if _sent_as_the_chat(update) or (user is not None and settings.is_admin(user.id)):
        return None
    if user is not None:
        try:
            if await is_chat_admin(bot, chat.id, user.id):
                return None
        except TelegramError as exc:
            log.warning("could not check the rights of user %s in chat %s: %s",
                        user.id, chat.id, exc)
            return Reply.text(f"Sorry, I could not check that you are an admin of this chat, "
                              f"so /{command.name} changed nothing. Try again later.")
    return Reply.text(f"Sorry, in a group only its admins can use /{command.name}. "
                      "Nothing was changed.")
