"""Webhook mode: the real PTB webhook server on 127.0.0.1 checks Telegram's secret token header."""

from __future__ import annotations

import json
import socket
import time

import aiohttp
from pydantic import SecretStr

USER_ID = 2002


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _update(text: str) -> dict:
    return {"update_id": 1, "message": {
        "message_id": 1, "date": int(time.time()), "text": text,
        "chat": {"id": USER_ID, "type": "private", "first_name": "Analyst"},
        "from": {"id": USER_ID, "is_bot": False, "first_name": "Analyst"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}


async def test_webhook_needs_the_secret_token(standin, start_bot, bot_settings):
    port = _free_port()
    settings = bot_settings.model_copy(update={
        "webhook_url": f"http://127.0.0.1:{port}/telegram-hook", "webhook_port": port,
        "webhook_secret": SecretStr("s3cret-hook_token")})
    url = f"http://127.0.0.1:{port}/telegram-hook"
    async with start_bot(settings), aiohttp.ClientSession() as session:
        (registered,) = standin.sent(method="setWebhook")
        async with session.post(url, data=json.dumps(_update("/help")),
                                headers={"Content-Type": "application/json"}) as refused:
            assert refused.status == 403
        async with session.post(url, data=json.dumps(_update("/help")), headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": "s3cret-hook_token"}) as accepted:
            assert accepted.status == 200
        await standin.wait_for(lambda: len(standin.sent(USER_ID)) == 1)
    assert registered.params["url"] == url
    assert registered.params["secret_token"] == "s3cret-hook_token"
    assert "/summary" in standin.texts(USER_ID)[0]
