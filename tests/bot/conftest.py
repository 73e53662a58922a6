"""A Telegram Bot API stand-in on 127.0.0.1 (aiohttp) and fixtures that run the real bot on it.

The stand-in speaks the Bot API's HTTP protocol for the methods the bot uses, parses the
HTML it is sent the way Telegram does (allowed tags, balanced, entities, length after
parsing) and can answer 403 Forbidden or 429 RetryAfter for chosen chats.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app import build_application
from bot.run import running_bot
from config import Settings
from config.feeds import FeedConfig
from config.settings import DEFAULT_THEMES_FILE
from config.themes import Taxonomy, load_themes
from store.db import open_db
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, to_iso

TOKEN = "123456:TEST-token-SECRET-do-not-log"
ADMIN_ID = 1001
USER_ID = 2002
BOT_USER = {"id": 999, "is_bot": True, "first_name": "riftwatch", "username": "riftwatch_bot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "blockquote", "tg-spoiler", "span", "tg-emoji"}
_ENTITY_RE = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


class EntityError(ValueError):
    pass


class _TelegramHtml(HTMLParser):
    """Parses Telegram HTML strictly: only allowed tags, properly nested, no stray '&'."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise EntityError(f"Unsupported start tag \"{tag}\"")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise EntityError(f"Unmatched end tag \"{tag}\"")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_telegram_html(text: str) -> str:
    """The visible text of a Telegram HTML message, or EntityError as Telegram would refuse."""
    if _ENTITY_RE.search(text):
        raise EntityError("Character '&' is reserved; use &amp;")
    if re.search(r"<(?![a-zA-Z/])", text):
        raise EntityError("Unexpected '<'; use &lt;")
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise EntityError(f"Can't find end tag corresponding to start tag \"{parser.stack[-1]}\"")
    return "".join(parser.text)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class BotApiStandIn:
    """The Bot API over HTTP on 127.0.0.1: answers like Telegram and records every call."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.blocked_chats: set[int] = set()
        self.retry_after: dict[int, list[int]] = {}  # chat -> retry_after answers still to give
        self.held_chats: dict[int, asyncio.Event] = {}  # answers to these wait for the event
        self.chat_admins: dict[int, set[int]] = {}  # group -> user ids getChatMember calls admins
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:``port`` (0: a free one)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- what tests use

    def push_text(self, text: str, chat_id: int = USER_ID, user_id: int | None = None,
                  chat_type: str = "private", as_chat: bool = False) -> int:
        """Queue a message update (a command gets its bot_command entity); return its id.

        ``as_chat`` sends it in the chat's own name, as an anonymous group admin does.
        """
        update_id = next(self._update_ids)
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = "Analyst"
        else:
            chat["title"] = "Analysts"
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
            "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "Analyst"},
            "text": text,
        }
        if as_chat:
            message["sender_chat"] = chat
            message["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                               "username": "GroupAnonymousBot"}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        self.updates.append({"update_id": update_id, "message": message})
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[Call]:
        return [call for call in self.calls if call.method == method
                and (chat_id is None or int(call.params["chat_id"]) == chat_id)]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [call.params["text"] for call in self.sent(chat_id)]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def reply_to(self, text: str, chat_id: int = USER_ID, user_id: int | None = None,
                       count: int = 1, method: str = "sendMessage", **kwargs: Any) -> list[Call]:
        """Send a message as a user and wait until the bot has sent ``count`` answers to it."""
        before = len(self.sent(chat_id, method))
        self.push_text(text, chat_id, user_id, **kwargs)
        await self.wait_for(lambda: len(self.sent(chat_id, method)) >= before + count)
        return self.sent(chat_id, method)[before:]

    # ---- the protocol

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        if request.content_type == "application/json":
            return await request.json(), {}
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = value.file.read()
            else:
                params[name] = value
        return params, files

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._params(request)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        if method != "getUpdates":
            self.calls.append(Call(method, params, files))
        response = await handler(params, files)
        await self._notify()
        return response

    async def _api_getMe(self, params: dict, files: dict) -> web.Response:
        return self._ok(BOT_USER)

    async def _api_deleteWebhook(self, params: dict, files: dict) -> web.Response:
        return self._ok(True)

    async def _api_setWebhook(self, params: dict, files: dict) -> web.Response:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", params.get("secret_token", "x")):
            return self._error(400, "Bad Request: secret token contains unallowed characters")
        return self._ok(True)

    async def _api_setMyCommands(self, params: dict, files: dict) -> web.Response:
        commands = json.loads(params["commands"])
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]) or not (
                    1 <= len(command["description"]) <= 256):
                return self._error(400, "Bad Request: BOT_COMMAND_INVALID")
        return self._ok(True)

    async def _api_getUpdates(self, params: dict, files: dict) -> web.Response:
        offset = int(params.get("offset") or 0)
        self.updates = [update for update in self.updates if update["update_id"] >= offset]
        if not self.updates:
            wait = min(float(params.get("timeout") or 0), 0.2)
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self.updates)), wait)
                except TimeoutError:
                    pass
        return self._ok(self.updates[: int(params.get("limit") or 100)])

    def _refusal(self, chat_id: int) -> web.Response | None:
        if chat_id in self.blocked_chats:
            return self._error(403, "Forbidden: bot was blocked by the user")
        pending = self.retry_after.get(chat_id)
        if pending:
            seconds = pending.pop(0)
            return self._error(429, f"Too Many Requests: retry after {seconds}",
                               retry_after=seconds)
        return None

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": BOT_USER, **content}

    def _check_html(self, params: dict, key: str, limit: int) -> web.Response | None:
        if key not in params:
            return None
        if params.get("parse_mode") != "HTML":
            return self._error(400, "Bad Request: the stand-in expects parse_mode HTML")
        try:
            visible = parse_telegram_html(params[key])
        except EntityError as exc:
            return self._error(400, f"Bad Request: can't parse entities: {exc}")
        if utf16_length(visible.strip()) > limit:
            return self._error(400, f"Bad Request: {key} is too long")
        if key == "text" and not visible.strip():
            return self._error(400, "Bad Request: message text is empty")
        return None

    async def _api_sendMessage(self, params: dict, files: dict) -> web.Response:
        chat_id = int(params["chat_id"])
        if chat_id in self.held_chats:
            await self.held_chats[chat_id].wait()
        refusal = self._refusal(chat_id) or self._check_html(params, "text", 4096)
        return refusal or self._ok(self._message(chat_id, text=html.unescape(params["text"])))

    async def _api_getChatMember(self, params: dict, files: dict) -> web.Response:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        user = {"id": user_id, "is_bot": False, "first_name": "Member"}
        if user_id not in self.chat_admins.get(chat_id, set()):
            return self._ok({"status": "member", "user": user})
        rights = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                  "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                  "can_change_info", "can_invite_users", "can_post_stories",
                  "can_edit_stories", "can_delete_stories")
        return self._ok({"status": "administrator", "user": user,
                         **{right: right == "can_manage_chat" for right in rights}})

    async def _api_sendPhoto(self, params: dict, files: dict) -> web.Response:
        chat_id = int(params["chat_id"])
        refusal = self._refusal(chat_id) or self._check_html(params, "caption", 1024)
        if refusal:
            return refusal
        if "photo" not in files:
            return self._error(400, "Bad Request: there is no photo in the request")
        photo = [{"file_id": "photo-1", "file_unique_id": "u1", "width": 880, "height": 440,
                  "file_size": len(files["photo"])}]
        return self._ok(self._message(chat_id, photo=photo, caption=params.get("caption")))


# ---------------------------------------------------------------- fixtures


class Clock:
    """A settable clock for the bot's notion of now."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    server = BotApiStandIn()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def taxonomy() -> Taxonomy:
    return load_themes(DEFAULT_THEMES_FILE)


