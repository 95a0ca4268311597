"""The report of the recorded runs keeps its content: every section's text (numbers,
verdicts, cell statuses and reasons) and every chart equal to the snapshot recorded before
the package was reorganised (tests/report_snapshot.py, tests/data/report-content.json).

A change that is meant to alter the report re-records the snapshot in the same commit
(`python tests/report_snapshot.py tests/data/report-content.json`) and says why; sections
the report gains later are not in the snapshot and so not compared."""

from __future__ import annotations

import json

import pytest
from report_snapshot import SNAPSHOT, snapshot

from twinbench.report.build import write_report


@pytest.fixture(scope="module")
def now() -> dict[str, object]:
    return snapshot(lambda dirs, out: write_report(dirs, out))


@pytest.mark.parametrize("report", ["sqlite", "postgres", "pair"])
def test_report_content_is_unchanged(now: dict[str, dict[str, object]], report: str) -> None:
    before = json.loads(SNAPSHOT.read_text(encoding="utf-8"))[report]
    assert set(before) <= set(now[report])
    for section, text in before.items():
        assert now[report][section] == text, f"{report}: section {section} changed"
