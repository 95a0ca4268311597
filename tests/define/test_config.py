"""Your own targets from TOML: good files become registry Targets, bad ones name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinbench.define.targets import App, Feature, Registry
from twinbench.errors import UsageError
from twinbench.inputs import load_targets

GOOD = """
[[target]]
name = "shop-gunicorn"
app = "flask"
command = ["{python}", "-m", "gunicorn", "--bind", "{host}:{port}",
           "--workers", "{workers}", "shop:app"]
health = "/healthz"
server = "gunicorn"
worker_model = "sync"
workers = 2
env = { SHOP_DB = "sqlite:///shop.db" }
unsupported = { websocket = "no WebSocket routes" }
access_log_args = ["--access-logfile", "-"]

[[target]]
name = "shop-uvicorn"
command = ["{python}", "-m", "uvicorn", "shop:app", "--host", "{host}", "--port", "{port}"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "twinbench.toml"
    path.write_text(text)
    return path


def test_good_file(tmp_path: Path) -> None:
    a, b = load_targets(_write(tmp_path, GOOD))
    assert a.name == "shop-gunicorn" and a.app is App.FLASK
    assert a.default_workers(8) == 2  # fixed, whatever the CPUs
    assert b.default_workers(2) == 2  # default: one per CPU
    assert not a.supports(Feature.WEBSOCKET) and a.health_path == "/healthz"
    argv = a.render_argv(python="py", host="127.0.0.1", port=9000, workers=2, access_log=True)
    assert argv[-2:] == ["--access-logfile", "-"] and "127.0.0.1:9000" in argv
    assert {t.name for t in Registry((a, b))} == {"shop-gunicorn", "shop-uvicorn"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[target]]\nname = "x"\n', r"target\[0\] \(x\)\.command: missing \(or give url"),
        ('[[target]]\nname = "x"\ncommand = ["a"]\n', r"command: must bind to the \{port\}"),
        ('[[target]]\nname = "x"\ncommand = ["{port}"]\napp = "django"\n', r"\.app: 'django'"),
        ('[[target]]\nname = "x"\ncommand = ["{port}"]\nworkers = 0\n', r"\.workers: must be"),
        ('[[target]]\nname = "x"\ncommand = ["{port}"]\nport = 1\n', r"\.port: unknown key"),
        ('[[target]]\nname = "x"\ncommand = ["{port}"]\nunsupported = {{ gpu = "n" }}\n', "gpu"),
        ("[[target]\n", "not valid TOML"),
        ("title = 1\n", "unknown top-level key 'title'"),
        ('[[target]]\nname = "a b"\ncommand = ["{port}"]\n', r"\.name: 'a b'"),
    ],
)
def test_bad_file_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_targets(_write(tmp_path, text.replace("{{", "{").replace("}}", "}")))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read it"):
        load_targets(tmp_path / "none.toml")


def test_duplicate_of_builtin_is_refused(tmp_path: Path) -> None:
    from twinbench.define.targets import BUILTIN_TARGETS

    text = '[[target]]\nname = "fastapi-uvicorn"\ncommand = ["{port}"]\n'
    with pytest.raises(UsageError, match="duplicate target name"):
        Registry((*BUILTIN_TARGETS, *load_targets(_write(tmp_path, text))))


EXTERNAL = """
[[target]]
name = "compose-fastapi"
app = "fastapi"
server = "uvicorn"
url = "http://10.0.0.5:8002/"
health = "/healthz"
unsupported = { websocket = "not behind this proxy" }

[[target]]
name = "local-flask"
app = "flask"
url = "http://127.0.0.1:8001"
pid_file = "/run/flask.pid"
"""


