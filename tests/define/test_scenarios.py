"""The scenario catalogue: one locustfile each, known features, stable order."""

from __future__ import annotations

import subprocess
import sys

import pytest

from twinbench import packaged
from twinbench.define import scenarios
from twinbench.errors import UsageError
from twinbench.results.metrics import Metric


def test_catalogue_names_and_locustfiles() -> None:
    assert scenarios.scenario_names() == [
        "json", "plaintext", "db", "queries", "fortunes", "updates",
        "api", "upstream", "cpu", "sse", "ws_echo", "ws_connect", "ws_broadcast",
    ]  # fmt: skip
    for sc in scenarios.CATALOGUE:
        assert packaged.locustfile(sc.locustfile).is_file(), sc.locustfile


def test_no_locustfile_shadows_a_standard_module() -> None:
    """Locust imports a locustfile as a top-level module under its file name: `json.py`
    would replace the standard library's json for everything imported after it."""
    files = sorted(p.stem for p in packaged.loadtests_dir().glob("*.py"))
    assert "json_serialization" in files
    assert not set(files) & sys.stdlib_module_names, files


def test_select_keeps_catalogue_order() -> None:
    assert [s.name for s in scenarios.select(["cpu", "json"])] == ["json", "cpu"]
    assert scenarios.select(None) == scenarios.CATALOGUE
    with pytest.raises(UsageError, match="unknown scenario 'nope'"):
        scenarios.select(["nope"])


def test_hyphenated_names_as_the_issue_writes_them() -> None:
    assert scenarios.get("ws-echo").name == "ws_echo"
    assert [s.name for s in scenarios.select(["ws-broadcast", "sse"])] == ["sse", "ws_broadcast"]


def test_wait_of_an_upstream_request_name() -> None:
    assert scenarios.wait_ms("GET /api/upstream?ms=2000") == 2000
    assert scenarios.wait_ms("GET /json") is None


def test_streaming_scenarios_count_their_main_request_and_run_closed() -> None:
    for name, main in (
        ("sse", "sse first-event"),
        ("ws_echo", "ws-echo rtt"),
        ("ws_broadcast", "ws-broadcast delivery"),
    ):
        sc = scenarios.get(name)
        assert sc.main_request == main and not sc.open_model and sc.connections
    up = scenarios.get("upstream")
    assert up.merit is Metric.INFLIGHT
    assert up.slo_rule is scenarios.SloRule.P99_OVER_WAIT
    assert up.params["upstream_ms"] == "50,500,2000"  # the issue's three waits


def test_the_harness_never_imports_locust_or_gevent() -> None:
    """Locust patches the interpreter with gevent at import: every twinbench module must be
    importable without it (the harness runs Locust as a subprocess only)."""
    code = (
        "import importlib, pkgutil, sys, twinbench\n"
        "for m in pkgutil.walk_packages(twinbench.__path__, 'twinbench.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "top = {n.split('.')[0] for n in sys.modules}\n"
        "bad = sorted(top & {'locust', 'gevent', 'twinload'})\n"
        "print(len(sys.modules)); assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[0]) > 100  # the modules really were imported
