"""The gate's sides: revisions and folders, each side's Python, config and code."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import twinbench
from twinbench.apps.common.settings import DatabaseURL
from twinbench.define.gate import Side
from twinbench.errors import UsageError
from twinbench.run.ports import free_port
from twinbench.run.servers import ServeConfig, target_process
from twinbench.run.sides import (
    Sides,
    bind,
    check_python,
    gate_scenario_names,
    resolve,
    side_pythonpath,
    side_scenario,
    side_targets,
)

REPO = Path(twinbench.__file__).resolve().parents[2]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A tiny git repository with two commits and a config file only in the second."""
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.email", "t@example.com")
    git(r, "config", "user.name", "t")
    (r / "app.py").write_text("VERSION = 1\n")
    git(r, "add", ".")
    git(r, "commit", "-qm", "one")
    (r / "twinbench.toml").write_text(
        '[[target]]\nname = "shop"\ncommand = ["{python}", "-m", "http.server", "{port}"]\n'
    )
    git(r, "add", ".")
    git(r, "commit", "-qm", "two")
    return r


def test_a_revision_resolves_to_its_commit(repo: Path) -> None:
    src = resolve(Side.BASELINE, "main~1", repo)
    assert src.folder is None and src.commit == git(repo, "rev-parse", "main~1")


