"""`twinbench gate` end to end on the twins: both sides the same revision, a couple of pairs.

Checks the machinery (files, pairs, worktrees removed, the report), never a verdict that
could flake: the exit code must be 0 or 3 (a real regression between a revision and itself
would be a bug; inconclusive is honest with this few pairs)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import twinbench

REPO = Path(twinbench.__file__).resolve().parents[2]


def worktrees(under: Path) -> list[str]:
    """The repository's worktrees under `under` (this test's own temporary folder: other
    gates running at the same time make theirs elsewhere)."""
    done = subprocess.run(
        ["git", "-C", str(REPO), "worktree", "list"], capture_output=True, text=True
    )
    return [line.split()[0] for line in done.stdout.splitlines() if str(under) in line]


def measured(folder: Path) -> tuple[int, int]:
    """A run's (only) cell's measured window, in ns."""
    cell = json.loads((folder / "cells.jsonl").read_text().splitlines()[0])
    return cell["window"]["t_measure_start_ns"], cell["window"]["t_measure_end_ns"]


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_gate_smoke(tmp_path: Path) -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    tmp = tmp_path / "tmp"  # where the gate makes its worktrees (TMPDIR)
    tmp.mkdir()
    out = tmp_path / "gate"
    done = subprocess.run(
        [sys.executable, "-m", "twinbench", "gate", "--baseline", "HEAD", "--candidate", "HEAD",
         "--pairs", "2", "--confirm-pairs", "2", "--max-pairs", "2", "--rate", "100",
         "--measure-s", "2", "--warmup-s", "1", "--max-seconds", "300", "--out", str(out),
         "--saturation-runs", "2", "--saturation-users", "32"],
        cwd=REPO, capture_output=True, text=True, timeout=380,
        env={**os.environ, "TMPDIR": str(tmp)},
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr[-3000:]
    assert "HEAD (" in done.stderr  # the sides were revisions: worktrees were made ...
    lines = done.stdout.splitlines()
    assert len(lines) >= 4
    assert [ln.split()[1] for ln in lines[:4]] == ["cpu", "p50", "p99", "errors"]
    assert all(ln.split()[0] in {"PASS", "INCONCLUSIVE", "IMPROVEMENT"} for ln in lines[:4])
    for name in ("gate.json", "verdict.json", "summary.md", "bmf.json",
                 "github-action-benchmark.json"):  # fmt: skip
        assert (out / name).is_file(), name
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["exit_code"] == done.returncode and verdict["pairs"] >= 2
    assert verdict["sides"]["baseline"]["revision"] == verdict["sides"]["candidate"]["revision"]
    gate = json.loads((out / "gate.json").read_text())
    kept = [r for r in gate["runs"] if r["kept"]]
    # A duet (the default): every pair one run of each side, measured over the same seconds
    # (their loads start at a barrier), and who starts first alternates: A B, B A.
    assert gate["design"] == verdict["design"] == "duet"
    for p in {r["pair"] for r in kept}:
        both = sorted((r for r in kept if r["pair"] == p), key=lambda r: r["side"])
        assert [r["side"] for r in both] == ["baseline", "candidate"]
        (a0, a1), (b0, b1) = (measured(out / r["folder"]) for r in both)
        assert min(a1, b1) - max(a0, b0) >= 0.8 * (a1 - a0)
        first = min(both, key=lambda r: r["order"])["side"]
        assert first == ("baseline" if p % 2 else "candidate")
    for r in gate["runs"]:
        folder = out / r["folder"]
        assert (folder / "run.json").is_file() and (folder / "cells.jsonl").is_file()
    cpu = [r["cells"]["json/fastapi-uvicorn"]["values"]["cpu_per_request"] for r in kept]
    assert all(v > 0 for v in cpu)
    # After the verdict: throughput at saturation, one closed-model run per side (reported,
    # not gated), each a results folder of its own whose throughput is the figure shown.
    sat = gate["saturation"]
    assert [(r["side"], r["users"]) for r in sat] == [("baseline", 32), ("candidate", 32)]
    for r in sat:
        rows = [x for x in (out / r["folder"] / "metrics.csv").read_text().splitlines()
                if ",throughput," in x and ",total," in x]  # fmt: skip
        assert rows and r["cells"]["json/fastapi-uvicorn"]["rps"] > 0
    (shown_sat,) = verdict["throughput_at_saturation"]
    assert shown_sat["gated"] is False and len(shown_sat["baseline_rps"]) == 1
    assert any(ln.startswith("throughput at saturation: json/fastapi-uvicorn") for ln in lines)
    assert worktrees(tmp) == [] and list(tmp.iterdir()) == []  # ... and removed
    report = tmp_path / "r.html"
    shown = subprocess.run(
        [sys.executable, "-m", "twinbench", "report", str(out), "-o", str(report)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "pair 1 baseline" in report.read_text()


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_gate_a_config_scenario(tmp_path: Path) -> None:
    """A team's own locustfile ([[scenario]] in a twinbench.toml) gated at a fixed rate on a
    twin target: both sides the same folder, two pairs, one side after the other (ABBA); the
    locustfile's hash is recorded."""
    side = tmp_path / "service"
    side.mkdir()
    (side / "load.py").write_text(
        "from locust import HttpUser, task\n"
        "class Reader(HttpUser):\n"
        "    @task(3)\n"
        "    def json(self):\n"
        "        self.client.get('/json')\n"
        "    @task(1)\n"
        "    def plaintext(self):\n"
        "        self.client.get('/plaintext')\n"
    )
    (side / "twinbench.toml").write_text(
        '[[scenario]]\nname = "reads"\nlocustfile = "load.py"\nusers = [4]\n'
    )  # closed model in the file: the gate still runs it at its fixed rate
    out = tmp_path / "gate"
    done = subprocess.run(
        [sys.executable, "-m", "twinbench", "gate", "--baseline", str(side),
         "--candidate", str(side), "--config", "twinbench.toml", "--targets", "fastapi-uvicorn",
         "--pairs", "2", "--confirm-pairs", "2", "--max-pairs", "2", "--rate", "50",
         "--measure-s", "2", "--warmup-s", "1", "--max-seconds", "150", "--out", str(out),
         "--saturation-runs", "0", "--design", "abba"],
        cwd=tmp_path, capture_output=True, text=True, timeout=190,
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert [ln.split()[1] for ln in lines[:4]] == ["cpu", "p50", "p99", "errors"]
    for name in ("gate.json", "verdict.json", "summary.md", "bmf.json"):
        assert (out / name).is_file(), name
    gate = json.loads((out / "gate.json").read_text())
    assert gate["subjects"] == [{"target": "fastapi-uvicorn", "scenario": "reads"}]
    digest = hashlib.sha256((side / "load.py").read_bytes()).hexdigest()
    assert [s["locustfiles"] for s in gate["sides"]] == [{"reads": digest}] * 2
    kept = [r for r in gate["runs"] if r["kept"]]
    assert len(kept) >= 4
    # --design abba: one side after the other, pair 1 A then B, every pair one of each (a
    # discarded run is run again on its side, so the raw sequence may repeat a side).
    assert gate["design"] == "abba"
    assert [r["side"] for r in kept][:2] == ["baseline", "candidate"]
    for p in {r["pair"] for r in kept}:
        assert sorted(r["side"] for r in kept if r["pair"] == p) == ["baseline", "candidate"]
    assert all(r["cells"]["reads/fastapi-uvicorn"]["values"]["cpu_per_request"] > 0 for r in kept)
    run = json.loads((out / gate["runs"][0]["folder"] / "run.json").read_text())
    assert "reads" in json.dumps(run) and digest in json.dumps(run)
    assert "reads locustfile sha256" in (out / "summary.md").read_text()
    # The open model drew the file's @tasks by weight (3:1) at the fixed rate.
    first = out / kept[0]["folder"] / "cells.jsonl"
    cell = json.loads(first.read_text().splitlines()[0])
    counts = {r["name"]: r["count"] for r in cell["requests"]}
    assert cell["config"]["model"] == "open" and cell["config"]["rate"] == 50.0
    assert counts["GET /json"] > counts["GET /plaintext"] > 0
    report = tmp_path / "r.html"
    shown = subprocess.run(
        [sys.executable, "-m", "twinbench", "report", str(out), "-o", str(report)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "reads" in report.read_text()
