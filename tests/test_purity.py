"""The pure core does no I/O: analysis, define and results' records, metrics, codec and
upgrades import nothing that reaches a file, a socket, a process or the clock, and call no
`open`. Checked on the source (every import statement, top level or not), so a later edit
that slips a read into the core fails here, not in review."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

import twinbench

SRC = Path(twinbench.__file__).parent
PURE_PACKAGES = ("analysis", "define")
PURE_MODULES = ("results.model", "results.metrics", "results.codec", "results.upgrade")
# Modules that reach outside the process, or read the clock (the same inputs must give the
# same figures).
FORBIDDEN = frozenset(
    {
        "asyncio", "http", "httpx", "importlib", "io", "multiprocessing", "os", "pathlib",
        "psutil", "psycopg", "requests", "shutil", "signal", "socket", "sqlite3",
        "subprocess", "sys", "tempfile", "threading", "time", "urllib", "datetime",
    }
)  # fmt: skip
FORBIDDEN_CALLS = frozenset({"open", "input", "print", "exec", "eval", "__import__"})


def pure_modules() -> list[str]:
    names = [f"twinbench.{m}" for m in PURE_MODULES]
    for pkg in PURE_PACKAGES:
        path = SRC / pkg
        names += [f"twinbench.{pkg}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
        names.append(f"twinbench.{pkg}")
    return sorted(names)


def _file(module: str) -> Path:
    rel = module.removeprefix("twinbench.").replace(".", "/")
    path = SRC / f"{rel}.py"
    return path if path.exists() else SRC / rel / "__init__.py"


def _imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{a.name}" for a in node.names]
    return found


def test_the_pure_core_is_all_there() -> None:
    names = pure_modules()
    for expected in ("twinbench.analysis.stats", "twinbench.analysis.verdicts",
                     "twinbench.analysis.capacity", "twinbench.define.targets"):  # fmt: skip
        assert expected in names


@pytest.mark.parametrize("module", pure_modules())
def test_imports_no_io(module: str) -> None:
    tree = ast.parse(_file(module).read_text(encoding="utf-8"))
    pure = set(pure_modules())
    for name in _imports(tree):
        top = name.split(".")[0]
        assert top not in FORBIDDEN, f"{module} imports {name}"
        if top == "twinbench" and name.count(".") >= 1:
            # Another twinbench module: it must be pure too (a name imported from a pure
            # module, e.g. twinbench.analysis.index.RunIndex, is fine).
            owner = name if name in pure or _file(name).exists() else name.rsplit(".", 1)[0]
            if owner in ("twinbench.errors",) or owner.startswith("twinbench.errors."):
                continue  # the error classes: data, no I/O
            assert owner in pure, f"{module} imports {name}, which is not in the pure core"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, f"{module} calls {node.func.id}()"


def test_the_check_catches_io() -> None:
    """The checker itself is not blind: a module that opens a file is caught."""
    tree = ast.parse("import subprocess\nfrom pathlib import Path\nopen('x')\n")
    assert {"subprocess", "pathlib"} <= {n.split(".")[0] for n in _imports(tree)}
    calls = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)]  # type: ignore[attr-defined]
    assert "open" in calls
