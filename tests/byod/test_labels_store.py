"""store.labels: the store side of /label (checked words in, labels with item text out)."""

from __future__ import annotations

import pytest
import sqlite_utils

from config import FeedConfig
from store.feeds import add_feed
from store.items import save_items
from store.labels import LabelError, add_label, item_id_for_url, labelled_items
from store.models import Item

THEMES = ["mod_criticism", "supply_shortage"]


def one_item(db: sqlite_utils.Database) -> int:
    feed = add_feed(db, FeedConfig(name="sample", kind="telegram", role="blogger",
                                   channel="sample_channel"))
    save_items(db, feed.id, [Item(text="SAMPLE POST about shells", channel="sample_channel",
                                  post_id=7, url="https://t.me/sample_channel/7")])
    return int(db.execute("SELECT id FROM items").fetchone()[0])


def test_add_label_normalises_and_joins_the_item(db: sqlite_utils.Database) -> None:
    item_id = one_item(db)
    first = add_label(db, item_id, 42, " Critical ", chat_id=-100, model_version="m1",
                      theme_names=THEMES)
    second = add_label(db, item_id, 42, "theme:Supply_Shortage", theme_names=THEMES)
    third = add_label(db, item_id, 43, "wrong", model_version="m1")
    assert (first.label, first.kind, first.text, first.feed) == (
        "critical", "stance", "SAMPLE POST about shells", "sample")
    assert (second.label, second.kind, second.theme) == ("theme:supply_shortage", "theme",
                                                         "supply_shortage")
    assert third.kind == "wrong"
    assert third.model_version == "m1"
    assert [label.id for label in labelled_items(db)] == [first.id, second.id, third.id]


def test_bad_labels_say_what_is_accepted(db: sqlite_utils.Database) -> None:
    item_id = one_item(db)
    with pytest.raises(LabelError, match="use supportive, critical, alarmed, neutral"):
        add_label(db, item_id, 1, "angry")
    with pytest.raises(LabelError, match="unknown theme 'weather'; use one of: mod_criticism"):
        add_label(db, item_id, 1, "theme:weather", theme_names=THEMES)
    with pytest.raises(LabelError, match="no stored item with id 999"):
        add_label(db, 999, 1, "critical")
    assert labelled_items(db) == []


def test_item_for_a_quoted_permalink(db: sqlite_utils.Database) -> None:
    item_id = one_item(db)
    assert item_id_for_url(db, "https://t.me/sample_channel/7") == item_id
    assert item_id_for_url(db, "https://t.me/sample_channel/8") is None
