"""``/search`` through the real PTB Application against the Bot API stand-in, with the packaged
model: the nearest posts quoted as a digest quotes them (escaped, linked, with their #ref), and
a missing or over-long query refused in one line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifiers.reindex import reindex_vectors
from classifiers.scoring import load_post_scorer
from config import Settings
from config.themes import Taxonomy
from store.db import open_db

pytestmark = pytest.mark.slow

SHORTAGE = "Снарядов нет, дронов нет, связи нет. Бойцы сами собирают деньги на всё."
HOSTILE = "<script>alert(1)</script> Минобороны & Шойгу <b>врут о победах"
AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_search_quotes_the_nearest_posts_escaped_and_linked(
    standin, start_bot, bot_settings: Settings, db_path: Path, taxonomy: Taxonomy,
    model_cache: Path, seed, telegram_parse,
) -> None:
    settings = bot_settings.model_copy(update={"cache_dir": model_cache, "precision": "fp32",
                                               "threads": 2})
    seed(db_path, [
        {"feed": "pvo_news", "text": "Расчёт ПВО сбил беспилотник над Белгородом, пострадавших "
                                     "нет.", "at": AT, "stance": "neutral"},
        {"feed": "shturm", "title": "Штурм <i>&</i> Co", "text": SHORTAGE, "at": AT},
        {"feed": "hostile", "text": HOSTILE, "at": AT},
    ])
    # the classifier the bot will use (same settings, so load_classifier's cache hands it over)
    scorer = load_post_scorer(settings, taxonomy)
    assert reindex_vectors(open_db(db_path), scorer) == 3  # the seeded scores had no vectors
    async with start_bot(settings):
        (found,) = await standin.reply_to("/search нет снарядов")
        (echoed,) = await standin.reply_to("/search <b>Шойгу</b> & победы")
        (usage,) = await standin.reply_to("/search")
        (too_long,) = await standin.reply_to("/search " + "снаряды " * 50)
    html = found.params["text"]
    lines = telegram_parse(html).splitlines()
    assert lines[0] == "Posts nearest «нет снарядов»:"
    assert "Снарядов нет, дронов нет" in lines[1]  # the nearest first
    assert len(lines) == 4 and all("(similarity 0." in line for line in lines[1:])
    assert '<a href="https://t.me/shturm/2">Штурм &lt;i&gt;&amp;&lt;/i&gt; Co</a>' in html
    assert "<code>#2</code>" in html  # the ref /label takes
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Минобороны &amp; Шойгу &lt;b&gt;врут" in html
    echo = echoed.params["text"]
    assert echo.startswith("<b>Posts nearest</b> «&lt;b&gt;Шойгу&lt;/b&gt; &amp; победы»")
    assert "Минобороны &amp; Шойгу" in echo.splitlines()[1]  # the post about Shoigu first
    assert usage.params["text"] == "Usage: /search TEXT"
    assert too_long.params["text"].startswith("A search is at most 300 characters")
