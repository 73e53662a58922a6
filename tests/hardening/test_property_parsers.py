"""Property-based: the CLI's user-facing parsers on random and hostile input (issue 13).

``--since``, the CSV and JSONL readers (``riftwatch score``), Telegram exports (``riftwatch
import telegram-export``) and OPML (``riftwatch feeds import-opml``), each through the real
CLI on real files: the exit is 0, or 1/2 with exactly one line on stderr (a RiftwatchError,
never a traceback), and a failed command leaves nothing stored or written half-way.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import Settings, load_feeds
from riftwatch.cli.main import main
from store.db import open_db

# Modest counts keep the suite fast; the settings fixture's environment serves every example.
PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

HOSTILE_TEXT = st.sampled_from([
    "", " ", "\x00", "\r\n", "\n", '"', '"""', "=cmd|' /C calc'!A0", "\ufeff", "\ud800",
    "9" * 30, "-1", "1e400", "NaN", "{", "[", "]" * 50, "[" * 2000, "\\", "é", "Ж" * 50,
    "\u202e", "<", "&", "x" * 5000,
])
TEXT = st.one_of(st.text(max_size=200), HOSTILE_TEXT)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80),
                        max_value=2**80), st.floats(allow_nan=False), TEXT)
JSON = st.recursive(JSON_SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _cli(*argv: object) -> tuple[int, str]:
    """``main`` on these arguments: its exit status and its stderr."""
    err = StringIO()
    with redirect_stdout(StringIO()), redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, err.getvalue()


def _assert_clean(code: int, err: str) -> None:
    if code == 0:
        return
    assert code in (1, 2), (code, err)
    assert "Traceback" not in err
    # `score` reports each skipped row on its own line above; the failure itself is one line
    failure = [line for line in err.splitlines() if not line.startswith("skipped ")]
    assert len(failure) == 1, err
    assert failure[0].startswith("riftwatch: "), err


def _count(db_path: Path, table: str) -> int:
    if not db_path.exists():
        return 0
    return sqlite_utils.Database(db_path).table(table).count


# ---- --since --------------------------------------------------------------------------------

WINDOWS = st.one_of(TEXT, st.from_regex(r"\A\s*[0-9]{1,25}\s*[mhdwMHDWy]?\s*\Z"))


@PROPERTY
@given(since=WINDOWS)
def test_since_is_a_window_or_one_line(settings: Settings, since: str) -> None:
    with _workdir() as work:
        code, err = _cli("digest", f"--since={since}", "--db", work / "r.db")
    _assert_clean(code, err)


# ---- CSV and JSON Lines ------------------------------------------------------------------------

CSV_CELLS = st.lists(st.lists(TEXT, min_size=1, max_size=4), min_size=0, max_size=6)


def _csv_body(rows: list[list[str]], header: str) -> str:
    """Every other cell quoted, whatever it holds (quotes and line breaks included)."""
    lines = [header] + [",".join(f'"{cell}"' if i % 2 else cell for i, cell in enumerate(row))
                        for row in rows]
    return "\n".join(lines)


@PROPERTY
@given(rows=CSV_CELLS, header=st.sampled_from(["id,message", "message", "a;b;text", "", "x"]),
       raw=st.binary(max_size=300), use_raw=st.booleans(), suffix=st.sampled_from([".csv",
                                                                                    ".jsonl"]))
def test_score_reads_any_file_or_says_why_in_one_line(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, rows: list[list[str]],
        header: str, raw: bytes, use_raw: bool, suffix: str) -> None:
    with _workdir() as work:
        monkeypatch.setenv("RIFTWATCH_MODEL", str(work / "no-model"))  # reaching it: exit 2
        source = work / f"in{suffix}"
        if use_raw:
            source.write_bytes(raw)
        elif suffix == ".jsonl":
            source.write_text("\n".join(json.dumps({"text": cell}) if i % 3 else cell
                                        for i, cell in enumerate(sum(rows, []))),
                              encoding="utf-8", errors="surrogatepass")
        else:
            source.write_text(_csv_body(rows, header), encoding="utf-8", errors="surrogatepass")
        out = work / f"out{suffix}"
        code, err = _cli("score", source, "--out", out)
        _assert_clean(code, err)
        assert not out.exists()
        assert not list(work.glob(".out*"))  # nothing written half-way


# ---- Telegram Desktop exports -------------------------------------------------------------------

MESSAGE = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(min_value=-5, max_value=2**70), JSON_SCALAR)},
    optional={"type": st.sampled_from(["message", "service", "x"]),
              "date": st.one_of(st.sampled_from(["2026-11-20T10:00:00", "yesterday"]), TEXT),
              "date_unixtime": st.one_of(st.sampled_from(["1763632800", "9" * 30]), JSON_SCALAR),
              "text": JSON, "author": JSON, "forwarded_from": JSON, "photo": JSON})
EXPORT = st.one_of(
    JSON,
    st.fixed_dictionaries({"messages": st.lists(st.one_of(MESSAGE, JSON), max_size=5)},
                          optional={"name": JSON, "type": JSON, "id": JSON, "username": JSON}))


@PROPERTY
@given(export=EXPORT)
def test_import_reads_any_export_or_stores_nothing(settings: Settings, export: object) -> None:
    with _workdir() as work:
        path, db_path = work / "result.json", work / "r.db"
        path.write_text(json.dumps(export), encoding="utf-8", errors="surrogatepass")
        code, err = _cli("import", "telegram-export", path, "--db", db_path)
        _assert_clean(code, err)
        if code != 0:  # only the configured feeds, no items: the import stored nothing
            assert _count(db_path, "items") == 0
            assert _count(db_path, "feeds") in (0, len(load_feeds(settings.feeds_file)))


# ---- OPML ---------------------------------------------------------------------------------------

OUTLINE_URL = st.one_of(st.sampled_from(["https://wire.example/rss", "ftp://x/y", "http://",
                                         "javascript:alert(1)", "http://127.0.0.1/x"]), TEXT)


def _opml(outlines: list[tuple[str, str]], broken: bool) -> str:
    from xml.sax.saxutils import quoteattr

    body = "".join(f"<outline text={quoteattr(title)} xmlUrl={quoteattr(url)}/>"
                   for title, url in outlines)
    document = f'<?xml version="1.0"?><opml version="2.0"><head/><body>{body}</body></opml>'
    return document[: len(document) // 2] if broken else document


@PROPERTY
@given(outlines=st.lists(st.tuples(TEXT, OUTLINE_URL), max_size=5), broken=st.booleans(),
       raw=st.one_of(st.none(), TEXT))
def test_import_opml_fails_only_having_added_nothing(
        settings: Settings, outlines: list[tuple[str, str]], broken: bool,
        raw: str | None) -> None:
    with _workdir() as work:
        path, db_path = work / "feeds.opml", work / "r.db"
        text = raw if raw is not None else _opml(
            [(title.replace("\x00", ""), url) for title, url in outlines], broken)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        before = len(open_db(db_path).execute("SELECT 1 FROM feeds").fetchall())
        code, err = _cli("feeds", "import-opml", path, "--db", db_path)
        _assert_clean(code, err)
        if code != 0:  # no feed of the file; the feeds file's own may have been synced
            assert _count(db_path, "feeds") in (before, len(load_feeds(settings.feeds_file)))
