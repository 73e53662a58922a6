"""The issue 12 cases through the real `riftwatch score` CLI and the packaged model: Ukrainian
is `uk`, Bulgarian neither `ru` nor `uk`, evidence keeps the whole sentence with its initials,
and a general not on the target list comes back as an unlisted target."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


@pytest.mark.slow
def test_score_issue12_cases(model_env, byod_data: Path, tmp_path: Path, run_cli) -> None:
    out = tmp_path / "scored.csv"
    code, _, err = run_cli("score", byod_data / "issue12_cases.csv", "--out", out)
    assert code == 0, err
    with out.open(encoding="utf-8", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert rows["uk"]["language"] == "uk"
    assert rows["bg"]["language"] not in ("ru", "uk")
    assert rows["initials"]["evidence"] == ("А. Н. Петров ответил, что Минобороны врёт и "
                                            "скрывает потери.")
    assert rows["general"]["stance"] == "critical"
    assert "unlisted:Лапин" in json.loads(rows["general"]["targets"])
