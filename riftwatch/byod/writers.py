"""Write riftwatch's output files atomically (a temporary file beside it, then a rename): rows
as CSV or JSON Lines, or bytes (JSON, GEXF, PNG).

A reader of the output never sees half a file. Every CSV riftwatch writes comes from
``RowWriter``: RFC 4180 (``\r\n`` line ends, so a cell holding a CR or LF is quoted and stays
one cell), and a cell a spreadsheet would run as a formula is written as text. An output path
in a missing folder, or naming a folder, is an ``OutputError``. This module never decides what
the rows hold.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal

from config.errors import RiftwatchError

OutputFormat = Literal["csv", "jsonl"]
# A spreadsheet runs a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# RFC 4180. With "\n" alone, Python before 3.12 leaves a cell holding a bare CR unquoted, and
# every reader then starts a new row inside it (where a formula can hide).
CSV_LINE_END = "\r\n"


class OutputError(RiftwatchError):
    """An output file cannot be written there: one line names the path and what to do."""


def output_format(path: Path, explicit: str | None = None) -> OutputFormat:
    """``explicit`` if given, else from the extension: .jsonl/.ndjson/.json → jsonl, else csv."""
    if explicit is not None:
        if explicit not in ("csv", "jsonl"):
            raise ValueError(f"unknown format {explicit!r}; use csv or jsonl")
        return explicit  # type: ignore[return-value]
    return "jsonl" if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} else "csv"


class NameList(tuple[str, ...]):
    """A list of names (the themes a post carries): ``;``-joined in a CSV cell, a list in JSON."""


class RowWriter:
    """Writes dict rows with a fixed column order (CSV) or as JSON objects (JSONL)."""

    def __init__(self, handle: IO[str], file_format: OutputFormat, columns: list[str]) -> None:
        self.columns = columns
        self.count = 0
        self._format = file_format
        self._handle = handle
        self._csv = None
        if file_format == "csv":
            self._csv = csv.writer(handle, lineterminator=CSV_LINE_END)
            self._csv.writerow(columns)

    def write(self, row: dict[str, Any]) -> None:
        if self._csv is not None:
            self._csv.writerow([_csv_cell(row.get(column)) for column in self.columns])
        else:
            self._handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        self.count += 1


def neutralise_formula(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula (also after
    leading whitespace, which some spreadsheets drop), else unchanged."""
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _csv_cell(value: Any) -> Any:
    if isinstance(value, NameList):
        return neutralise_formula(";".join(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return neutralise_formula(value)
    return "" if value is None else value


def check_output_path(path: Path) -> None:
    """``OutputError`` when ``path`` is a folder or its folder does not exist."""
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder; give a file name in it")
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: there is no folder {path.parent}; "
                          "create it first or choose another path")


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write {path} ({exc.strerror or exc}); choose another path")


@contextmanager
def _atomic_file(path: Path, mode: Literal["w", "wb"]) -> Iterator[IO[Any]]:
    """A handle on a temporary file beside ``path``, renamed to it when the block succeeds."""
    check_output_path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        handle: IO[Any] = temporary.open("w", encoding="utf-8", newline="") if mode == "w" \
            else temporary.open("wb")
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with handle:
            yield handle
            try:
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                raise _cannot_write(path, exc) from None
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def atomic_rows(
    path: Path | None, file_format: OutputFormat, columns: list[str]
) -> Iterator[RowWriter]:
    """A ``RowWriter`` on a temporary file renamed to ``path`` only when the block succeeds.

    ``path`` None writes to standard output (not atomic: a pipe has no rename).
    """
    if path is None:
        yield RowWriter(sys.stdout, file_format, columns)
        sys.stdout.flush()
        return
    with _atomic_file(Path(path), "w") as handle:
        yield RowWriter(handle, file_format, columns)


def write_output(path: Path | None, data: bytes) -> None:
    """``data`` written atomically to ``path``, or to standard output when ``path`` is None."""
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    with _atomic_file(Path(path), "wb") as handle:
        handle.write(data)
