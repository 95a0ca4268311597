"""`twinbench report` and `twinbench summary` through the real entry point."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twinbench.cli import main

RECORDED = Path(__file__).parent / "data" / "smoke-2targets"


def test_report_writes_the_file_and_prints_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(RECORDED), "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert capsys.readouterr().out.startswith(f"{out} (")


def test_report_latest_uses_newest_results_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "results").mkdir()
    os.symlink(RECORDED.resolve(), tmp_path / "results" / "20990101T000000Z-ffff")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--latest"]) == 0
    assert (tmp_path / "reports" / "latest.html").exists()
    assert "reports/latest.html" in capsys.readouterr().out


def test_report_without_folder_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "-o", "/tmp/never.html"]) == 2
    assert "give a results folder" in capsys.readouterr().err


def test_summary_prints_headline_and_invalid_cells(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(RECORDED)]) == 0
    out = capsys.readouterr().out
    assert "20261122T131223Z-d801" in out
    assert "json: no valid cells" in out
    assert "load-generator-bound" in out  # invalid cells listed with their reason
