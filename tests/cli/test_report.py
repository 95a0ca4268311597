"""`twinbench report` and `twinbench summary` through the real entry point."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from report_html import squash

from twinbench.analysis.derive import analyse
from twinbench.analysis.headline import headline
from twinbench.analysis.stats import format_interval
from twinbench.cli.app import main
from twinbench.cli.report import short_significance
from twinbench.report.build import load_with_histograms
from twinbench.report.render import num

RECORDED = Path(__file__).parents[1] / "data" / "quick-postgres"


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


def _summary(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")  # rich sizes its console from it: an 80-column terminal
    assert main(["summary", str(RECORDED)]) == 0
    return capsys.readouterr().out


def test_summary_prints_the_recorded_headline_numbers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each scenario's table: its rows carry the headline's numbers, recomputed from the
    results folder (headline.headline is checked against the raw files elsewhere)."""
    out = _summary(capsys, monkeypatch)
    results = load_with_histograms(RECORDED)
    assert results.run.run_id in out
    rows = headline(analyse(results))
    assert any(r.values for r in rows)
    for row in rows:
        if not row.values:
            assert f"{row.scenario}: no valid cells" in out or "no common valid load" in out
            continue
        block = out.split(f"{row.scenario} at ", 1)[1]
        assert f"Flask: {row.flask_target} ({row.flask_config})" in squash(block)
        if row.estimated:  # said in words under the table
            assert "Estimated, not measured" in squash(block.split("Flask:", 2)[1])
        for v in row.values:
            name = "est. capacity" if v.estimate else v.metric.label
            label = f"{name} ({v.metric.shown_unit})"
            line = next(line for line in block.splitlines() if line.strip().startswith(label))
            cells = line.split()[len(label.split()):]  # fmt: skip
            mark = "≈" if v.estimate else ""
            assert cells[0] == mark + num(v.flask), line
            assert cells[1] == mark + num(v.fastapi), line
            assert v.ci is not None and cells[2] == f"{v.ci.ratio:.2f}×", line
            assert " ".join(cells[4:]) == short_significance(v.ci), line
            if v.ci.has_interval:
                assert cells[3] == format_interval(v.ci.low, v.ci.high), line


def test_summary_fits_an_80_column_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables never wrap a cell (each figure is one line, significance included)."""
    out = _summary(capsys, monkeypatch)
    lines = out.splitlines()
    table_lines = [line for line in lines if re.match(r"^ (throughput|p50|p99|CPU|memory) ", line)]
    assert table_lines
    assert all(
        len(line.rstrip()) <= 80 for line in table_lines + [line for line in lines if "─" in line]
    )
    for line in table_lines:
        assert line.rstrip().endswith(("yes", "no sig. diff.", "too few reps", "–")), line


def test_summary_lists_capacities_and_invalid_cells(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _summary(capsys, monkeypatch)
    results = load_with_histograms(RECORDED)
    for cap in analyse(results).capacities:
        assert f"  {cap.target}: {cap.text}" in out
    for cell in results.cells:
        if not cell.valid:
            assert f"  {cell.cell_id}: {cell.status.value}: {cell.reason}" in out
