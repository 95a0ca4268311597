"""Validity rules and capacity: invalid cells never count, the SLO decides the level."""

from __future__ import annotations

from twinbench.analysis.validity import Observation, judge
from twinbench.results.model import CellStatus, Driver, OpenLoad, ReasonKind


def _obs(**kw) -> Observation:
    base = dict(
        driver=Driver.CLOSED,
        rate=None,
        measure_s=2.0,
        requests=1000,
        loader_cpu_util=0.5,
        loader_cpus_busy=0.6,
        open=None,
        target_exit="",
    )
    base.update(kw)
    return Observation(**base)  # type: ignore[arg-type]


def test_ok() -> None:
    assert judge(_obs()).status is CellStatus.OK


def test_loader_busy_is_invalid() -> None:
    v = judge(_obs(loader_cpu_util=0.95))
    assert v.status is CellStatus.INVALID and v.reason.startswith("load-generator-bound")
    v = judge(_obs(loader_cpus_busy=0.90))
    assert v.status is CellStatus.INVALID and "everything on them" in v.reason
    assert judge(_obs(loader_cpus_busy=0.89)).status is CellStatus.OK


def test_open_rate_missed_by_more_than_5_percent() -> None:
    ok = _obs(driver=Driver.OPEN, rate=100.0, open=OpenLoad(200, 192, 0, 0))
    assert judge(ok).status is CellStatus.OK  # 96 %
    short = _obs(driver=Driver.OPEN, rate=100.0, open=OpenLoad(200, 180, 0, 0))
    assert "load-generator-bound" in judge(short).reason  # 90 %
    # drops are the target's doing (the in-flight cap was full): they count as attempts
    drops = _obs(driver=Driver.OPEN, rate=100.0, open=OpenLoad(200, 100, 0, 100))
    assert judge(drops).status is CellStatus.OK
    late = _obs(driver=Driver.OPEN, rate=100.0, open=OpenLoad(200, 200, 20, 0))
    assert "late" in judge(late).reason


def test_a_backlogged_target_is_invalid() -> None:
    v = judge(_obs(unsettled_after_s=15.2))
    assert v.status is CellStatus.INVALID and v.reason.startswith("target-backlogged")
    assert "after 15 s" in v.reason


def test_dead_target_fails_and_empty_is_invalid() -> None:
    assert judge(_obs(target_exit="exited with code -9")).status is CellStatus.FAILED
    assert judge(_obs(requests=0)).status is CellStatus.INVALID


def test_a_target_that_held_few_of_the_connections_is_invalid() -> None:
    v = judge(_obs(held=12.0, users=400))
    assert v.status is CellStatus.INVALID and v.reason.startswith("connections-not-held")
    assert "12 of 400" in v.reason
    assert judge(_obs(held=392.0, users=400)).status is CellStatus.OK  # SSE reconnect gaps
    assert judge(_obs(held=None, users=400)).status is CellStatus.OK  # not a stream scenario


def test_a_short_spawn_is_invalid_and_loader_blame_comes_first() -> None:
    v = judge(_obs(users=400, users_started=380))
    assert v.status is CellStatus.INVALID and v.reason.startswith("spawn-short")
    assert judge(_obs(users=400, users_started=400)).status is CellStatus.OK
    # a saturated Locust that could not finish its handshakes is the generator's fault
    v = judge(_obs(loader_cpu_util=0.97, held=12.0, users=400))
    assert v.reason.startswith("load-generator-bound")


def test_a_lost_locust_worker_makes_the_cell_invalid() -> None:
    assert judge(_obs(loader_workers=2, loader_reported=2)).status is CellStatus.OK
    v = judge(_obs(loader_workers=2, loader_reported=1, loader_cpu_util=0.99))
    assert v.status is CellStatus.INVALID and v.reason.startswith("loader-lost: 1 of 2 Locust")
    # one Locust process (no workers): nothing to lose
    assert judge(_obs(loader_workers=0, loader_reported=1)).status is CellStatus.OK
    # a dead target still fails the cell first
    assert judge(_obs(loader_workers=2, loader_reported=1, target_exit="x")).status.value == (
        "failed"
    )


def test_mostly_failing_requests_fail_the_cell_naming_the_commonest_failure() -> None:
    errors = {"GET /orders: LocustBadStatusCode(code=404)": 40, "GET /x: Timeout()": 3}
    v = judge(_obs(total=100, failures=43, errors=errors))
    assert v.status is CellStatus.FAILED and v.kind is ReasonKind.REQUESTS_FAILED
    assert v.reason == (
        "requests-failed: 43 of 100 requests failed; most common (40×): "
        "GET /orders: LocustBadStatusCode(code=404)"
    )
    # up to 5 % failing is the SLO's business (error rate), not a failed cell
    assert judge(_obs(total=100, failures=5, errors=errors)).status is CellStatus.OK
    # a failed cell wins over a busy load generator: 404s are the target's answer
    assert judge(_obs(total=10, failures=9, loader_cpu_util=0.99)).status is CellStatus.FAILED
    dropped = {"OPEN dropped: DroppedError('in-flight cap reached')": 50, **errors}
    assert "most common (40×)" in judge(_obs(total=100, failures=50, errors=dropped)).reason
