"""New storylines, composed from a real store holding small synthetic search vectors: a fresh
subject several channels took up is new, one the earlier days already carried is not, one
channel alone or one post and its reposts make no storyline, posts with no vector are counted
and skipped, and hostile post text is escaped in the section."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlite_utils

from config import FeedConfig, Settings, load_themes
from config.settings import DEFAULT_THEMES_FILE
from digest.compose import compose_digest
from digest.model import StorylineReport
from digest.render_text import render_text
from digest.storylines import compose_storylines
from digest.telegram_html import render_digest, render_storylines
from store.feeds import add_feed
from store.items import save_items
from store.models import Item
from store.post_vectors import save_vectors

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
SINCE = NOW - timedelta(hours=24)
DIM = 32
SPACE = "test-space"
TOPICS = {"fresh": 0, "ongoing": 1, "lonely": 2, "reposted": 3}
TEXTS = {
    "fresh": "Военная полиция изымает старлинки у штурмовиков, министерство молчит {n}",
    "ongoing": "Снарядов опять нет, склады пустые, генералы докладывают об успехах {n}",
    "lonely": "Комбат снова отправил роту в лобовую атаку без разведки {n}",
    "reposted": "Штаб сдал высоту и доложил об успешной обороне {n}",
}


class Posts:
    """Writes posts, their scores and their vectors through the store, one feed per channel."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db, self.feeds, self.next_id = db, {}, 1
        self.rng = np.random.default_rng(5)

    def vector(self, topic: str | None, spread: float = 0.3) -> np.ndarray:
        """A unit vector near a topic's axis (cosine about 0.9 with another of its posts)."""
        base = np.zeros(DIM)
        if topic is not None:
            base[TOPICS[topic]] = 1.0
        noise = self.rng.standard_normal(DIM)
        noise[list(TOPICS.values())] = 0.0
        vector = base + spread * noise / np.linalg.norm(noise) * (3.0 if topic is None else 1.0)
        return vector / np.linalg.norm(vector)

    def add(self, channel: str, text: str, hours_ago: float, vector: np.ndarray | None,
            stance: str = "critical") -> int:
        if channel not in self.feeds:
            self.feeds[channel] = add_feed(self.db, FeedConfig(
                name=channel, kind="telegram", role="blogger", channel=channel)).id
        post_id, self.next_id = self.next_id, self.next_id + 1
        save_items(self.db, self.feeds[channel], [Item(
            text=text, channel=channel, post_id=post_id, url=f"https://t.me/{channel}/{post_id}",
            published_at=NOW - timedelta(hours=hours_ago))], now=NOW)
        item_id = int(self.db.execute("SELECT id FROM items WHERE post_id = ?",
                                      [post_id]).fetchone()[0])
        self.db.table("scores").insert({
            "item_id": item_id, "model_version": "m", "stance": stance,
            **{f"p_{name}": 0.7 if name == stance else 0.1
               for name in ("supportive", "critical", "alarmed", "neutral")},
            "themes": "{}", "themes_present": "[]", "targets": "[]",
            "scored_at": "2026-05-20T00:00:00Z"})
        if vector is not None:
            with self.db.conn:
                save_vectors(self.db, SPACE, [(item_id, vector)])
        return item_id


@pytest.fixture
def story_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"storyline_novelty_cosine": 0.8})


def _seed(db: sqlite_utils.Database, fresh_text: str = TEXTS["fresh"]) -> dict[str, list[int]]:
    posts = Posts(db)
    ids: dict[str, list[int]] = {topic: [] for topic in TOPICS}
    channels = ["alpha", "bravo", "charlie", "alpha"]
    for topic in ("fresh", "ongoing"):
        for n, channel in enumerate(channels):
            text = (fresh_text if topic == "fresh" else TEXTS[topic]).format(n=n)
            ids[topic].append(posts.add(channel, text, 20 - n, posts.vector(topic)))
    for n in range(4):  # one channel alone
        ids["lonely"].append(posts.add("charlie", TEXTS["lonely"].format(n=n), 10 - n,
                                       posts.vector("lonely")))
    original = posts.vector("reposted")  # one post and its reposts in three other channels
    for n, channel in enumerate(["delta", "alpha", "bravo", "charlie"]):
        ids["reposted"].append(posts.add(channel, TEXTS["reposted"].format(n=0), 8 - n,
                                         original))
    ids["repost of fresh"] = [posts.add("delta", fresh_text.format(n=0), 3,
                                        db_vector(db, ids["fresh"][0]))]
    posts.add("alpha", "Без вектора 1", 4, None)
    posts.add("bravo", "Без вектора 2", 4, None)
    posts.add("alpha", TEXTS["fresh"].format(n=9), 2, posts.vector("fresh"), stance="neutral")
    ids["earlier"] = [posts.add("bravo", TEXTS["ongoing"].format(n=8), 24 * 5,
                                posts.vector("ongoing"), stance="supportive"),
                      posts.add("alpha", "Старое", 24 * 20, posts.vector("fresh"))]
    return ids