@pytest.fixture
def bot_settings(settings: Settings, standin: BotApiStandIn) -> Settings:
    return settings.model_copy(update={
        "telegram_token": __import__("pydantic").SecretStr(TOKEN),
        "telegram_base_url": standin.base_url,
        "telegram_base_file_url": standin.base_file_url,
        "admin_ids": [ADMIN_ID],
    })


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))


@pytest.fixture
def start_bot(bot_settings: Settings, db_path: Path, taxonomy: Taxonomy, clock: Clock):
    """Start a real Application against the stand-in: ``async with start_bot() as app``."""

    def starter(settings: Settings | None = None, tick_seconds: float = 3600.0):
        chosen = settings or bot_settings
        application = build_application(chosen, db_path, taxonomy, clock=clock,
                                        tick_seconds=tick_seconds)
        return running_bot(application, chosen, poll_timeout=0.5)

    return starter


def seed_posts(db_path: Path, posts: list[dict[str, Any]], model_version: str = "test-model"
               ) -> None:
    """Store feeds, items and constructed scores (as the classifier would write them).

    A post may set ``stance``, ``probabilities`` (stance → p), ``themes``, ``targets``, ``role``,
    ``title`` and ``scored`` (False leaves it unscored).
    """
    db = open_db(db_path)
    feeds: dict[str, int] = {}
    for number, post in enumerate(posts, start=1):
        name = post["feed"]
        if name not in feeds:
            role = post.get("role", "blogger")
            feeds[name] = add_feed(db, FeedConfig(
                name=name, kind="telegram", role=role, channel=name,
                title=post.get("title"))).id
        item = Item(text=post["text"], channel=name, post_id=number,
                    url=f"https://t.me/{name}/{number}", published_at=post["at"])
        save_items(db, feeds[name], [item])
        item_id = db.execute("SELECT id FROM items WHERE key = ?", [item.key]).fetchone()[0]
        if post.get("scored", True):
            _score(db, item_id, post, model_version)
    db.conn.close()


def _score(db: Any, item_id: int, post: dict[str, Any], model_version: str) -> None:
    """A constructed score: the post's stance at 0.9 unless ``probabilities`` names them."""
    stance = post.get("stance", "critical")
    probabilities = post.get("probabilities") or {
        name: 0.9 if name == stance else 0.1 / 3
        for name in ("supportive", "critical", "alarmed", "neutral")}
    db["scores"].insert({
            "item_id": item_id, "model_version": model_version, "stance": stance,
        **{f"p_{name}": value for name, value in probabilities.items()},
        "themes": json.dumps(post.get("themes", {})),
        "themes_present": json.dumps([n for n, p in post.get("themes", {}).items() if p >= 0.5]),
        "targets": json.dumps(post.get("targets", [])),
        "evidence": post["text"][:200], "language": "ru", "scored_at": to_iso(post["at"]),
    })


@pytest.fixture
def seed() -> Callable[..., None]:
    return seed_posts


@pytest.fixture
def telegram_parse() -> Callable[[str], str]:
    """Telegram's HTML parsing as the stand-in does it: visible text, or EntityError."""
    return parse_telegram_html
