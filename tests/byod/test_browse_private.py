"""`riftwatch browse` keeps subscribers' chat ids and labellers' user ids closed by default
(issue 13.7): their tables and arbitrary SQL are refused; labels stay readable without ids."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from config import Settings, load_themes
from riftwatch.byod.browse import PRIVATE_TABLES, make_datasette
from store.models import to_iso, utc_now

from .test_export_browse import seed_store

SUBSCRIBER_CHAT = 918273645
LABELLER = 564738291


def _seed_people(db: sqlite_utils.Database) -> None:
    seed_store(db)
    now = to_iso(utc_now())
    db["subscribers"].insert({"chat_id": SUBSCRIBER_CHAT, "chat_type": "private",
                              "mode": "daily", "created_at": now, "updated_at": now})
    item_id = db.execute("SELECT min(id) FROM items").fetchone()[0]
    db["labels"].insert({"item_id": item_id, "user_id": LABELLER, "chat_id": SUBSCRIBER_CHAT,
                         "label": "critical", "model_version": "sample-model",
                         "created_at": now})


async def test_private_tables_and_sql_are_closed_by_default(
        settings: Settings, db: sqlite_utils.Database, db_path: Path) -> None:
    _seed_people(db)
    datasette = make_datasette(db_path, load_themes(settings.themes_file))
    await datasette.invoke_startup()
    name = db_path.stem
    for table in set(PRIVATE_TABLES) & set(db.table_names()):
        response = await datasette.client.get(f"/{name}/{table}.json")
        assert response.status_code == 403, table
    response = await datasette.client.get(
        f"/{name}.json?sql=select+chat_id+from+subscribers&_shape=array")
    assert response.status_code == 403
    labels = await datasette.client.get(f"/{name}/labels_without_ids.json?_shape=array")
    assert labels.status_code == 200
    assert labels.json()[0]["label"] == "critical"
    assert str(LABELLER) not in labels.text
    assert str(SUBSCRIBER_CHAT) not in labels.text
    assert (await datasette.client.get(f"/{name}/items.json?_size=1")).status_code == 200
    assert (await datasette.client.get(f"/{name}/theme_spikes.json")).status_code == 200


async def test_alert_claims_with_chat_ids_are_closed(
        settings: Settings, db: sqlite_utils.Database, db_path: Path) -> None:
    assert {"spike_alerts", "alert_claims"} <= set(PRIVATE_TABLES)
    db["alert_claims"].insert({"chat_id": SUBSCRIBER_CHAT, "kind": "spike",
                               "subject": "mod_criticism", "alerted_at": to_iso(utc_now())})
    datasette = make_datasette(db_path, load_themes(settings.themes_file))
    await datasette.invoke_startup()
    response = await datasette.client.get(f"/{db_path.stem}/alert_claims.json?_shape=array")
    assert response.status_code == 403
    assert str(SUBSCRIBER_CHAT) not in response.text


async def test_show_ids_opens_them(settings: Settings, db: sqlite_utils.Database,
                                   db_path: Path) -> None:
    _seed_people(db)
    datasette = make_datasette(db_path, load_themes(settings.themes_file), show_ids=True)
    await datasette.invoke_startup()
    response = await datasette.client.get(f"/{db_path.stem}/subscribers.json?_shape=array")
    assert response.status_code == 200
    assert response.json()[0]["chat_id"] == SUBSCRIBER_CHAT
