"""Stream rows out of an analyst's CSV or JSON Lines file, one record at a time, with line numbers.

Reads only: a bad row (broken quoting, wrong encoding, empty text) is reported and skipped;
a line, or a CSV record (a quoted field may span lines), longer than ``max_record_chars`` stops
the read (every line is read with a bounded read). Nothing here scores, stores or keeps the
whole file in memory.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from config.errors import RiftwatchError
from config.settings import Settings

FileFormat = Literal["csv", "jsonl"]
TEXT_COLUMN_GUESSES = ("message", "text", "content", "post", "body")
MAX_RECORD_CHARS: int = Settings.model_fields["max_record_chars"].default
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_DELIMITERS = (",", ";", "\t", "|")


class ReadError(RiftwatchError):
    """The file cannot be read at all (missing, empty, no text column): one line says why."""


class RecordTooLong(ReadError):
    """A line or record longer than the cap: the file and the line it starts on are named,
    nothing after it is read."""

    def __init__(self, path: Path, line: int, max_chars: int, what: str = "line") -> None:
        super().__init__(f"{path}:{line}: {what} longer than {max_chars} characters; split the "
                         "record or raise RIFTWATCH_MAX_RECORD_CHARS")


def bounded_lines(handle: IO[str], path: Path, max_chars: int) -> Iterator[str]:
    """The lines of a text handle, each read with a bounded ``readline``; a line longer than
    ``max_chars`` (its line break aside) raises ``RecordTooLong`` before it is held whole."""
    for number in itertools.count(1):
        line = handle.readline(max_chars + 2)
        if not line:
            return
        if len(line.rstrip("\r\n")) > max_chars:
            raise RecordTooLong(path, number, max_chars)
        yield line


@dataclass(frozen=True)
class Record:
    """One good row: where it starts in the file, all its fields, and its text."""

    line: int
    fields: dict[str, Any]
    text: str


@dataclass(frozen=True)
class BadRow:
    """A skipped row: the line it starts on and what was wrong with it."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


BadRowHandler = Callable[[BadRow], None]


def detect_format(path: Path) -> FileFormat:
    """``jsonl`` for .jsonl/.ndjson/.json, ``csv`` for .csv/.tsv, else sniff the first byte."""
    suffix = path.suffix.lower()
    if suffix in _JSONL_SUFFIXES:
        return "jsonl"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    with path.open("rb") as handle:
        head = handle.read(64).lstrip(codecs.BOM_UTF8).lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


def resolve_text_column(columns: list[str], wanted: str | None) -> str:
    """The column holding the post text: ``wanted`` if given, else the first usual name."""
    if wanted is not None:
        if wanted not in columns:
            raise ReadError(f"no column {wanted!r}; the file has: {', '.join(columns) or 'none'}")
        return wanted
    for guess in TEXT_COLUMN_GUESSES:
        if guess in columns:
            return guess
    raise ReadError(f"no text column ({', '.join(TEXT_COLUMN_GUESSES)}); the file has: "
                    f"{', '.join(columns) or 'none'}; pass --text-column NAME")


