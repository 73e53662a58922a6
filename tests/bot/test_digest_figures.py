"""Every figure a digest prints is the stored figure it names (issue 13, point 3).

The real bot answers /summary and /channel against the Bot API stand-in; each printed stance
probability, theme probability and count is checked against what the store holds.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from store.db import open_db

STANCE_FIGURE = re.compile(r"\(stance (\w+) (\d\.\d\d)(?: · theme (\d\.\d\d))?\)[^#]*#(\d+)")


def _posts(clock):
    now = clock.now
    return [
        # alarmed at 0.53 but its retreat theme at 0.76: the digest once printed "alarmed 0.76"
        {"feed": "blog_a", "at": now - timedelta(hours=1), "text": "Мы отошли от Клещеевки",
         "stance": "alarmed", "probabilities": {"supportive": 0.1, "critical": 0.3,
                                                "alarmed": 0.53, "neutral": 0.07},
         "themes": {"retreat_admission": 0.76}},
        # critical at 0.46 with the MoD theme at 0.60 and a target: in Rifts and Top posts both
        {"feed": "blog_a", "at": now - timedelta(hours=2), "text": "Минобороны опять врёт",
         "stance": "critical", "probabilities": {"supportive": 0.2, "critical": 0.46,
                                                 "alarmed": 0.24, "neutral": 0.1},
         "themes": {"mod_criticism": 0.60}, "targets": ["ministry"]},
        {"feed": "blog_a", "at": now - timedelta(hours=3), "text": "Ещё не оценён",
         "scored": False},
        *({"feed": "blog_b", "at": now - timedelta(hours=4 + n), "text": f"Сводка {n}",
           "stance": "supportive"} for n in range(3)),
        *({"feed": "demo_news", "role": "news", "at": now - timedelta(hours=2, minutes=n),
           "text": f"Новости {n}", "stance": "neutral"} for n in range(4)),
    ]


def _stored(db_path):
    db = open_db(db_path)
    rows = db.execute("SELECT item_id, stance, p_supportive, p_critical, p_alarmed, p_neutral, "
                      "themes FROM scores").fetchall()
    return {row[0]: (row[1], dict(zip(("supportive", "critical", "alarmed", "neutral"),
                                      row[2:6], strict=True)), json.loads(row[6]))
            for row in rows}


async def test_every_quoted_figure_is_the_stored_figure_it_names(standin, start_bot, seed,
                                                                 db_path, clock):
    seed(db_path, _posts(clock))
    async with start_bot():
        replies = await standin.reply_to("/summary 24h")
    text = "\n".join(reply.params["text"] for reply in replies)
    stored = _stored(db_path)
    figures = STANCE_FIGURE.findall(text)
    assert len(figures) >= 3, text
    for stance, shown, theme_shown, item_id in figures:
        stored_stance, probabilities, themes = stored[int(item_id)]
        assert stance == stored_stance
        assert float(shown) == round(probabilities[stance], 2)
        if theme_shown:
            assert float(theme_shown) in {round(value, 2) for value in themes.values()}
    assert "(stance alarmed 0.53 · theme 0.76)" in text
    assert "alarmed 0.76" not in text
    assert "(stance critical 0.46)" in text  # under Rifts: the stance figure only
    assert "(stance critical 0.46 · theme 0.60)" in text  # under Top posts: both, each named


async def test_counts_share_one_filter_and_a_scored_news_channel_shows_its_stance(
        standin, start_bot, seed, db_path, clock):
    seed(db_path, _posts(clock))
    async with start_bot():
        (sliced,) = await standin.reply_to("/summary 24h blog_a")
        (news,) = await standin.reply_to("/channel demo_news")
        (everything,) = await standin.reply_to("/summary 24h")
    assert "<b>3</b> posts: 3 blogger · 2 scored" in sliced.params["text"]
    assert "<b>4</b> posts: 4 news · 4 scored" in news.params["text"]
    assert "not scored yet" not in news.params["text"]
    assert "<b>Stance of news posts</b> (4 posts" in news.params["text"]
    assert "<b>10</b> posts: 6 blogger, 4 news · 9 scored" in everything.params["text"]