def test_external_targets(tmp_path: Path) -> None:
    a, b = load_targets(_write(tmp_path, EXTERNAL))
    assert a.external and a.url == "http://10.0.0.5:8002" and a.argv == ()
    assert a.health_path == "/healthz" and not a.supports(Feature.WEBSOCKET)
    assert not a.resources_measured  # no pid file: CPU and memory are not measured
    assert b.resources_measured and b.pid_file == "/run/flask.pid"
    assert "external" in a.label and a.url in a.label
    with pytest.raises(UsageError, match="external"):
        a.render_argv(python="py", host="h", port=1, workers=1)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('url = "https://h:1"', r"\.url: 'https://h:1' must be an http:// URL"),
        ('url = "http://h"', r"\.url: 'http://h' must name its port"),
        ('url = "http://h:1/api"', r"\.url: 'http://h:1/api' must be a base URL"),
        ('url = "http://u@h:1"', r"must be a base URL"),
        ('url = "http://h:70000"', r"\.url: 'http://h:70000' is not a URL"),
        ("url = 8000", r"\.url: must be a string"),
        ('url = "http://h:0"', r"port 0 is not 1-65535"),
        ('url = "http://h:1?q=1"', r"must be a base URL"),
        ('url = "http://h:1"\ncommand = ["{port}"]', "command .* or url .*, not both"),
        ('url = "http://h:1"\nworkers = 2', r"\.workers: only for a target twinbench starts"),
        ('url = "http://h:1"\nenv = { A = "b" }', r"\.env: only for a target twinbench starts"),
        ('url = "http://h:1"\npid_file = 3', r"\.pid_file: must be a path"),
        ('command = ["{port}"]\npid_file = "p"', r"\.pid_file: only for an external target"),
    ],
)
def test_bad_external_target_names_the_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_targets(_write(tmp_path, f'[[target]]\nname = "x"\n{body}\n'))


# -- a team's own scenarios and claims ---------------------------------------------------------
OWN = """
[[target]]
name = "orders-flask"
app = "flask"
cwd = "svc"
command = ["{python}", "-m", "gunicorn", "--bind", "{host}:{port}", "orders.wsgi:app"]

[[target]]
name = "orders-fastapi"
app = "fastapi"
command = ["{python}", "-m", "uvicorn", "orders.asgi:app", "--port", "{port}"]

[[scenario]]
name = "checkout"
locustfile = "load/locustfile.py"
users = [8, 32]
main_request = "POST /orders"
slo_p99_ms = 250

[[scenario]]
name = "browse"
locustfile = "load/locustfile.py"
rates = [200, 400.5]

[[claim]]
id = "orders-3x"
text = "The FastAPI rewrite serves three times the orders per second"
scenario = "checkout"
metric = "throughput"
factor = 3.0
baseline = "flask"
candidate = "orders-fastapi"

[[claim]]
id = "json-p99"
text = "p99 halves on /json"
scenario = "json"
metric = "p99"
factor = 2
baseline = "orders-flask"
candidate = "fastapi"
"""


def _project(tmp_path: Path, text: str = OWN) -> Path:
    (tmp_path / "svc").mkdir(exist_ok=True)
    (tmp_path / "load").mkdir(exist_ok=True)
    (tmp_path / "load" / "locustfile.py").write_text("# a locustfile\n")
    return _write(tmp_path, text)


def test_own_scenarios_and_claims(tmp_path: Path) -> None:
    import hashlib

    from twinbench.define.claims import CheckKind
    from twinbench.inputs import load_config
    from twinbench.results.metrics import Metric

    config = load_config(_project(tmp_path))
    flask, fastapi = config.targets
    assert flask.cwd == str(tmp_path / "svc") and fastapi.cwd == str(tmp_path)
    checkout, browse = config.scenarios
    assert checkout.locustfile == str(tmp_path / "load" / "locustfile.py")
    digest = hashlib.sha256(b"# a locustfile\n").hexdigest()
    assert checkout.locustfile_sha256 == digest and not checkout.builtin
    assert checkout.users == (8, 32) and checkout.rates == () and checkout.slo_p99_ms == 250
    assert checkout.main_request == "POST /orders" and checkout.feature is Feature.LOCUSTFILE
    assert browse.rates == (200.0, 400.5) and browse.main_request is None
    orders, json_p99 = config.claims
    (check,) = orders.checks
    assert check.kind is CheckKind.RATIO and check.metric is Metric.THROUGHPUT
    assert check.factor == 3.0 and check.baseline_targets == ()
    assert check.candidate_targets == ("orders-fastapi",)
    assert orders.wording.startswith("The FastAPI rewrite")
    (check,) = json_p99.checks
    assert check.metric is Metric.LATENCY_P99 and check.baseline_targets == ("orders-flask",)


