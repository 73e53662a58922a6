"""`riftwatch score` and `riftwatch eval --data` end to end with the real packaged model."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from config import FeedConfig, Settings
from config.themes import STANCE_NAMES
from riftwatch.byod.columns import score_columns
from riftwatch.byod.evaluate_file import evaluate_predictions, read_label
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, utc_now

REPO = Path(__file__).resolve().parent.parent.parent
SPELLINGS = ["label_num", "label_word", "label_caps", "label_yesno"]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_nothing_readable_is_one_line_and_no_model_load(
    settings: Settings, tmp_path: Path, run_cli
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text('message,id\n"",1\n"   ",2\n', encoding="utf-8")
    code, out, err = run_cli("score", bad, "--out", tmp_path / "out.csv")
    assert code == 1
    assert out == ""
    assert err.splitlines()[-1] == (f"riftwatch: nothing to score in {bad}: 2 bad rows, the "
                                    "first line 2: empty text")
    assert not (tmp_path / "out.csv").exists()
    code, _, err = run_cli("score", tmp_path / "absent.jsonl")
    assert code == 1
    assert "no such file" in err


@pytest.mark.slow
def test_score_csv_with_bom_and_broken_rows(model_env, byod_data: Path, tmp_path: Path,
                                           run_cli) -> None:
    out = tmp_path / "scored.csv"
    code, stdout, err = run_cli("score", byod_data / "posts_bom.csv", "--out", out)
    assert code == 0, err
    assert "scored 4 rows" in stdout
    assert "posts/s" in stdout
    assert "skipped 3 bad rows" in stdout
    source = byod_data / "posts_bom.csv"
    assert f"skipped {source}:line 5: broken quoting" in err
    assert f"skipped {source}:line 6: not valid UTF-8" in err
    assert f"skipped {source}:line 7: empty text" in err
    rows = read_csv(out)
    assert [row["post_id"] for row in rows] == ["101", "102", "106", "107"]
    assert list(rows[0]) == ["post_id", "channel", "message", "note"] + score_columns(
        [name[len("theme_"):] for name in rows[0] if name.startswith("theme_")])
    assert rows[1]["message"].startswith("SAMPLE POST on two lines.\nOur units")
    for row in rows:
        probabilities = {stance: float(row[f"p_{stance}"]) for stance in STANCE_NAMES}
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-3)
        assert row["stance"] == max(probabilities, key=probabilities.__getitem__)
        assert row["language"] == "en"
        assert row["evidence"]
        assert row["model_version"]
        assert isinstance(json.loads(row["targets"]), list)


@pytest.mark.slow
def test_score_jsonl_keeps_nested_fields(model_env, byod_data: Path, tmp_path: Path,
                                        run_cli) -> None:
    out = tmp_path / "scored.jsonl"
    code, _, err = run_cli("score", byod_data / "posts.jsonl", "--out", out)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["j1", "j2", "j6"]
    assert rows[0]["meta"] == {"source": "sample"}
    assert rows[0]["stance"] in STANCE_NAMES
    assert 0.0 <= rows[0]["theme_supply_shortage"] <= 1.0


@pytest.mark.slow
def test_eval_data_agrees_with_the_scored_file_for_every_spelling(
    model_env, byod_data: Path, tmp_path: Path, run_cli
) -> None:
    """The numbers eval prints are the confusion of score's own predictions with the labels."""
    tiny = byod_data / "labelled_tiny.csv"
    assert run_cli("score", tiny, "--out", tmp_path / "tiny.csv")[0] == 0
    scored = read_csv(tmp_path / "tiny.csv")
    assert "input_stance" in scored[0]  # the file's own stance column is kept, renamed
    predicted = ["yes" if row["stance"] == "critical" or float(row["theme_wagner_vs_army"]) >= 0.5
                 else "no" for row in scored]
    for column in SPELLINGS:
        gold = [read_label(row[column], "yes/no")[1] for row in scored]
        expected = evaluate_predictions(gold, predicted, "yes/no")
        code, out, err = run_cli("eval", "--data", tiny, "--label-column", column, "--positive",
                                 "critical|theme:wagner_vs_army", "--format", "json")
        assert code == 0, err
        report = json.loads(out)
        assert (report["rows"], report["task"], report["positive"]) == (
            10, "yes/no", "critical|theme:wagner_vs_army")
        assert report["metrics"]["confusion"] == expected.confusion
        assert report["metrics"]["macro_f1"] == pytest.approx(expected.macro_f1)
        assert report["metrics"]["per_class"]["yes"]["support"] == 5
    code, _, err = run_cli("eval", "--data", tiny, "--label-column", "input_stance")
    assert code == 1
    assert "no label column 'input_stance'" in err  # only the scored file has it
    code, out, _ = run_cli("eval", "--data", tmp_path / "tiny.csv", "--label-column",
                           "input_stance")
    assert code == 0
    assert "supportive" in out
    assert "macro-F1" in out  # stance names: 4 classes


