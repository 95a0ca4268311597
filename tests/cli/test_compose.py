"""`twinbench compose`: the committed docker-compose.yml and compose-targets.toml are what the
command generates from the registry, docker-compose accepts the file, hadolint the
Dockerfile, and the services mirror the local pinning. (No Docker engine here: validated,
not run.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from twinbench.cli.app import main
from twinbench.define import compose
from twinbench.define.targets import default_registry
from twinbench.inputs import load_targets

ROOT = Path(__file__).parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
TARGETS_FILE = ROOT / "compose-targets.toml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
REGEN = "regenerate with `twinbench compose` at the repository root"


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing (scripts/system-deps.sh and make install add it)")
        pytest.skip(f"{name} is not installed")
    return found


def test_committed_files_are_what_the_command_generates(tmp_path: Path) -> None:
    out, toml = tmp_path / "compose.yml", tmp_path / "targets.toml"
    assert main(["compose", "-o", str(out), "--targets-out", str(toml)]) == 0
    assert COMPOSE_FILE.read_text() == out.read_text(), REGEN
    assert TARGETS_FILE.read_text() == toml.read_text(), REGEN
    targets = list(default_registry())
    assert out.read_text() == compose.compose_yaml(targets)


def test_every_target_is_a_service_with_the_local_limits() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    registry = default_registry()
    assert set(registry.names) <= set(services)  # a new target appears without hand edits
    images = {s["image"] for name, s in services.items() if name != "postgres"}
    assert images == {compose.IMAGE}
    assert re.fullmatch(r"postgres:\d+\.\d+-alpine", services["postgres"]["image"])
    for i, t in enumerate(registry):
        s = services[t.name]
        assert s["command"][:3] == ["twinbench", "serve", t.name]
        assert s["command"][s["command"].index("--workers") + 1] == str(t.default_workers(1))
        assert "/health" in " ".join(s["healthcheck"]["test"])
        assert s["cpuset"] == "0" and s["cpus"] == 1.0 and s["mem_limit"] == "1g"
        assert s["ports"] == [f"127.0.0.1:{8001 + i}:8000"]
        assert s["depends_on"]["db-init"] == {"condition": "service_completed_successfully"}
    for name in ("locust-master", "locust-worker"):
        assert services[name]["profiles"] == ["load"] and services[name]["cpuset"] == "1"
        assert services[name]["working_dir"] == "/opt/loadtests"
    assert "profiles" not in services["upstream"] and services["upstream"]["cpuset"] == "1"


def test_targets_file_names_the_published_ports() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    external = load_targets(TARGETS_FILE)
    assert [t.name for t in external] == [f"compose-{n}" for n in default_registry().names]
    for t in external:
        service = services[t.name.removeprefix("compose-")]
        port = service["ports"][0].split(":")[1]
        assert t.external and t.url == f"http://127.0.0.1:{port}"
        builtin = default_registry().get(t.name.removeprefix("compose-"))
        assert t.unsupported == builtin.unsupported and t.app is builtin.app


def test_a_subset_and_a_bad_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.yml"
    args = ["compose", "--targets", "flask-gunicorn-gevent,fastapi-uvicorn", "-o", str(out)]
    assert main([*args, "--targets-out", ""]) == 0
    services = yaml.safe_load(out.read_text())["services"]
    assert {"flask-gunicorn-gevent", "fastapi-uvicorn"} <= set(services)
    assert "flask-gunicorn-sync" not in services
    assert "TARGET:-fastapi-uvicorn" in services["locust-master"]["environment"]["LOCUST_HOST"]
    assert not (tmp_path / "compose-targets.toml").exists()
    capsys.readouterr()
    assert main(["compose", "--targets", "nope", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown target 'nope'" in err[0]


def test_docker_compose_accepts_the_file() -> None:
    done = subprocess.run(
        [_tool("docker-compose"), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # --scale and the load profile resolve (services listed with the profile on)
    listed = subprocess.run(
        [_tool("docker-compose"), "-f", str(COMPOSE_FILE), "--profile", "load", "config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "locust-worker" in yaml.safe_load(listed.stdout)["services"]


def test_dockerfile_passes_hadolint_and_is_built_as_asked() -> None:
    done = subprocess.run(
        [_tool("hadolint"), str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = DOCKERFILE.read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(froms) >= 2, "multi-stage"
    assert all(re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+( AS \w+)?", f) for f in froms), froms
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert "pip wheel" in text and "COPY src ./src" in text  # the package from this repo


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_build_stage_makes_a_wheel_from_what_it_copies(tmp_path: Path) -> None:
    """Without a Docker engine: copy exactly what the build stage COPYs and run its pip."""
    text = DOCKERFILE.read_text()
    stage = text.split("\nFROM ", 2)[1]
    for src, dest in re.findall(r"^COPY (?!--)(.+) (\S+)$", stage, re.M):
        for name in src.split():
            target = tmp_path / dest.removeprefix("./") if dest not in ("./", ".") else tmp_path
            path = ROOT / name
            if path.is_dir():
                shutil.copytree(path, target, symlinks=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target / name)
    wheels = tmp_path / "wheels"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = wheels.glob("twinbench-*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "twinbench/loadtests/json_serialization.py" in names
    assert "twinbench/apps/upstream/__main__.py" in names
