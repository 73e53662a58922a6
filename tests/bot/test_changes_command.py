"""``/changes`` through the real Application and the Bot API stand-in: critical posts deleted
or edited in the window, with the removed words escaped."""

from __future__ import annotations

from datetime import timedelta

from store.db import open_db
from store.item_history import record_coverage
from store.items import save_items
from store.models import Item

HOSTILE = "Минобороны <b>врёт</b> & бросило фланги"


async def test_changes_lists_a_deleted_and_an_edited_critical_post(standin, start_bot, seed,
                                                                   db_path, clock):
    now = clock.now
    seed(db_path, [{"feed": "rybar_test", "at": now - timedelta(hours=5), "text": HOSTILE},
                   {"feed": "rybar_test", "at": now - timedelta(hours=4), "text": "Шойгу молчит"},
                   {"feed": "rybar_test", "at": now - timedelta(hours=3), "stance": "supportive",
                    "text": "Наши наступают"}])
    db = open_db(db_path)
    feed_id = db.execute("SELECT id FROM feeds WHERE name = 'rybar_test'").fetchone()[0]
    shown = [Item(text="Минобороны бросило фланги", channel="rybar_test", post_id=1,
                  published_at=now - timedelta(hours=5)),
             Item(text="Наши наступают", channel="rybar_test", post_id=3,
                  published_at=now - timedelta(hours=3))]
    for hours in (2, 1):  # post 2 missed by two covering fetches; post 1 edited at the first
        save_items(db, feed_id, shown, now=now - timedelta(hours=hours))
        record_coverage(db, feed_id, [1, 3], None, now - timedelta(hours=hours))
    async with start_bot():
        (recent,) = await standin.reply_to("/changes")
        (none,) = await standin.reply_to("/changes 30m")
        (usage,) = await standin.reply_to("/changes 1d 2d")
    text = recent.params["text"]
    assert text.startswith("<b>Deleted or edited (critical posts)</b>")
    assert "<b>rybar_test</b> 2026-11-24 05:30: deleted 2026-11-24 08:30 (critical)" in text
    assert "edited (2 versions) 2026-11-24 07:30 (was critical, now awaiting rescoring)" in text
    assert "removed: <s>&lt;b&gt;врёт&lt;/b&gt; &amp;</s>" in text
    assert "Наши наступают" not in text  # unchanged, and supportive
    assert none.params["text"] == "No critical post was deleted or edited in the last 30m."
    assert usage.params["text"].startswith("Usage: /changes")
