from __future__ import annotations

import pytest

from twinbench.define.targets import (
    BUILTIN_TARGETS,
    DB_CONNECTION_BUDGET,
    App,
    Feature,
    Registry,
    Target,
    WorkerModel,
    default_registry,
)
from twinbench.errors import UnknownTargetError, UsageError

REQUIRED = {
    "flask-gunicorn-sync",
    "flask-gunicorn-gthread",
    "flask-gunicorn-gevent",
    "flask-waitress",
    "fastapi-uvicorn",
    "fastapi-gunicorn-uvicorn",
}


def test_registry_holds_every_required_target() -> None:
    assert set(default_registry().names) >= REQUIRED


def test_unknown_target_names_the_value_and_the_known_ones() -> None:
    with pytest.raises(UnknownTargetError, match=r"'nope'.*fastapi-uvicorn"):
        default_registry().get("nope")


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(UsageError, match="duplicate"):
        Registry((BUILTIN_TARGETS[0], BUILTIN_TARGETS[0]))


def test_websocket_gaps_are_declared_with_a_reason() -> None:
    reg = default_registry()
    for name in ("flask-gunicorn-sync", "flask-waitress"):
        assert not reg.get(name).supports(Feature.WEBSOCKET)
        assert reg.get(name).unsupported[Feature.WEBSOCKET]
    for name in ("flask-gunicorn-gthread", "flask-gunicorn-gevent", "fastapi-uvicorn"):
        assert reg.get(name).supports(Feature.WEBSOCKET)


@pytest.mark.parametrize(
    ("name", "cpus", "workers"),
    [
        ("flask-gunicorn-sync", 1, 3),
        ("flask-gunicorn-sync", 2, 5),
        ("flask-gunicorn-gevent", 2, 2),
        ("flask-waitress", 4, 1),
        ("fastapi-uvicorn", 2, 2),
    ],
)
def test_default_workers_follow_cpus(name: str, cpus: int, workers: int) -> None:
    assert default_registry().get(name).default_workers(cpus) == workers


def test_waitress_refuses_more_than_one_process() -> None:
    with pytest.raises(UsageError, match="--workers 2"):
        default_registry().get("flask-waitress").check_workers(2)


def test_pool_sizes_stay_within_the_connection_budget() -> None:
    for target in default_registry():
        for workers in (1, 2, 3, 5, 9, 17):
            size = target.pool_size(workers)
            assert size >= 1
            assert size * workers <= max(DB_CONNECTION_BUDGET, workers)


def test_sync_workers_get_one_connection_each() -> None:
    assert default_registry().get("flask-gunicorn-sync").pool_size(3) == 1


def test_render_argv_fills_placeholders_and_access_log_switch() -> None:
    t = default_registry().get("fastapi-uvicorn")
    quiet = t.render_argv(python="py", host="127.0.0.1", port=9001, workers=2)
    assert quiet[0] == "py" and "9001" in quiet and "--no-access-log" in quiet
    loud = t.render_argv(python="py", host="127.0.0.1", port=9001, workers=2, access_log=True)
    assert "--no-access-log" not in loud
    g = default_registry().get("flask-gunicorn-gthread")
    argv = g.render_argv(python="py", host="::1", port=80, workers=3, threads=7)
    assert "::1:80" in argv and "7" in argv and argv[-1] == "twinbench.apps.flask_app:create_app()"


def test_bad_placeholder_is_a_usage_error() -> None:
    t = Target(
        name="x",
        app=App.CUSTOM,
        server=BUILTIN_TARGETS[0].server,
        worker_model=WorkerModel.SYNC,
        argv=("{nope}",),
        description="",
    )
    with pytest.raises(UsageError, match="placeholder"):
        t.render_argv(python="py", host="h", port=1, workers=1)


def test_threads_only_where_the_command_takes_them() -> None:
    reg = default_registry()
    for name in ("flask-gunicorn-gthread", "flask-waitress"):
        reg.get(name).check_threads(7)
        argv = reg.get(name).render_argv(python="py", host="h", port=1, workers=1, threads=7)
        assert "7" in argv or "--threads=7" in argv
    for name in ("flask-gunicorn-sync", "flask-gunicorn-gevent", "fastapi-uvicorn"):
        reg.get(name).check_threads(None)  # not given: nothing to refuse
        with pytest.raises(UsageError, match=f"--threads 2: {name} has no thread pool"):
            reg.get(name).check_threads(2)


def test_sync_sse_limit_names_the_worker_timeout_it_runs_with() -> None:
    from twinbench.define.targets import GUNICORN_TIMEOUT_S

    sync = default_registry().get("flask-gunicorn-sync")
    assert sync.supports(Feature.SSE)
    note = sync.limits[Feature.SSE]
    argv = sync.render_argv(python="py", host="h", port=1, workers=1)
    assert argv[argv.index("--timeout") + 1] == str(GUNICORN_TIMEOUT_S)
    assert f"{GUNICORN_TIMEOUT_S} s" in note and "cut" in note


def test_antipatterns_are_marked_and_in_no_profiles_defaults() -> None:
    from twinbench.define import profiles

    reg = default_registry()
    naive = {"fastapi-naive-blocking", "fastapi-naive-sync"}
    assert {t.name for t in reg if t.antipattern} == naive
    for name in naive:
        target = reg.get(name)
        assert target.antipattern.strip().endswith(("worker", "holds"))
        # The naive ports serve the request/response contract only, and say so.
        for feature in (Feature.TECHEMPOWER, Feature.API, Feature.UPSTREAM, Feature.CPU):
            assert target.supports(feature)
        assert set(target.unsupported) == {Feature.SSE, Feature.WEBSOCKET}
    assert set(reg.standard_names) == set(reg.names) - naive
    for profile in profiles.PROFILES:
        defaults = profile.targets or tuple(reg.standard_names)
        if profile is profiles.NAIVE:  # the one profile made to show them, beside the rest
            assert naive < set(defaults) and {"fastapi-uvicorn", "flask-gunicorn-gevent"} < set(
                defaults
            )
            continue
        assert not naive & set(defaults), profile.name
