"""A team's locustfile is loaded in Locust (a child process) before any load: what it
defines, or one line with Locust's own error."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinbench.define.scenarios import Scenario
from twinbench.define.targets import Feature
from twinbench.errors import UsageError
from twinbench.results.metrics import Metric
from twinbench.run.locust import check_locustfile

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"


def _scenario(path: Path) -> Scenario:
    return Scenario(
        "s", str(path), Feature.LOCUSTFILE, Metric.THROUGHPUT, "", source="twinbench.toml"
    )


def test_a_plain_locustfile_is_open_model_ready() -> None:
    info = check_locustfile(_scenario(DATA / "shop_locustfile.py"))
    assert set(info.users) == {"Shopper", "Browser"} and info.open_model


def test_tasksets_run_closed_only(tmp_path: Path) -> None:
    path = tmp_path / "sets.py"
    path.write_text(
        "from locust import HttpUser, TaskSet, task\n"
        "class Browse(TaskSet):\n"
        "    @task\n"
        "    def home(self):\n"
        "        self.client.get('/')\n"
        "class Visitor(HttpUser):\n"
        "    tasks = [Browse]\n"
    )
    info = check_locustfile(_scenario(path))
    assert info.users == ("Visitor",) and not info.open_model
    assert "plain @task functions" in info.open_problem


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("import no_such_module_here\n", "Locust cannot load it: ModuleNotFoundError"),
        ("def broken(:\n", "Locust cannot load it: SyntaxError"),
        ("x = 1\n", "defines no User class"),
        ("from locust import HttpUser\n", "defines no User class"),  # abstract: not a user
    ],
)
def test_a_bad_locustfile_is_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad_file.py"
    path.write_text(text)
    with pytest.raises(UsageError, match=message) as info:
        check_locustfile(_scenario(path))
    assert str(path) in str(info.value) and "twinbench.toml" in str(info.value)
    assert "\n" not in str(info.value)
