"""Write rows to a CSV or JSON Lines file atomically: a temporary file beside it, then a rename.

A reader of the output never sees half a file; a CSV cell a spreadsheet would run as a formula
is written as text. This module never decides what the rows hold.
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

OutputFormat = Literal["csv", "jsonl"]
# A spreadsheet runs a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
            self._csv = csv.writer(handle, lineterminator="\n")
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            yield RowWriter(handle, file_format, columns)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
