"""What a naive port gets: anti-pattern targets are compared with idiomatic FastAPI and with
every Flask target, and are never the headline's or a claim's "best"."""

from __future__ import annotations

import dataclasses

import pytest
from runner_factories import cell_config, cell_result, metric_row, run_info

from twinbench.analysis.derive import analyse
from twinbench.analysis.figures import figures_for
from twinbench.analysis.headline import headline
from twinbench.analysis.naive import naive_ports
from twinbench.inputs import load_claims
from twinbench.report.model import build_model
from twinbench.report.render import render
from twinbench.results.metrics import Metric
from twinbench.results.model import CellStatus, RunResults, TargetConfig

WRONG = "async def endpoints make blocking calls"
TARGETS = {  # name: (app, throughput per repeat, p99 ms, antipattern)
    "fastapi-uvicorn": ("fastapi", (900.0, 910.0, 905.0), 20.0, ""),
    "fastapi-naive-blocking": ("fastapi", (3000.0, 3050.0, 3020.0), 900.0, WRONG),
    "flask-gunicorn-gevent": ("flask", (800.0, 790.0, 810.0), 25.0, ""),
}


def _run() -> RunResults:
    cells, metrics = [], []
    for name, (app, rps, p99, _) in TARGETS.items():
        for rep, value in enumerate(rps, start=1):
            cfg = cell_config(f"db.{name}.l1.r{rep}", target=name, scenario="db", repeat=rep)
            cfg = dataclasses.replace(cfg, app=app)
            cells.append(cell_result(cfg, CellStatus.OK))
            metrics += [
                metric_row(cfg, "throughput", value),
                metric_row(cfg, "latency_p99", p99 * (1 + rep / 100)),
            ]
    info = run_info(tuple(c.config for c in cells))
    targets = tuple(
        TargetConfig(n, app, "uvicorn", "asyncio", 1, 1, 16, "l", "d", "builtin", wrong)
        for n, (app, _, _, wrong) in TARGETS.items()
    )
    info = dataclasses.replace(info, targets=targets)
    return RunResults("x", info, tuple(cells), tuple(metrics))


def test_a_naive_port_is_never_the_best_fastapi() -> None:
    index = analyse(_run())
    # It has the highest throughput here (a made-up run), and is still not chosen.
    (row,) = headline(index)
    assert row.fastapi_target == "fastapi-uvicorn"
    targets = {f.target for f in figures_for(index, "db", Metric.THROUGHPUT)}
    assert "fastapi-naive-blocking" not in targets


def test_naive_ports_are_compared_with_idiomatic_fastapi_and_flask() -> None:
    comps = naive_ports(analyse(_run()))
    assert [(c.naive, c.other, c.other_role) for c in comps] == [
        ("fastapi-naive-blocking", "fastapi-uvicorn", "idiomatic FastAPI"),
        ("fastapi-naive-blocking", "flask-gunicorn-gevent", "Flask"),
    ]
    vs_fastapi = comps[0]
    assert vs_fastapi.antipattern == WRONG and vs_fastapi.load == "8 users"
    tput, p99 = vs_fastapi.figures
    assert tput.metric is Metric.THROUGHPUT and p99.metric is Metric.LATENCY_P99
    assert tput.naive == pytest.approx(9070 / 3) and tput.other == pytest.approx(905.0)
    assert tput.ci is not None and tput.ci.ratio == pytest.approx(9070 / 3 / 905)
    assert tput.better is True  # more req/s is better
    assert p99.better is False  # a higher p99 is worse


def test_a_run_without_anti_patterns_has_no_naive_section() -> None:
    res = _run()
    info = dataclasses.replace(
        res.run, targets=tuple(dataclasses.replace(t, antipattern="") for t in res.run.targets)
    )
    assert naive_ports(analyse(dataclasses.replace(res, run=info))) == ()


def test_a_side_with_one_repeat_is_said_to_have_no_interval_not_no_difference() -> None:
    # The naive port kept one valid repeat (the others timed out): its ratio has no interval,
    # and the report must not call a 0.003x ratio "no significant difference".
    run = _run()
    keep = [
        c for c in run.cells if c.config.target != "fastapi-naive-blocking" or c.config.repeat == 1
    ]
    ids = {c.config.cell_id for c in keep}
    run = dataclasses.replace(
        run, cells=tuple(keep), metrics=tuple(m for m in run.metrics if m.cell_id in ids)
    )
    html = render(build_model([run], load_claims(), "2025-01-01 00:00:00 UTC"))
    section = html[html.index('id="naive"') :]
    section = section[: section.index("</section>")]
    assert "too few repeats (1 vs 3): no interval" in section
    assert "no significant difference" not in section
