"""The two sides of a gate: a git revision (checked out into a temporary worktree) or a folder,
each with its own Python, its own config file and its own targets.

How a side's code is served: every target's command runs in the side's root, with the side's
Python for `{python}`, and with PYTHONPATH starting at the side's `src/` when the side is a
twinbench checkout (so `twinbench.apps.fastapi_app` is that side's twin, not the harness's)
and at the side's root (a team's `shop.wsgi:app`). PYTHONPATH comes before site-packages and
before an editable install's path, so a side's own files always win; a side that is not a
checkout serves what its Python has installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from twinbench.define import scenarios as catalogue
from twinbench.define.config import Config
from twinbench.define.gate import Side
from twinbench.define.scenarios import Scenario
from twinbench.define.targets import BUILTIN_TARGETS, Target
from twinbench.errors import UsageError
from twinbench.inputs import load_config
from twinbench.run.machine import PACKAGES

HASH_SEED = "0"  # PYTHONHASHSEED of every process a gate starts: the same dict orders each run
_APP_MODULE = re.compile(r"twinbench\.apps\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class SideSource:
    side: Side
    spec: str  # as given on the command line
    folder: Path | None  # a folder side
    commit: str | None  # a revision side: the full commit


@dataclass(frozen=True)
class PreparedSide:
    side: Side
    spec: str
    root: Path
    revision: str  # the commit, or "folder" (+ its commit when it is a git checkout)
    dirty: bool
    temporary: bool  # a worktree this gate made (removed afterwards)
    python: str
    python_version: str
    packages: Mapping[str, str]
    pythonpath: tuple[str, ...]
    targets: Mapping[str, Target]  # every target this side defines, bound to it
    config: str  # the config file used ("" for none)
    # The config's own scenarios ([[scenario]]), from this side's copy: each names this
    # side's locustfile (absolute) and records its SHA-256.
    scenarios: Mapping[str, Scenario] = dataclasses.field(default_factory=dict)

    def describe(self) -> str:
        rev = self.revision[:12] if self.revision != "folder" else f"folder {self.root}"
        return f"{self.side.value} {self.spec} ({rev}{', dirty' if self.dirty else ''})"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(["git"], 1, "", str(exc))


def resolve(side: Side, spec: str, repo: Path) -> SideSource:
    """A folder if `spec` is one, else a revision of the git repository at `repo`."""
    flag = f"--{side.value}"
    if not spec.strip():
        raise UsageError(f"{flag}: empty; give a git revision or a folder")
    path = Path(spec).expanduser()
    if path.is_dir():
        return SideSource(side, spec, path.resolve(), None)
    if path.exists():
        raise UsageError(f"{flag} {spec}: a file, not a folder or a git revision")
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    if done.returncode != 0 or not done.stdout.strip():
        where = _git(repo, "rev-parse", "--show-toplevel")
        if where.returncode != 0:
            raise UsageError(f"{flag} {spec}: not a folder, and {repo} is not in a git repository")
        raise UsageError(
            f"{flag} {spec}: neither a folder nor a revision of {where.stdout.strip()}"
        )
    return SideSource(side, spec, None, done.stdout.strip())


def check_python(flag: str, python: str) -> tuple[str, str]:
    """(the interpreter's path, its version) or one UsageError."""
    found = shutil.which(python) if os.sep not in python else python
    if not found or not Path(found).is_file() or not os.access(found, os.X_OK):
        raise UsageError(f"{flag} {python}: no such executable")
    try:
        done = subprocess.run(
            [found, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"{flag} {python}: cannot run it ({exc})") from None
    if done.returncode != 0:
        raise UsageError(f"{flag} {python}: not a working Python ({done.stderr.strip()[-200:]})")
    return str(Path(found).absolute()), done.stdout.strip()


_VERSIONS = """
import json, sys
from importlib import metadata
out = {}
for name in sys.argv[1:]:
    try:
        out[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        out[name] = "not installed"
print(json.dumps(out))
"""


def side_packages(python: str, env: Mapping[str, str]) -> dict[str, str]:
    """Versions of the packages that move numbers, as the side's Python sees them."""
    try:
        done = subprocess.run(
            [python, "-c", _VERSIONS, *PACKAGES],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
        )
        return dict(json.loads(done.stdout)) if done.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return {}


def side_pythonpath(root: Path) -> tuple[str, ...]:
    paths = []
    if (root / "src" / "twinbench" / "__init__.py").exists():
        paths.append(str(root / "src"))
    paths.append(str(root))
    return tuple(paths)


def bind(
    target: Target, side: Side, root: Path, python: str, pythonpath: tuple[str, ...]
) -> Target:
    """The target as this side serves it: its Python, its root, its code first on the path."""
    escaped = python.replace("{", "{{").replace("}", "}}")
    argv = tuple(a.replace("{python}", escaped) for a in target.argv)
    inherited = os.environ.get("PYTHONPATH", "")
    env = {
        **target.env,
        "PYTHONPATH": os.pathsep.join([*pythonpath, *([inherited] if inherited else [])]),
        "PYTHONHASHSEED": HASH_SEED,
        "TWINBENCH_GATE_SIDE": side.value,
    }
    # A folder the side's config names (already resolved against the side's copy) stays.
    return dataclasses.replace(target, argv=argv, env=env, cwd=target.cwd or str(root))


def _missing_twin(target: Target, root: Path) -> str:
    """For a twin target on a twinbench checkout: the app module this side lacks ("" if none)."""
    apps = root / "src" / "twinbench" / "apps"
    if not (root / "src" / "twinbench" / "__init__.py").exists():
        return ""
    for part in target.argv:
        m = _APP_MODULE.search(part)
        if m and not ((apps / m.group(1)).is_dir() or (apps / f"{m.group(1)}.py").exists()):
            return f"twinbench.apps.{m.group(1)}"
    return ""


def side_config(root: Path, config: Path | None) -> Config | None:
    """The side's own copy of the config file, loaded (None without --config)."""
    if config is None:
        return None
    path = config if config.is_absolute() else root / config
    if not path.exists():
        raise UsageError(f"--config {config}: not found in {root}")
    return load_config(path)


def side_targets(
    root: Path, config: Path | None, loaded: Config | None = None
) -> tuple[tuple[Target, ...], str]:
    """The targets a side defines: the built-in twins that exist in it, plus its config's."""
    builtin = tuple(t for t in BUILTIN_TARGETS if not _missing_twin(t, root))
    loaded = loaded or side_config(root, config)
    if loaded is None:
        return builtin, ""
    names = {t.name for t in builtin}
    return (*builtin, *(t for t in loaded.targets if t.name not in names)), loaded.path


class Sides(contextlib.AbstractContextManager["Sides"]):
    """Prepares both sides on entry; removes the worktrees it made on exit (errors, Ctrl-C)."""

    def __init__(self, repo: Path, work_dir: Path | None = None) -> None:
        self.repo = repo
        self.work_dir = work_dir
        self.made: list[Path] = []
        self._tmp: Path | None = None

    def checkout(self, src: SideSource) -> Path:
        if src.folder is not None:
            return src.folder
        assert src.commit is not None
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="twinbench-gate-", dir=self.work_dir))
        path = self._tmp / src.side.value
        done = _git(self.repo, "worktree", "add", "--detach", "--force", str(path), src.commit)
        if done.returncode != 0:
            raise UsageError(
                f"--{src.side.value} {src.spec}: cannot check it out "
                f"({(done.stderr.strip().splitlines() or ['git failed'])[-1][-300:]})"
            )
        self.made.append(path)
        return path

    def prepare(self, src: SideSource, python: str | None, config: Path | None) -> PreparedSide:
        flag = f"--{src.side.value}-python"
        py, version = check_python(flag, python or sys.executable)
        root = self.checkout(src)
        if src.commit is not None:
            revision, dirty = src.commit, False
        else:
            head = _git(root, "rev-parse", "HEAD")
            status = _git(root, "status", "--porcelain", "--untracked-files=no")
            revision = f"folder {head.stdout.strip()}" if head.returncode == 0 else "folder"
            dirty = bool(status.stdout.strip()) if status.returncode == 0 else False
        pythonpath = side_pythonpath(root)
        loaded = side_config(root, config)
        targets, config_used = side_targets(root, config, loaded)
        bound = {t.name: bind(t, src.side, root, py, pythonpath) for t in targets}
        env = {"PYTHONPATH": os.pathsep.join(pythonpath)}
        return PreparedSide(
            side=src.side,
            spec=src.spec,
            root=root,
            revision=revision,
            dirty=dirty,
            temporary=src.commit is not None,
            python=py,
            python_version=version,
            packages=side_packages(py, env),
            pythonpath=pythonpath,
            targets=bound,
            config=config_used,
            scenarios={sc.name: sc for sc in loaded.scenarios} if loaded else {},
        )

    def cleanup(self) -> None:
        for path in reversed(self.made):
            done = _git(self.repo, "worktree", "remove", "--force", str(path))
            if done.returncode != 0:
                shutil.rmtree(path, ignore_errors=True)
        if self.made:
            _git(self.repo, "worktree", "prune")
        self.made.clear()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def iter_names(sides: tuple[PreparedSide, PreparedSide], names: tuple[str, ...]) -> Iterator[str]:
    """Each name missing on a side, as `name (side)` (empty: all present)."""
    for s in sides:
        for n in names:
            if n not in s.targets:
                yield f"{n} ({s.side.value})"