@pytest.mark.parametrize(
    ("baseline", "candidate", "apps", "named"),
    [
        ("fastapi", "flask", ("fastapi", "flask"), ((), ())),  # the reverse direction
        ("flask", "custom", ("flask", "custom"), ((), ())),  # a team's own app on one side
        ("custom", "fastapi-uvicorn", ("custom", "fastapi"), ((), ("fastapi-uvicorn",))),
        # two configurations of one app, by target name
        (
            "fastapi-uvicorn",
            "fastapi-gunicorn-uvicorn",
            ("fastapi", "fastapi"),
            (("fastapi-uvicorn",), ("fastapi-gunicorn-uvicorn",)),
        ),
    ],
)
def test_claim_sides_any_app_or_two_targets(
    tmp_path: Path,
    baseline: str,
    candidate: str,
    apps: tuple[str, str],
    named: tuple[tuple[str, ...], tuple[str, ...]],
) -> None:
    from twinbench.define.claims import measuring_command
    from twinbench.inputs import load_config

    claim = _CL.replace('baseline = "flask"', f'baseline = "{baseline}"')
    claim = claim.replace('candidate = "fastapi"', f'candidate = "{candidate}"')
    path = _project(tmp_path, _SC + "users = [1]\n" + claim)
    (check,) = load_config(path).claims[0].checks
    assert (check.baseline_app.value, check.candidate_app.value) == apps
    assert (check.baseline_targets, check.candidate_targets) == named
    # The command that would measure it reads the same file, or it could not know "s".
    command = measuring_command(check)
    assert f"--config {path}" in command and "--scenarios s" in command, command
    if all(named):
        assert f"--targets {named[1][0]},{named[0][0]}" in command, command
    else:
        assert "--targets" not in command  # the file's own targets decide


def test_scenarios_select_built_in_and_own(tmp_path: Path) -> None:
    from twinbench.define import scenarios
    from twinbench.inputs import load_config

    own = load_config(_project(tmp_path)).scenarios
    assert [s.name for s in scenarios.select(None, own)] == ["checkout", "browse"]
    chosen = scenarios.select(["browse", "json"], own)
    assert [s.name for s in chosen] == ["json", "browse"]
    with pytest.raises(UsageError, match=r"unknown scenario 'nope'; known: .*checkout"):
        scenarios.select(["nope"], own)


def test_own_ladders_plan(tmp_path: Path) -> None:
    from twinbench.define.plan import build_plan
    from twinbench.define.profiles import get
    from twinbench.define.targets import default_registry
    from twinbench.inputs import load_config
    from twinbench.results.model import Driver, LoadModel

    config = load_config(_project(tmp_path))
    targets = default_registry().select(["fastapi-uvicorn", "flask-gunicorn-sync"])
    plan = build_plan(get("quick"), targets, config.scenarios, repeats=2, target_cpus=1)
    checkout, browse = plan.scenarios
    assert checkout.model is LoadModel.STEP and checkout.driver is Driver.CLOSED
    assert [c.config.users for c in checkout.cells][:4] == [8, 8, 8, 8]
    assert browse.driver is Driver.OPEN and {c.config.rate for c in browse.cells} == {200, 400.5}