@pytest.mark.slow
def test_export_then_score_keeps_every_id(
    model_env, db: sqlite_utils.Database, db_path: Path, tmp_path: Path, run_cli
) -> None:
    feed = add_feed(db, FeedConfig(name="sample_blogger", kind="telegram", role="blogger",
                                   channel="sample_blogger"))
    texts = ["SAMPLE POST. Shells are short again.", "SAMPLE POST. Quiet day, \"calm\", rain.",
             "SAMPLE POST,\nwith a comma and a second line.", "SAMPLE POST. Ура, наши идут!"]
    save_items(db, feed.id, [Item(text=text, channel="sample_blogger", post_id=n,
                                  published_at=utc_now()) for n, text in enumerate(texts)])
    exported = tmp_path / "export.csv"
    assert run_cli("export", "--since", "1d", "--out", exported, "--db", db_path)[0] == 0
    code, _, err = run_cli("score", exported, "--out", tmp_path / "scored.jsonl")
    assert code == 0, err
    scored = [json.loads(line) for line in (tmp_path / "scored.jsonl").read_text().splitlines()]
    stored = [str(row[0]) for row in db.execute("SELECT id FROM items ORDER BY published_at, id")]
    assert [row["id"] for row in scored] == stored
    assert [row["text"] for row in scored] == texts


def test_score_streams_a_large_file_in_flat_memory(tmp_path: Path) -> None:
    """A 60 MB file (every row skipped: no model needed) read by the real command in a fresh
    process peaks within a few MB of a tiny one: rows are never all held in memory."""
    row = "," + "x" * 1000 + "\n"
    tiny, large = tmp_path / "tiny.csv", tmp_path / "large.csv"
    tiny.write_text("message,filler\n" + row * 10, encoding="utf-8")
    with large.open("w", encoding="utf-8") as handle:
        handle.write("message,filler\n")
        for _ in range(60):
            handle.write(row * 1000)
    script = ("import resource, sys; from riftwatch.cli.main import main; "
              "code = main(sys.argv[1:]); "
              "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr);"
              " sys.exit(code)")

    def peak_kb(path: Path) -> int:
        done = subprocess.run([sys.executable, "-c", script, "score", str(path), "--out",
                               str(tmp_path / "out.csv")], capture_output=True, text=True,
                              cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                              timeout=120)
        assert done.returncode == 1
        assert "nothing to score" in done.stderr
        return int(done.stderr.split("peak ")[-1].split()[0])

    assert large.stat().st_size > 60_000_000
    assert peak_kb(large) - peak_kb(tiny) < 20_000


@pytest.mark.slow
def test_eval_labels_reports_the_model_against_stored_feedback(
    model_env, db: sqlite_utils.Database, db_path: Path, run_cli
) -> None:
    from store.labels import add_label

    feed = add_feed(db, FeedConfig(name="sample_blogger", kind="telegram", role="blogger",
                                   channel="sample_blogger"))
    texts = ["SAMPLE POST. The ministry failed us again, the generals must answer.",
             "SAMPLE POST. Glory to our heroes, the artillery works perfectly!",
             "SAMPLE POST. The weather is cold this week."]
    save_items(db, feed.id, [Item(text=text, channel="sample_blogger", post_id=n)
                             for n, text in enumerate(texts)])
    ids = [row[0] for row in db.execute("SELECT id FROM items ORDER BY post_id")]
    add_label(db, ids[0], 7, "supportive")
    add_label(db, ids[0], 8, "critical")  # the latest stance label for an item wins
    add_label(db, ids[1], 7, "supportive")
    add_label(db, ids[2], 7, "theme:supply_shortage")
    add_label(db, ids[2], 7, "wrong", model_version="older-model")

    code, out, err = run_cli("eval", "--labels", "--format", "json", "--db", db_path)
    assert code == 0, err
    report = json.loads(out)
    assert (report["source"], report["task"], report["rows"]) == (
        "stored /label feedback", "stance", 2)
    assert report["metrics"]["per_class"]["critical"]["support"] == 1
    assert report["metrics"]["per_class"]["supportive"]["support"] == 1
    assert report["notes"][0].endswith("of 1 posts")
    assert report["notes"][1] == "'wrong' labels: 1 (on scores of older-model)"
    code, out, _ = run_cli("eval", "--labels", "--db", db_path)
    assert code == 0
    assert "stored /label feedback: 2 labelled rows" in out


def test_eval_labels_with_none_stored_says_how_to_add_them(
    model_env, db_path: Path, run_cli
) -> None:
    code, _, err = run_cli("eval", "--labels", "--db", db_path)
    assert code == 1
    assert "no stance labels stored yet" in err
    assert "/label" in err