def side_scenario(side: PreparedSide, name: str) -> Scenario | None:
    """A scenario as this side defines it: its config's [[scenario]] (its own locustfile),
    else a built-in one; None when the side has neither."""
    if name in side.scenarios:
        return side.scenarios[name]
    try:
        return catalogue.get(name)
    except UsageError:
        return None


def gate_scenario_names(
    sides: tuple[PreparedSide, PreparedSide], names: tuple[str, ...] | None, default: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The scenario names a gate measures, and the config scenarios it leaves out.

    Named (--scenarios): each must exist on both sides (built in, or in that side's config),
    else one UsageError naming the first one missing and the side. Not named: the config's
    own scenarios that both sides define, in the baseline's order (one that only one side
    has, e.g. a scenario the pull request adds, has nothing to compare against: it is left
    out and reported); without config scenarios, `default` (a built-in one)."""
    if names is None:
        a, b = sides
        if not a.scenarios and not b.scenarios:
            return (default,), ()
        common = tuple(n for n in a.scenarios if n in b.scenarios)
        left_out = tuple(
            f"{n} ({s.side.value} only)"
            for s, other in ((a, b), (b, a))
            for n in s.scenarios
            if n not in other.scenarios
        )
        if not common:
            raise UsageError(
                f"--config: the two sides' config files share no [[scenario]] name "
                f"({', '.join(left_out)}); name the scenarios with --scenarios"
            )
        return common, left_out
    for n in names:
        for s in sides:
            if side_scenario(s, n) is None:
                own = ", ".join(s.scenarios) or "none"
                raise UsageError(
                    f"--scenarios {n}: not defined on the {s.side.value} side (not built in; "
                    f"its config's scenarios: {own})"
                )
    return names, ()
