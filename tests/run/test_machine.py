"""Machine facts are best effort and never fail."""

from __future__ import annotations

from pathlib import Path

from twinbench.run.machine import git_info, machine_info, package_versions


def test_machine_and_packages(tmp_path: Path) -> None:
    m = machine_info()
    assert m.logical_cpus >= 1 and m.memory_bytes > 0 and m.cpu_model
    versions = package_versions(("flask", "locust", "no-such-package-xyz"))
    assert versions["no-such-package-xyz"] == "not installed"
    assert versions["flask"][0].isdigit()
    repo = Path(__file__).resolve().parents[2]
    assert len(git_info(repo).commit) == 40
    assert git_info(tmp_path).commit == "unknown"
