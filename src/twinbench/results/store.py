"""The results directory: append-only, crash-safe writing, and `load_run` for reading it back
(older schemas upgraded on read by results.upgrade; the files themselves are never rewritten).

Layout and rules: docs/results-format.md. The `cells.jsonl` line is each cell's commit
point: it is written after the cell's histograms and metric rows, so a reader that keeps only
what a cells.jsonl line vouches for never sees half a cell.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinbench.errors import UsageError
from twinbench.results import upgrade
from twinbench.results.model import (
    SCHEMA_VERSION,
    CellResult,
    MetricRow,
    MicroResults,
    RunInfo,
    RunResults,
    RunSummary,
    from_json,
    to_json,
)

RUN_FILE = "run.json"
CELLS_FILE = "cells.jsonl"
METRICS_FILE = "metrics.csv"
COMPLETE_FILE = "complete.json"
MICRO_FILE = "micro.json"
HIST_DIR = "hist"
METRIC_COLUMNS = tuple(f.name for f in dataclasses.fields(MetricRow))


def new_run_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return f"{stamp}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class CellHistograms:
    cell_id: str
    total: str  # base64 HdrHistogram, values in µs
    requests: Mapping[str, str]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _csv_value(v: Any) -> Any:
    return "" if v is None else v


class ResultsWriter:
    """Writes one run's directory. Every method writes whole records; nothing is rewritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        check_out_dir(path)
        (path / HIST_DIR).mkdir(parents=True, exist_ok=True)


    def write_run(self, info: RunInfo) -> None:
        _atomic_write(self.path / RUN_FILE, json.dumps(to_json(info), indent=2) + "\n")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(METRIC_COLUMNS)
        _atomic_write(self.path / METRICS_FILE, buf.getvalue())

    def write_cell(
        self, result: CellResult, rows: Iterable[MetricRow], hists: CellHistograms | None
    ) -> None:
        if hists is not None:
            record = {
                "cell_id": hists.cell_id,
                "unit": "us",
                "total": hists.total,
                "requests": dict(hists.requests),
            }
            _atomic_write(self.path / HIST_DIR / f"{result.cell_id}.json", json.dumps(record))
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for row in rows:
            writer.writerow([_csv_value(to_json(getattr(row, c))) for c in METRIC_COLUMNS])
        if buf.getvalue():
            _append(self.path / METRICS_FILE, buf.getvalue())
        _append(self.path / CELLS_FILE, json.dumps(to_json(result)) + "\n")

    def write_micro(self, micro: MicroResults) -> None:
        _atomic_write(self.path / MICRO_FILE, json.dumps(to_json(micro), indent=2) + "\n")

    def write_summary(self, summary: RunSummary) -> None:
        _atomic_write(self.path / COMPLETE_FILE, json.dumps(to_json(summary), indent=2) + "\n")


def check_out_dir(path: Path) -> None:
    """A results folder can be made at `path` (and is, empty): else one line, exit 2.

    Called before anything starts, so a typo in --out never costs a run; the family it
    covers: a file where the folder should be, a folder under a file, no permission, a
    read-only or pseudo file system, a name too long, a folder already holding a run.
    """
    try:
        if (path / RUN_FILE).exists():
            raise UsageError(f"--out {path}: it already holds a run; choose a new folder")
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".{RUN_FILE}.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError:
        raise UsageError(f"--out {path}: it exists and is not a folder") from None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise UsageError(f"--out {path}: cannot create a results folder there ({why})") from None


# -- reading -------------------------------------------------------------------------------
def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a half-written last line after a crash: everything before it stands
    return records


def _opt_int(s: str) -> int | None:
    return None if s == "" else int(float(s))


def _opt_float(s: str) -> float | None:
    return None if s == "" else float(s)


def _metric_row(raw: Mapping[str, str]) -> MetricRow:
    return MetricRow(
        run_id=raw["run_id"],
        cell_id=raw["cell_id"],
        target=raw["target"],
        app=raw["app"],
        server=raw["server"],
        worker_model=raw["worker_model"],
        workers=int(raw["workers"]),
        threads=int(raw["threads"]),
        scenario=raw["scenario"],
        model=raw["model"],
        load_level=int(raw["load_level"]),
        users=_opt_int(raw["users"]),
        rate=_opt_float(raw["rate"]),
        repeat=int(raw["repeat"]),
        request=raw["request"],
        metric=raw["metric"],
        value=_opt_float(raw["value"]),
        unit=raw["unit"],
        status=raw["status"],
        valid=raw["valid"] == "True",
        reason=raw["reason"],
    )


def load_metrics(path: Path, cell_ids: set[str]) -> tuple[MetricRow, ...]:
    rows = []
    metrics = path / METRICS_FILE
    if not metrics.exists():
        return ()
    with metrics.open(encoding="utf-8", newline="") as fh:
        for raw in csv.DictReader(fh):
            if raw.get("cell_id") not in cell_ids or None in raw.values():
                continue  # a row of an uncommitted cell, or a torn last row
            try:
                rows.append(_metric_row(raw))
            except (KeyError, ValueError):
                continue
    return tuple(rows)


def load_run(path: str | Path) -> RunResults:
    """Read a results directory (complete or not) into frozen dataclasses."""
    root = Path(path)
    try:
        run_raw = json.loads((root / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{root} is not a twinbench results folder ({exc})") from None
    written = run_raw.get("schema_version")
    if not upgrade.readable(written):
        raise UsageError(
            f"{root}: results schema {written}, this twinbench reads "
            f"{upgrade.OLDEST} to {SCHEMA_VERSION} (a newer twinbench wrote it?)"
        )
    assert isinstance(written, int)
    run = from_json(RunInfo, upgrade.upgrade_run(run_raw))
    cells = tuple(
        from_json(CellResult, upgrade.upgrade_cell(r, written))
        for r in _read_jsonl(root / CELLS_FILE)
    )
    ids = {c.cell_id for c in cells}
    summary = None
    if (root / COMPLETE_FILE).exists():
        summary = from_json(RunSummary, json.loads((root / COMPLETE_FILE).read_text("utf-8")))
    micro = None
    if (root / MICRO_FILE).exists():
        micro = from_json(MicroResults, json.loads((root / MICRO_FILE).read_text("utf-8")))
    return RunResults(str(root), run, cells, load_metrics(root, ids), summary, micro=micro)


def load_histograms(path: str | Path, cell_id: str) -> CellHistograms | None:
    """The raw histograms of one cell, or None if it measured nothing."""
    file = Path(path) / HIST_DIR / f"{cell_id}.json"
    if not file.exists():
        return None
    raw = json.loads(file.read_text(encoding="utf-8"))
    return CellHistograms(raw["cell_id"], raw["total"], dict(raw["requests"]))
