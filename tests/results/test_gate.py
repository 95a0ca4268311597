"""A gate folder's files, from synthetic runs: verdict.json, summary.md, BMF, github-action-
benchmark, gate.json read back (the verdict recomputes), and the HTML report of it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from analysis.test_gate import SUBJ, runs_from

from twinbench.analysis.gate import Verdict, decide_pairs
from twinbench.cli.app import main
from twinbench.define.gate import Design, GateRule, Side
from twinbench.errors import UsageError
from twinbench.report.gate import render_gate
from twinbench.results.gate import (
    GateRecord,
    SideInfo,
    assessment_of,
    load_gate,
    verdict_lines,
    write_gate,
)


def record(effect: float) -> GateRecord:
    base = [300.0 + 3 * (i % 4) for i in range(12)]
    runs = tuple(
        runs_from(base, [b * (1 + effect) * (1.01 if i % 2 else 0.99) for i, b in enumerate(base)])
    )
    sides = tuple(
        SideInfo(s, spec, "/r", "abc123", False, "/usr/bin/python3", "3.11.7",
                 {"fastapi": "0.115.0" if s is Side.BASELINE else "0.116.0"}, "")
        for s, spec in ((Side.BASELINE, "main"), (Side.CANDIDATE, "HEAD"))
    )  # fmt: skip
    return GateRecord(
        gate_id="g1", started_utc="t0", finished_utc="t1", elapsed_s=100.0,
        command=("twinbench", "gate"), rate=200.0, rate_source="--rate", stopped="",
        rule=GateRule(confirm_pairs=6), sides=(sides[0], sides[1]), subjects=(SUBJ,), runs=runs,
        folders={r.order: f"runs/{r.order:03d}" for r in runs}, max_seconds=600.0,
        windows=(2.0, 5.0),
    )  # fmt: skip


@pytest.mark.parametrize(("effect", "verdict", "code"), [(0.0, "pass", 0), (0.2, "regression", 1)])
def test_gate_folder(tmp_path: Path, effect: float, verdict: str, code: int) -> None:
    rec = record(effect)
    a = decide_pairs(rec.subjects, rec.runs, rec.rule)
    write_gate(tmp_path, rec, a, {})
    v = json.loads((tmp_path / "verdict.json").read_text())
    assert (v["format"], v["version"], v["verdict"], v["exit_code"]) == (
        "twinbench-gate-verdict", 1, verdict, code,
    )  # fmt: skip
    cpu = next(m for m in v["metrics"] if m["metric"] == "cpu")
    assert cpu["pairs"] == (6 if effect == 0 else 12) and cpu["ratio_low_95"] < cpu["ratio"] < cpu["ratio_high_95"]
    assert cpu["ratio"] == pytest.approx(1 + effect, abs=0.01)
    assert v["sides"]["candidate"]["packages"]["fastapi"] == "0.116.0"
    bmf = json.loads((tmp_path / "bmf.json").read_text())
    m = bmf["json/fastapi-uvicorn"]
    assert m["cpu-per-request"]["lower_value"] <= m["cpu-per-request"]["value"]
    assert m["latency"]["value"] == pytest.approx(m["cpu-per-request"]["value"] / 100 * 1e6)
    gab = json.loads((tmp_path / "github-action-benchmark.json").read_text())
    assert {g["name"] for g in gab} == {f"json/fastapi-uvicorn {n}" for n in ("cpu", "p50", "p99")}
    assert all(set(g) == {"name", "value", "unit", "range", "extra"} for g in gab)
    md = (tmp_path / "summary.md").read_text()
    assert md.startswith("## twinbench gate:") and "| json/fastapi-uvicorn | cpu (primary) |" in md
    assert "`0.115.0` | `0.116.0` **≠**" in md
    back = load_gate(tmp_path)
    assert back.runs == rec.runs and back.rule == rec.rule
    assert assessment_of(back).verdict.value == verdict
    lines = verdict_lines(a)
    assert len(lines) == 4 and lines[0].split()[1] == "cpu"
    page = render_gate(back, assessment_of(back))
    assert page.count("<circle") == 3 * 12 * 2 and "Pair by pair" in page


def test_report_of_a_gate_folder(tmp_path: Path) -> None:
    rec = record(0.2)
    write_gate(tmp_path / "g", rec, decide_pairs(rec.subjects, rec.runs, rec.rule), {})
    out = tmp_path / "r.html"
    assert main(["report", str(tmp_path / "g"), "-o", str(out)]) == 0
    assert "REGRESSION" in out.read_text()


def test_not_a_gate_folder(tmp_path: Path) -> None:
    (tmp_path / "gate.json").write_text('{"format": "other"}')
    with pytest.raises(UsageError, match="not a readable gate folder"):
        load_gate(tmp_path)
    assert Verdict.PASS.exit_code == 0


def test_saturation_is_stored_read_back_and_reported_not_gated(tmp_path: Path) -> None:
    import dataclasses

    from twinbench.analysis.gate_throughput import SaturationCell, SaturationRun

    def sat(side: Side, order: int, rps: float) -> SaturationRun:
        return SaturationRun(side, order, 64, {SUBJ.key: SaturationCell(rps, "ok", None, 0.98)})

    runs = (sat(Side.BASELINE, 40, 1000), sat(Side.CANDIDATE, 41, 1300),
            sat(Side.CANDIDATE, 42, 1250), sat(Side.BASELINE, 43, 990))  # fmt: skip
    rec = dataclasses.replace(
        record(0.0), saturation=runs, saturation_folders={r.order: f"runs/{r.order}" for r in runs}
    )
    a = decide_pairs(rec.subjects, rec.runs, rec.rule)
    write_gate(tmp_path, rec, a, {})
    back = load_gate(tmp_path)
    assert back.saturation == runs and back.saturation_folders[41] == "runs/41"
    assert back.assessment().verdict is a.verdict  # the verdict does not look at it
    (v,) = json.loads((tmp_path / "verdict.json").read_text())["throughput_at_saturation"]
    assert v["baseline_rps"] == [1000, 990] and v["candidate_rps"] == [1300, 1250]
    assert v["ratio"] == pytest.approx(1275 / 995) and v["gated"] is False
    summary = (tmp_path / "summary.md").read_text()
    assert "Throughput at saturation" in summary and "reported, not gated" in summary
    assert "candidate 1,275 req/s" in summary
    assert "saturation-json/fastapi-uvicorn" in render_gate(back, a)
    # A gate.json written before saturation existed reads back with none.
    raw = json.loads((tmp_path / "gate.json").read_text())
    del raw["saturation"]
    (tmp_path / "gate.json").write_text(json.dumps(raw))
    assert load_gate(tmp_path).saturation == ()


def test_the_design_is_stored_and_older_files_read_as_abba(tmp_path: Path) -> None:
    rec = dataclasses.replace(record(0.0), design=Design.DUET)
    a = decide_pairs(rec.subjects, rec.runs, rec.rule)
    write_gate(tmp_path / "new", rec, a, {})
    assert load_gate(tmp_path / "new").design is Design.DUET
    assert json.loads((tmp_path / "new" / "verdict.json").read_text())["design"] == "duet"
    assert "pairs (duet: both sides at once" in (tmp_path / "new" / "summary.md").read_text()
    # gate.json from before the duet (version 1 without the key): its pairs were ABBA.
    write_gate(tmp_path / "old", rec, a, {})
    path = tmp_path / "old" / "gate.json"
    raw = json.loads(path.read_text())
    del raw["design"]
    path.write_text(json.dumps(raw))
    old = load_gate(tmp_path / "old")
    assert old.design is Design.ABBA and old.runs == rec.runs
