"""Reading analysts' files: BOM, quoted multi-line cells, broken rows, JSON Lines, encodings."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from riftwatch.byod.readers import BadRow, ReadError, read_records


def read(path: Path, **options: object) -> tuple[list, list[BadRow]]:
    bad: list[BadRow] = []
    records = list(read_records(path, on_bad=bad.append, **options))  # type: ignore[arg-type]
    return records, bad


def test_csv_with_bom_multiline_cells_and_broken_rows(byod_data: Path) -> None:
    records, bad = read(byod_data / "posts_bom.csv")
    assert [r.fields["post_id"] for r in records] == ["101", "102", "106", "107"]
    assert list(records[0].fields) == ["post_id", "channel", "message", "note"]  # BOM stripped
    assert records[1].text.startswith("SAMPLE POST on two lines.\nOur units")
    assert records[2].text.count("\n") == 2
    assert '"with a gym"' in records[2].text
    assert [r.line for r in records] == [2, 3, 8, 11]
    assert [(b.line, b.reason.split(" (")[0]) for b in bad] == [
        (5, "broken quoting"), (6, "not valid UTF-8"), (7, "empty text")]


def test_an_unclosed_quote_costs_one_row_not_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "unclosed.csv"
    path.write_text('id,text\n1,"never closed\n2,second\n3,"third, quoted"\n', encoding="utf-8")
    records, bad = read(path)
    assert [r.fields["id"] for r in records] == ["2", "3"]
    assert [b.line for b in bad] == [2]


def test_wrong_field_count_and_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("text;label\nfirst sample;1\nsecond; sample;0\nthird sample;0\n",
                    encoding="utf-8")
    records, bad = read(path)
    assert [r.text for r in records] == ["first sample", "third sample"]
    assert str(bad[0]) == "line 3: 3 fields where the header has 2"


@pytest.mark.parametrize(("header", "delimiter"), [
    ("id,text", ","), ("id;text", ";"), ("id\ttext", "\t"), ("id|text", "|"), ("text", ","),
])
def test_the_delimiter_is_read_from_the_header(tmp_path: Path, header: str,
                                               delimiter: str) -> None:
    path = tmp_path / "posts.csv"
    row = "first sample" if header == "text" else delimiter.join(["1", "first sample"])
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    records, bad = read(path)
    assert ([r.text for r in records], bad) == (["first sample"], [])


@pytest.fixture
def csv_default_field_limit() -> Iterator[None]:
    """csv's stock field limit (128 KiB) during the test, whatever another module set."""
    before = csv.field_size_limit(128 * 1024)
    yield
    csv.field_size_limit(before)


@pytest.mark.usefixtures("csv_default_field_limit")
def test_a_field_as_long_as_the_record_cap_allows_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    text = "SAMPLE " + "x" * 300_000
    path.write_text(f'id,text\n1,"{text}"\n', encoding="utf-8")
    records, bad = read(path)
    assert ([r.text for r in records], bad) == ([text], [])
    assert csv.field_size_limit() == 1_000_000  # the max_record_chars default, not unbounded


def test_jsonl_reports_each_bad_line(byod_data: Path) -> None:
    records, bad = read(byod_data / "posts.jsonl")
    assert [r.fields["id"] for r in records] == ["j1", "j2", "j6"]
    assert records[0].fields["meta"] == {"source": "sample"}
    assert [b.line for b in bad] == [3, 4, 6, 7]
    assert "not valid JSON" in bad[0].reason
    assert "list, not an object" in bad[1].reason
    assert bad[2].reason == "empty text"
    assert bad[3].reason == "no 'text' field"


def test_explicit_text_column_and_helpful_errors(byod_data: Path, tmp_path: Path) -> None:
    records, _ = read(byod_data / "posts_bom.csv", text_column="note")
    assert records[0].text == "first"
    with pytest.raises(ReadError, match="no column 'missing'; the file has: post_id, channel"):
        read(byod_data / "posts_bom.csv", text_column="missing")
    no_text = tmp_path / "numbers.csv"
    no_text.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ReadError, match="pass --text-column"):
        read(no_text)
    with pytest.raises(ReadError, match="no such file"):
        read(tmp_path / "absent.csv")


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("message,label\nSAMPLE Кириллица,yes\n", encoding="utf-16")
    records, bad = read(path)
    assert [r.text for r in records] == ["SAMPLE Кириллица"]
    assert bad == []