_SC = '[[scenario]]\nname = "s"\nlocustfile = "load/locustfile.py"\n'
_CL = (
    '[[claim]]\nid = "c"\ntext = "t"\nscenario = "s"\nmetric = "throughput"\nfactor = 2\n'
    'baseline = "flask"\ncandidate = "fastapi"\n'
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_SC, r"scenario\[0\] \(s\): give `users = \[...\]` \(closed model\) or `rates"),
        (_SC + "users = [1]\nrates = [2]\n", "not both"),
        (_SC + "users = []\n", r"\.users: must be a non-empty list"),
        (_SC + "users = [-4]\n", r"\.users: -4 is not a whole number above 0"),
        (_SC + "users = [1.5]\n", r"\.users: 1.5 is not a whole number"),
        (_SC + 'users = ["8"]\n', r"\.users: '8' is not"),
        (_SC + "users = 8\n", r"\.users: must be a non-empty list"),
        (_SC + "rates = [0]\n", r"\.rates: 0 is not a number above 0"),
        (_SC + "rates = [inf]\n", r"\.rates: inf is not"),
        (_SC + "users = [8, 4]\n", "levels must climb"),
        (_SC + "users = [1]\nmain_request = 3\n", r"\.main_request: must be"),
        (_SC + "users = [1]\nslo_p99_ms = -1\n", r"\.slo_p99_ms: must be"),
        (_SC + "users = [1]\nthreads = 2\n", r"\.threads: unknown key"),
        ('[[scenario]]\nname = "s"\nusers = [1]\n', r"\.locustfile: missing"),
        ('[[scenario]]\nname = "json"\nlocustfile = "a.py"\nusers = [1]\n', "is a built-in"),
        ('[[scenario]]\nname = "s"\nlocustfile = "a.txt"\nusers = [1]\n', "must be a .py"),
        ('[[scenario]]\nname = "s"\nlocustfile = "none.py"\nusers = [1]\n', "none.py: No such"),
        (_SC + "users = [1]\n" + _SC + "users = [2]\n", "duplicate scenario name 's'"),
        ("scenario = 3\n", "`scenario` must be an array of tables"),
        (_SC + "users = [1]\n" + _CL.replace('"s"\nmetric', '"nope"\nmetric'), "unknown scenario"),
        (_SC + "users = [1]\n" + _CL.replace("throughput", "speed"), r"\.metric: 'speed' is"),
        (_SC + "users = [1]\n" + _CL.replace("factor = 2", "factor = 0"), r"\.factor: must be"),
        (_SC + "users = [1]\n" + _CL.replace("factor = 2", 'factor = "3x"'), r"\.factor"),
        (_SC + "users = [1]\n" + _CL.replace('"flask"', '"shop"'), "unknown target 'shop'"),
        (
            _SC + "users = [1]\n" + _CL.replace('"flask"', '"fastapi-uvicorn"'),
            "are the same fastapi targets; name two different apps, or two target names",
        ),
        (
            _SC + "users = [1]\n" + _CL.replace('"flask"', '"fastapi"'),
            "are the same fastapi targets",
        ),
        (
            _SC
            + "users = [1]\n"
            + _CL.replace('"flask"', '"fastapi-uvicorn"').replace(
                'candidate = "fastapi"', 'candidate = "fastapi-uvicorn"'
            ),
            "are the same fastapi targets",
        ),
        (_SC + "users = [1]\n" + _CL.replace('"flask"', '""'), r"\.baseline: must be a target"),
        (_SC + "users = [1]\n" + _CL.replace('"fastapi"\n', "3\n"), r"\.candidate: must be"),
        (_SC + "users = [1]\n" + _CL.replace('text = "t"\n', ""), r"claim\[0\]\.text: missing"),
        (_SC + "users = [1]\n" + _CL + "colour = 1\n", r"\.colour: unknown key"),
        (_SC + "users = [1]\n" + _CL + _CL, "duplicate claim id 'c'"),
        ('[[target]]\nname = "x"\ncwd = "nowhere"\ncommand = ["{{port}}"]\n', "is not a folder"),
        ('[[target]]\nname = "x"\ncwd = 3\ncommand = ["{{port}}"]\n', r"\.cwd: must be a folder"),
    ],
)
def test_bad_own_scenario_or_claim_names_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    from twinbench.inputs import load_config

    path = _project(tmp_path, text.replace("{{", "{").replace("}}", "}"))
    with pytest.raises(UsageError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