def test_a_folder_is_a_folder(repo: Path) -> None:
    src = resolve(Side.CANDIDATE, str(repo), repo)
    assert src.folder == repo.resolve() and src.commit is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no-such-branch", "--baseline no-such-branch: neither a folder nor a revision"),
        ("app.py", "a file, not a folder"),
        ("", "empty"),
    ],
)
def test_bad_sides(repo: Path, spec: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    with pytest.raises(UsageError, match=message):
        resolve(Side.BASELINE, spec, repo)


def test_outside_a_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not in a git repository"):
        resolve(Side.BASELINE, "main", tmp_path)


def test_bad_python(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--baseline-python /nope/python: no such executable"):
        check_python("--baseline-python", "/nope/python")
    script = tmp_path / "python"
    script.write_text("#!/bin/sh\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(UsageError, match="not a working Python"):
        check_python("--candidate-python", str(script))


def test_worktrees_are_removed_even_on_error(repo: Path) -> None:
    made: list[Path] = []
    with pytest.raises(RuntimeError), Sides(repo) as sides:
        side = sides.prepare(resolve(Side.BASELINE, "main~1", repo), None, None)
        made.append(side.root)
        assert (side.root / "app.py").read_text() == "VERSION = 1\n"
        assert not (side.root / "twinbench.toml").exists()
        raise RuntimeError("boom")
    assert made and not made[0].exists()
    assert (
        "main~1" not in git(repo, "worktree", "list")
        and len(git(repo, "worktree", "list").splitlines()) == 1
    )


def test_config_is_each_sides_own(repo: Path) -> None:
    with Sides(repo) as sides:
        old = sides.prepare(resolve(Side.BASELINE, "main~1", repo), None, None)
        new = sides.prepare(resolve(Side.CANDIDATE, "main", repo), None, Path("twinbench.toml"))
        assert "shop" in new.targets and "shop" not in old.targets
        shop = new.targets["shop"]
        assert shop.cwd == str(new.root)
        assert shop.env["PYTHONPATH"].split(":")[0] == str(new.root)
        assert shop.env["PYTHONHASHSEED"] == "0"
    with pytest.raises(UsageError, match=r"--config twinbench\.toml: not found"), Sides(repo) as s2:
        s2.prepare(resolve(Side.BASELINE, "main~1", repo), None, Path("twinbench.toml"))


def copy_checkout(dest: Path) -> Path:
    """A folder side that is a twinbench checkout: src/twinbench with the twins copied in."""
    shutil.copytree(
        REPO / "src" / "twinbench",
        dest / "src" / "twinbench",
        ignore=shutil.ignore_patterns("__pycache__", "loadtests"),
    )
    return dest


def test_a_twinbench_checkout_puts_its_src_first(tmp_path: Path) -> None:
    root = copy_checkout(tmp_path / "side")
    assert side_pythonpath(root) == (str(root / "src"), str(root))
    targets, _ = side_targets(root, None)
    assert "fastapi-uvicorn" in {t.name for t in targets}
    # A side without the naive ports does not offer their targets.
    shutil.rmtree(root / "src" / "twinbench" / "apps" / "fastapi_naive")
    names = {t.name for t in side_targets(root, None)[0]}
    assert "fastapi-naive-sync" not in names and "fastapi-uvicorn" in names


@pytest.mark.slow
def test_each_side_serves_its_own_code(tmp_path: Path, sqlite_database: DatabaseURL) -> None:
    """The candidate's changed twin is what its server runs (and the baseline's is not)."""
    base = copy_checkout(tmp_path / "base")
    cand = copy_checkout(tmp_path / "cand")
    te = cand / "src" / "twinbench" / "apps" / "fastapi_app" / "techempower.py"
    te.write_text(te.read_text().replace('"Hello, World!"', '"Hello, candidate!"', 1))
    seen = {}
    for side, root in ((Side.BASELINE, base), (Side.CANDIDATE, cand)):
        targets, _ = side_targets(root, None)
        t = bind(
            next(t for t in targets if t.name == "fastapi-uvicorn"),
            side,
            root,
            sys.executable,
            side_pythonpath(root),
        )
        cfg = ServeConfig(
            t, "127.0.0.1", free_port(), 1, 1, None, sqlite_database, "http://127.0.0.1:9"
        )
        proc = target_process(cfg, tmp_path / f"logs-{side.value}").start()
        try:
            proc.wait_healthy(60)
            seen[side] = httpx.get(cfg.base_url + "/json", timeout=10).json()["message"]
        finally:
            proc.stop()
    assert seen == {Side.BASELINE: "Hello, World!", Side.CANDIDATE: "Hello, candidate!"}


def test_each_side_resolves_scenarios_from_its_own_config(tmp_path: Path) -> None:
    """A config scenario is each side's own (its locustfile, its hash); built-in names work
    beside it; without --scenarios the config's shared ones are gated."""
    roots = {}
    for name, body in (("a", "# v1\n"), ("b", "# v2: the pull request's\n")):
        root = tmp_path / name
        root.mkdir()
        (root / "load.py").write_text(body)
        (root / "twinbench.toml").write_text(
            '[[target]]\nname = "shop"\ncommand = ["{python}", "-m", "http.server", "{port}"]\n'
            '[[scenario]]\nname = "orders"\nlocustfile = "load.py"\nrates = [50]\n'
            + ('[[scenario]]\nname = "new"\nlocustfile = "load.py"\nusers = [4]\n'
               if name == "b" else "")
        )  # fmt: skip
        roots[name] = root
    with Sides(tmp_path) as sides:
        a = sides.prepare(resolve(Side.BASELINE, str(roots["a"]), tmp_path), None,
                          Path("twinbench.toml"))  # fmt: skip
        b = sides.prepare(resolve(Side.CANDIDATE, str(roots["b"]), tmp_path), None,
                          Path("twinbench.toml"))  # fmt: skip
    oa, ob = side_scenario(a, "orders"), side_scenario(b, "orders")
    assert oa is not None and ob is not None
    assert oa.locustfile == str(roots["a"] / "load.py")
    assert ob.locustfile == str(roots["b"] / "load.py")
    assert oa.locustfile_sha256 and oa.locustfile_sha256 != ob.locustfile_sha256
    json_a = side_scenario(a, "json")
    assert json_a is not None and json_a.builtin
    assert side_scenario(a, "new") is None and side_scenario(b, "new") is not None
    assert gate_scenario_names((a, b), ("orders", "json"), "json") == (("orders", "json"), ())
    assert gate_scenario_names((a, b), None, "json") == (("orders",), ("new (candidate only)",))
    with pytest.raises(UsageError, match="--scenarios new: not defined on the baseline side"):
        gate_scenario_names((a, b), ("orders", "new"), "json")
    plain = dataclasses.replace(a, scenarios={})
    assert gate_scenario_names((plain, plain), None, "json") == (("json",), ())
