"""The progress display: live on a terminal, one line per scenario otherwise."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from runner_factories import cell_config, cell_result

from twinbench.run.progress import RunProgress


def test_live_display_shows_cell_counts_and_time() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120)
    with RunProgress(4, console=console) as p:
        p.note("json: json.fastapi-uvicorn.l1.r1", remaining_s=125)
        p.cell(cell_result(cell_config()))
    text = buf.getvalue()
    assert "json.fastapi-uvicorn.l1.r1" in text and "1/4" in text
    assert "elapsed 0:00" in text and "2:05 left" in text


def test_plain_lines_without_terminal(capsys: pytest.CaptureFixture) -> None:
    with RunProgress(2, console=Console(file=io.StringIO())) as p:
        p.cell(cell_result(cell_config()))
        p.scenario_done("json")
    err = capsys.readouterr().err
    assert "json done; 1/2 cells (1 ok)" in err
