"""The smoke profile end to end, with the servers' access logs on: nothing lost, and the
requests the results count agree with what the servers and Locust counted.

Warm-up requests reach the servers but not the results, so the comparison is in two steps:
(1) every request Locust sent (warm-up included, its own end-of-run totals) was logged by a
server, and the servers logged at most one extra request per user per phase (users are
stopped mid-request between phases: the server answers, Locust never records it);
(2) per target, the measured requests are a subset of what that server logged.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from runner_support import run_cli

from twinbench.define.profiles import get
from twinbench.results.model import CellStatus
from twinbench.results.store import load_histograms, load_run

pytestmark = pytest.mark.slow

SIMPLE = {  # scenario → the one request path it sends
    "json": "/json",
    "plaintext": "/plaintext",
    "db": "/db",
    "queries": "/queries?queries=20",
    "fortunes": "/fortunes",
    "updates": "/updates?queries=5",
    "upstream": "/api/upstream?ms=50",  # smoke: one 50 ms wait
}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    tmp = tmp_path_factory.mktemp("smoke")
    started = time.monotonic()
    done = run_cli(tmp, "--profile", "smoke", "--server-access-log", timeout=280)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"smoke profile took {elapsed:.1f} s")
    return tmp / "run", elapsed


def _server_counts(log_dir: Path, target: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for log in log_dir.glob(f"{target}.w*.stdout.log"):
        for m in re.finditer(r'"GET (\S+) HTTP/1\.1"', log.read_text(errors="replace")):
            counts[m.group(1)] += 1
    return counts


def _locust_total(log_dir: Path, scenario: str, name: str) -> int:
    text = "".join(p.read_text(errors="replace") for p in log_dir.glob(f"locust-{scenario}.*"))
    # The request-statistics table: "GET  /json  5737  0(0.00%) | ..." (the percentile table
    # that follows also starts with "GET /json" but has no "(" after the count).
    pattern = re.compile(rf"^GET\s+{re.escape(name)}\s+(\d+)\s+\d+\(", re.M)
    found = [int(m.group(1)) for m in pattern.finditer(text)]
    assert found, f"no Locust summary line for {name} in {scenario}"
    return found[-1]


@pytest.mark.timeout(300)
def test_no_cell_lost(smoke: tuple[Path, float]) -> None:
    out, elapsed = smoke
    run = load_run(out)
    assert run.complete and run.summary is not None
    planned = [c.cell_id for c in run.run.cells]
    assert len(planned) == 26  # 13 scenarios × 2 targets × 1 repeat
    assert sorted(c.cell_id for c in run.cells) == sorted(planned)
    assert sum(run.summary.counts.values()) == 26
    df = pd.read_csv(out / "metrics.csv")
    assert set(df.cell_id) == set(planned)
    for c in run.cells:
        assert c.status in (CellStatus.OK, CellStatus.INVALID), (c.cell_id, c.reason)
        assert c.requests[0].count > 0
        hists = load_histograms(out, c.cell_id)
        assert hists is not None and hists.total
    assert elapsed <= get("smoke").max_seconds


@pytest.mark.timeout(300)
def test_counts_match_servers(smoke: tuple[Path, float]) -> None:
    out, _ = smoke
    run = load_run(out)
    logs = out / "logs"
    servers = {t.name: _server_counts(logs, t.name) for t in run.run.targets}
    for scenario, path in SIMPLE.items():
        cells = [c for c in run.cells if c.config.scenario == scenario]
        sent = _locust_total(logs, scenario, path)
        logged = sum(servers[t][path] for t in servers)
        in_flight = sum(c.config.users or 0 for c in cells)
        assert sent <= logged <= sent + in_flight, (scenario, sent, logged)
        for c in cells:
            measured = c.requests[0].count
            assert 0 < measured <= servers[c.config.target][path], (c.cell_id, measured)
