"""Build the python-telegram-bot Application: thin handlers, the command menu, the delivery job.

Wires Telegram to ``bot.commands`` and ``bot.delivery``; never computes a reply itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.commands import COMMANDS, Command, CommandRequest, Reply
from bot.delivery import deliver_due, send_parts
from bot.env import BotEnv
from bot.rights import chat_admin_refusal, refusal
from bot.watch_delivery import deliver_watch_alerts
from config import ConfigError, RiftwatchError, Settings
from config.echo import quote_input
from config.settings import DIGEST_WINDOW_HOURS
from config.themes import Taxonomy
from digest.model import trim_quote
from digest.telegram_html import escape
from store.models import utc_now

log = logging.getLogger(__name__)

DELIVERY_JOB = "digest-delivery"
RATE_LIMIT_RETRIES = 3
ERROR_LINE_CHARS = 400  # an error line is cut here, whatever a lower layer put in it
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def _env(context: ContextTypes.DEFAULT_TYPE) -> BotEnv:
    env: BotEnv = context.application.bot_data["env"]
    return env


async def send_reply(context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply) -> None:
    """Send a Reply's photo (if any) and its HTML messages to a chat (quoted posts recorded)."""
    if reply.photo is not None:
        await context.bot.send_photo(chat_id, photo=reply.photo, caption=reply.caption,
                                     parse_mode=ParseMode.HTML)
    await send_parts(context.bot, chat_id, reply.messages, _env(context))


def _request(
    update: Update, context: ContextTypes.DEFAULT_TYPE, command: Command
) -> CommandRequest:
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    replied = update.effective_message.reply_to_message if update.effective_message else None
    return CommandRequest(command=command.name, args=list(context.args or []), chat_id=chat.id,
                          chat_type=chat.type, user_id=user.id if user else None,
                          reply_to_message_id=replied.message_id if replied else None)


def handler_for(command: Command) -> Handler:
    """A PTB callback: check the user's rights, run the command in a thread, send its reply."""

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        env = _env(context)
        request = _request(update, context, command)
        refused = (refusal(env.settings, command, request.user_id)
                   or await chat_admin_refusal(context.bot, env.settings, command, update))
        if refused is not None:
            log.info("refused /%s for user %s", command.name, request.user_id)
            reply = refused
        else:  # a RiftwatchError goes to on_error, which answers it in one line
            reply = await env.call(command.run, env, request)
        await send_reply(context, request.chat_id, reply)

    answer.__name__ = f"answer_{command.name}"
    return answer


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    word = (message.text or "/").split()[0] if message else "/"
    if "@" in word and context.bot.username and not word.endswith("@" + context.bot.username):
        return  # a command meant for another bot in the same group
    await send_reply(context, update.effective_chat.id if update.effective_chat else 0,
                     Reply.text(f"Unknown command {escape(quote_input(word))}. "
                                "/help lists the commands."))


async def plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None:
        await send_reply(context, update.effective_chat.id, Reply.text(
            f"I answer commands: try /summary for the last {DIGEST_WINDOW_HOURS} hours, "
            "or /help."))


def error_line(error: RiftwatchError) -> str:
    """An expected failure as the one line a chat sees: escaped, capitalised, bounded."""
    line = trim_quote(str(error), ERROR_LINE_CHARS)
    return escape(line[:1].upper() + line[1:])


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one place a handler's failure is answered: a RiftwatchError (bad arguments, an
    unknown zone, a window too long…) as its one line; anything else is logged as a bug and
    the chat told so, so a user never meets silence or a traceback."""
    error = context.error
    if isinstance(error, RiftwatchError):
        log.info("answered with an error line: %s", error)
        text = error_line(error)
    else:
        log.error("handling an update failed", exc_info=error)
        text = "Sorry, that failed on our side; it has been logged. /help lists the commands."
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML)
    except Exception:  # the chat may be unreachable; the log has the cause
        log.warning("could not tell chat %s about the error", update.effective_chat.id)


async def delivery_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await deliver_due(_env(context), context.bot)
    await deliver_watch_alerts(_env(context), context.bot)


async def publish_commands(application: Application) -> None:
    """setMyCommands: every command with its description in Telegram's menu."""
    await application.bot.set_my_commands(
        [BotCommand(command.name, command.description) for command in COMMANDS])


async def _close_env(application: Application) -> None:
    application.bot_data["env"].close()


def _job_lines(application: Application) -> Callable[[], list[str]]:
    def describe() -> list[str]:
        queue = application.job_queue
        jobs = queue.jobs() if queue is not None else ()
        return [f"{job.name}: next {job.next_t:%Y-%m-%d %H:%M:%S} UTC" if job.next_t
                else f"{job.name}: paused" for job in jobs]
    return describe


def build_application(
    settings: Settings, db_path: Path, taxonomy: Taxonomy, *,
    clock: Callable[[], datetime] = utc_now, tick_seconds: float = 60.0,
) -> Application:
    """The bot, ready for ``run_polling``/``run_webhook`` or ``bot.run.running_bot``.

    ``tick_seconds`` is how often the delivery job looks for due digests; ``clock`` is the
    time the commands and the job see (tests pass a fixed one).
    """
    if settings.telegram_token is None:
        raise ConfigError("environment", "RIFTWATCH_TELEGRAM_TOKEN", "not set",
                          "set it to the token @BotFather gave you")
    application = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .post_init(publish_commands)
        .post_shutdown(_close_env)
        .build()
    )
    application.bot_data["env"] = BotEnv(settings=settings, db_path=db_path, taxonomy=taxonomy,
                                         clock=clock, describe_jobs=_job_lines(application))
    for command in COMMANDS:
        application.add_handler(CommandHandler(command.name, handler_for(command)))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(
        filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, plain_text))
    application.add_error_handler(on_error)
    assert application.job_queue is not None, "install python-telegram-bot[job-queue]"
    application.job_queue.run_repeating(delivery_job, interval=tick_seconds,
                                        first=min(tick_seconds, 10.0), name=DELIVERY_JOB)
    return application