def read_records(
    path: Path, text_column: str | None = None, on_bad: BadRowHandler | None = None,
    file_format: FileFormat | None = None, max_record_chars: int = MAX_RECORD_CHARS,
) -> Iterator[Record]:
    """Yield every good row of a CSV or JSONL file in order; report bad ones to ``on_bad``.

    Raises ``ReadError`` (at the first step) when the file cannot be read at all, and
    ``RecordTooLong`` at a line, or a CSV record, longer than ``max_record_chars``.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    report = on_bad or (lambda bad: None)
    if (file_format or detect_format(path)) == "jsonl":
        return _jsonl_records(path, text_column, report, max_record_chars)
    return _csv_records(path, text_column, report, max_record_chars)


def _has_bad_bytes(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _text_problem(text: object) -> str | None:
    if not isinstance(text, str):
        return "text is missing" if text is None else f"text is a {type(text).__name__}"
    if not text.strip():
        return "empty text"
    return None


# ---- CSV -------------------------------------------------------------------------------------

_QUOTED_RECORD = "record (a quoted field across lines; an unclosed quote?)"


class _LineSource:
    """Physical lines for ``csv.reader``, remembering those of the current record.

    After a quoting error the lines the broken record swallowed are pushed back and read
    again, so one stray quote costs one row, not the rest of the file. A record longer than
    ``max_chars`` over all its lines raises ``RecordTooLong``: its inner lines are never read
    as rows of their own.
    """

    def __init__(self, lines: Iterator[str], path: Path, max_chars: int) -> None:
        self._lines = lines
        self._pending: deque[str] = deque()
        self.taken: list[str] = []
        self.line = 0
        self._record_line = 1
        self._chars = 0
        self._path = path
        self._max_chars = max_chars

    def __iter__(self) -> _LineSource:
        return self

    def __next__(self) -> str:
        text = self._pending.popleft() if self._pending else next(self._lines)
        self.line += 1
        self.taken.append(text)
        self._chars += len(text)
        last_break = len(text) - len(text.rstrip("\r\n"))  # not counted, as in bounded_lines
        if self._chars - last_break > self._max_chars:
            raise RecordTooLong(self._path, self._record_line, self._max_chars, _QUOTED_RECORD)
        return text

    def start_record(self) -> int:
        self.taken, self._chars = [], 0
        self._record_line = self.line + 1
        return self._record_line

    def push_back_after_first(self) -> None:
        rest = self.taken[1:]
        self._pending.extendleft(reversed(rest))
        self.line -= len(rest)


def _sniff_delimiter(header_line: str) -> str:
    """The header's delimiter, one of ``_DELIMITERS``; a comma when it has none (one column)."""
    try:
        return csv.Sniffer().sniff(header_line, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        return ","


def _allow_fields_up_to(max_chars: int) -> None:
    """Raise csv's field limit (one for the whole process) to the record cap, never lower it:
    a field is never longer than its record, which ``_LineSource`` already bounds."""
    if csv.field_size_limit() < max_chars:
        csv.field_size_limit(max_chars)


def _open_text(path: Path) -> IO[str]:
    with path.open("rb") as handle:
        head = handle.read(4)
    encoding = "utf-16" if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    return path.open(encoding=encoding, errors="surrogateescape", newline="")


def _csv_records(
    path: Path, text_column: str | None, report: BadRowHandler, max_chars: int
) -> Iterator[Record]:
    handle = _open_text(path)
    try:
        first = next(bounded_lines(handle, path, max_chars), "")
        if not first.strip():
            raise ReadError(f"{path}: empty file, or no header row")
        handle.seek(0)
        source = _LineSource(bounded_lines(handle, path, max_chars), path, max_chars)
        _allow_fields_up_to(max_chars)
        reader = csv.reader(source, delimiter=_sniff_delimiter(first), strict=True)
        header = [name.strip() for name in next(reader)]
        if any(_has_bad_bytes(name) for name in header):
            raise ReadError(f"{path}: the header row is not UTF-8; save the file as UTF-8")
        column = resolve_text_column(header, text_column)
        yield from _csv_rows(reader, source, header, column, report)
    finally:
        handle.close()


def _csv_rows(
    reader: Any, source: _LineSource, header: list[str], column: str, report: BadRowHandler
) -> Iterator[Record]:
    while True:
        line = source.start_record()
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report(BadRow(line, f"broken quoting ({exc})"))
            source.push_back_after_first()
            continue
        if not values:
            continue
        problem = _row_problem(values, header, column)
        if problem:
            report(BadRow(line, problem))
            continue
        fields = dict(zip(header, values, strict=True))
        yield Record(line, fields, fields[column])


def _row_problem(values: list[str], header: list[str], column: str) -> str | None:
    if len(values) != len(header):
        return f"{len(values)} fields where the header has {len(header)}"
    if any(_has_bad_bytes(value) for value in values):
        return "not valid UTF-8"
    return _text_problem(values[header.index(column)])


# ---- JSON Lines ------------------------------------------------------------------------------

def _jsonl_records(
    path: Path, text_column: str | None, report: BadRowHandler, max_chars: int
) -> Iterator[Record]:
    column = text_column
    seen_any = False
    # Lines end at \n only (as JSON Lines says); bytes that are not UTF-8 stay visible.
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="\n") as handle:
        for number, raw in enumerate(bounded_lines(handle, path, max_chars), start=1):
            if not raw.strip():
                continue
            seen_any = True
            fields, problem = _parse_json_line(raw)
            if fields is None:
                report(BadRow(number, problem or "not a JSON object"))
                continue
            if column is None:
                column = resolve_text_column(list(fields), None)
            problem = _text_problem(fields.get(column))
            if problem:
                report(BadRow(number, problem if column in fields else f"no {column!r} field"))
                continue
            yield Record(number, fields, fields[column])
    if not seen_any:
        raise ReadError(f"{path}: empty file")


def _parse_json_line(raw: str) -> tuple[dict[str, Any] | None, str | None]:
    if _has_bad_bytes(raw):
        return None, "not valid UTF-8"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    except (ValueError, RecursionError) as exc:  # a number of thousands of digits, deep nesting
        return None, f"not JSON riftwatch can read ({type(exc).__name__})"
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    return value, None