def db_vector(db: sqlite_utils.Database, item_id: int) -> np.ndarray:
    blob = db.execute("SELECT vector FROM post_vectors WHERE item_id = ?",
                      [item_id]).fetchone()[0]
    return np.frombuffer(blob, dtype=np.int8).astype(np.float32)


def _compose(db: sqlite_utils.Database, settings: Settings) -> StorylineReport:
    report = compose_storylines(db, settings, SINCE, NOW, "m")
    assert report is not None
    return report


def test_a_fresh_multichannel_cluster_is_new_and_a_continued_one_is_not(
        db: sqlite_utils.Database, story_settings: Settings) -> None:
    ids = _seed(db)
    report = _compose(db, story_settings)
    fresh, ongoing = report.storylines
    assert fresh.new and not ongoing.new
    assert fresh.item_ids == sorted(ids["fresh"] + ids["repost of fresh"])
    assert (fresh.posts, fresh.copies) == (5, 1)
    assert fresh.channels == ["alpha", "bravo", "charlie"]  # delta only reposted
    assert fresh.central.item_id in ids["fresh"]
    assert "изымать" in fresh.lemmas and "снаряд" in ongoing.lemmas
    assert fresh.nearest_earlier is not None and fresh.nearest_earlier < 0.8  # 20 days: too old
    assert ongoing.nearest_earlier is not None and ongoing.nearest_earlier >= 0.8
    assert sorted(ongoing.item_ids) == ids["ongoing"]
    assert [story.item_ids for story in report.new] == [fresh.item_ids]


def test_one_channel_alone_or_one_post_with_its_reposts_is_no_storyline(
        db: sqlite_utils.Database, story_settings: Settings) -> None:
    ids = _seed(db)
    found = {item for storyline in _compose(db, story_settings).storylines
             for item in storyline.item_ids}
    assert not found & set(ids["lonely"] + ids["reposted"])
    one_channel = story_settings.model_copy(update={"storyline_min_channels": 1})
    lonely = {item for storyline in _compose(db, one_channel).storylines
              for item in storyline.item_ids}
    assert set(ids["lonely"]) <= lonely  # the channel rule, not the clustering, left it out
    assert not lonely & set(ids["reposted"])


def test_posts_without_a_vector_are_counted_and_skipped(
        db: sqlite_utils.Database, story_settings: Settings) -> None:
    _seed(db)
    report = _compose(db, story_settings)
    assert (report.critical_posts, report.without_vector) == (19, 2)
    section = render_storylines(report, 3, "24h")
    assert "2 critical posts without a search vector left out" in section


def test_a_wider_novelty_window_finds_the_old_neighbour(
        db: sqlite_utils.Database, story_settings: Settings) -> None:
    _seed(db)
    month = story_settings.model_copy(update={"storyline_novelty_days": 30})
    assert _compose(db, month).new == []
    assert "2 other storylines of the last 24h continue from the previous 30 days" in \
        render_storylines(_compose(db, month), 3, "24h")


def test_hostile_post_text_is_escaped_in_the_section(
        db: sqlite_utils.Database, story_settings: Settings) -> None:
    _seed(db, fresh_text="<b>Старлинки</b> & <a href='x'>изъятие</a> у штурмовиков {n}")
    digest = compose_digest(db, story_settings, load_themes(DEFAULT_THEMES_FILE), SINCE, NOW,
                            model_version="m")
    html = render_digest(digest)
    section = html[html.index("<b>New storylines"):]
    assert "«<i>&lt;b&gt;Старлинки&lt;/b&gt; &amp; &lt;a href='x'&gt;изъятие&lt;/a&gt;" in section
    assert "<a href='x'>" not in html
    assert "<b>href · изъятие · старлинк · штурмовик</b>" in section  # escaped as well
    text = render_text(digest)
    assert "New storylines (critical posts, unlike the previous 14 days')" in text
    assert "5 posts (1 of them reposts) from 3 channels (alpha, bravo, charlie)" in text


def test_a_storyline_is_named_by_the_words_that_set_it_apart() -> None:
    from digest.storyline_names import distinctive_lemmas

    groups = [["Генералы изымают старлинки у штурмовиков", "Старлинки изъяли, генералы молчат"],
              ["Генералы опять без снарядов", "Снарядов нет, генералы врут"]]
    rest = ["Генералы докладывают об успехах", "Который день генералы молчат"]
    starlink, shells = distinctive_lemmas(groups, rest, 2)
    assert starlink[0] == "старлинк" and shells[0] == "снаряд"  # "генерал" is in every class
    assert "который" not in distinctive_lemmas([rest], [], 5)[0]  # pronoun-like: never a name
