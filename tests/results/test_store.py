"""The results directory: round trip, append-only crash safety, pandas readability."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from runner_factories import cell_config, cell_result, metric_row, run_info

from twinbench.errors import UsageError
from twinbench.results.model import CellStatus, RunSummary
from twinbench.results.store import (
    CellHistograms,
    ResultsWriter,
    load_histograms,
    load_run,
    new_run_id,
)


def _write(tmp_path: Path) -> tuple[ResultsWriter, list]:
    cfgs = [cell_config(f"json.fastapi-uvicorn.l1.r{i}", repeat=i) for i in (1, 2)]
    w = ResultsWriter(tmp_path)
    w.write_run(run_info(tuple(cfgs)))
    return w, cfgs


def test_round_trip(tmp_path: Path) -> None:
    w, cfgs = _write(tmp_path)
    res = cell_result(cfgs[0])
    w.write_cell(
        res,
        [metric_row(cfgs[0], "latency_p99", 1.25)],
        CellHistograms(res.cell_id, "T", {"/json": "H"}),
    )
    w.write_cell(
        cell_result(cfgs[1], CellStatus.INVALID, "load-generator-bound"),
        [metric_row(cfgs[1], "latency_p99", None, valid=False)],
        None,
    )
    assert not load_run(tmp_path).complete
    w.write_summary(RunSummary("r", "now", 1.0, "", {"ok": 1, "invalid": 1}, ()))
    run = load_run(tmp_path)
    assert run.complete
    assert run.run == run_info(tuple(cfgs))
    assert run.cells[0] == res
    assert run.cells[1].status is CellStatus.INVALID
    assert [m.value for m in run.metrics] == [1.25, None]
    assert run.metrics[0] == metric_row(cfgs[0], "latency_p99", 1.25)
    hists = load_histograms(tmp_path, res.cell_id)
    assert hists is not None and hists.requests == {"/json": "H"}
    assert load_histograms(tmp_path, cfgs[1].cell_id) is None
    df = pd.read_csv(tmp_path / "metrics.csv")
    assert list(df.value.isna()) == [False, True]
    assert df.valid.dtype == bool


def test_uncommitted_cell_and_torn_lines_ignored(tmp_path: Path) -> None:
    w, cfgs = _write(tmp_path)
    w.write_cell(cell_result(cfgs[0]), [metric_row(cfgs[0], "requests", 100)], None)
    # A crash after the metric rows of cell 2 but before its cells.jsonl line, mid-line.
    with (tmp_path / "metrics.csv").open("a") as fh:
        fh.write(",".join(["x", cfgs[1].cell_id]) + "\n")
    with (tmp_path / "cells.jsonl").open("a") as fh:
        fh.write(json.dumps({"cell_id": "half"})[:10])
    run = load_run(tmp_path)
    assert [c.cell_id for c in run.cells] == [cfgs[0].cell_id]
    assert [m.cell_id for m in run.metrics] == [cfgs[0].cell_id]


def test_refuses_existing_run_and_bad_folder(tmp_path: Path) -> None:
    _write(tmp_path)
    with pytest.raises(UsageError):
        ResultsWriter(tmp_path)
    with pytest.raises(UsageError, match="not a twinbench results folder"):
        load_run(tmp_path / "nothing")


def test_run_id_shape() -> None:
    rid = new_run_id(0)
    assert rid.startswith("19700101T000000Z-") and len(rid) == len("19700101T000000Z-abcd")
