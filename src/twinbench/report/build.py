"""Reading results folders and writing the HTML report: the I/O around the pure modules.

The histograms are read here (store.load_histograms) and handed to the pure code inside
`RunResults.histograms`; the file is written to a temporary sibling and renamed, so a
reader (or a browser reload) never sees half a report.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from twinbench.errors import UsageError
from twinbench.inputs import load_claims
from twinbench.report.model import ReportModel, build_model, claims_for
from twinbench.report.render import render
from twinbench.results.model import RunResults
from twinbench.results.store import load_histograms, load_run


def load_with_histograms(path: str | Path) -> RunResults:
    results = load_run(path)
    hists = {}
    for cell in results.cells:
        h = load_histograms(path, cell.cell_id)
        if h is not None:
            hists[cell.cell_id] = {"total": h.total, **h.requests}
    return dataclasses.replace(results, histograms=hists)


def latest_results_dir(root: Path = Path("results")) -> Path:
    """The newest run folder under `root` (run ids start with the UTC time, so names sort)."""
    runs = sorted(p for p in root.glob("*/") if (p / "run.json").exists())
    if not runs:
        raise UsageError(f"no results folder under {root}/: run `twinbench run` first")
    return runs[-1]


def build(
    dirs: Sequence[str | Path], claims_path: Path | None = None, now: float | None = None
) -> ReportModel:
    runs = [load_with_histograms(d) for d in dirs]
    generated = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))
    return build_model(runs, claims_for(runs, load_claims(claims_path)), generated)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(
    dirs: Sequence[str | Path], out: Path, claims_path: Path | None = None
) -> ReportModel:
    model = build(dirs, claims_path)
    write_atomic(out, render(model))
    return model


def write_gate_report(gate_dir: Path, out: Path) -> None:
    """The HTML report of a `twinbench gate` folder (its verdicts recomputed from gate.json)."""
    from twinbench.report.gate import render_gate
    from twinbench.results.gate import assessment_of, load_gate

    record = load_gate(gate_dir)
    write_atomic(out, render_gate(record, assessment_of(record)))
