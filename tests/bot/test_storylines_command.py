"""``/storylines`` through the real Application and the Bot API stand-in: a subject three
channels took up today is listed as new (its post text escaped), one the earlier days already
carried is only counted."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from store.db import open_db
from store.post_vectors import save_vectors

HOSTILE = "Военная полиция <b>изымает</b> старлинки & министерство молчит"
DIM = 24


def _member(topic: int, number: int) -> np.ndarray:
    """A topic's axis plus a little of an axis of the post's own: cosine 0.94 between two
    posts of a topic (alike, not copies), 0 across topics."""
    vector = np.zeros(DIM)
    vector[topic] = 1.0
    vector[4 + topic * 6 + number] = 0.25
    return vector / np.linalg.norm(vector)


async def test_storylines_lists_the_new_one_and_counts_the_continued_one(
        standin, start_bot, seed, db_path, clock):
    now = clock.now
    channels = ["rybar_test", "wargonzo_test", "grey_zone_test", "rybar_test"]
    posts = [{"feed": channel, "at": now - timedelta(hours=2 + n), "text": f"{HOSTILE} {n}"}
             for n, channel in enumerate(channels)]
    posts += [{"feed": channel, "at": now - timedelta(hours=6 + n),
               "text": f"Снарядов опять нет, склады пустые {n}"}
              for n, channel in enumerate(channels)]
    posts.append({"feed": "rybar_test", "at": now - timedelta(days=3), "stance": "neutral",
                  "text": "Снарядов нет, склады пустые"})
    seed(db_path, posts)
    db = open_db(db_path)
    ids = [row[0] for row in db.execute("SELECT id FROM items ORDER BY post_id")]
    vectors = [_member(0, n) for n in range(4)] + [_member(1, n) for n in range(5)]
    with db.conn:
        save_vectors(db, "test-space", list(zip(ids, vectors, strict=True)))
    async with start_bot():
        (today,) = await standin.reply_to("/storylines")
        (none,) = await standin.reply_to("/storylines 30m")
        (usage,) = await standin.reply_to("/storylines 1d 2d")
    text = today.params["text"]
    assert text.startswith("<b>New storylines (critical posts, unlike the previous 14 days')</b>")
    assert ": 4 posts from 3 channels (rybar_test, grey_zone_test, wargonzo_test)" in text
    assert "«<i>Военная полиция &lt;b&gt;изымает&lt;/b&gt; старлинки &amp; министерство" in text
    assert "Снарядов" not in text
    assert text.endswith("1 other storyline of the last 24h continues from the previous 14 days.")
    assert none.params["text"] == "No new storyline among the critical posts of the last 30m."
    assert usage.params["text"].startswith("Usage: /storylines")
