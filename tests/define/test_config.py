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
