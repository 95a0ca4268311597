"""Files that ship inside the package: the Locust scenarios, the claims ledger, the report
template. Found with importlib.resources, never relative to a source checkout, so an
installed twinbench reads only its own copy (tests/test_install.py proves it).

In a checkout, `twinbench/apps` and `twinbench/loadtests` are symlinks to the repository's
top-level folders (pyproject.toml says why); in a wheel they are the folders themselves.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from twinbench.errors import TwinbenchError


def package_path(*parts: str) -> Path:
    """A file or folder inside the installed package, as a real path.

    Locust and the servers are child processes that need real files; pip always unpacks a
    wheel, so a Traversable that is not a Path means a zipped install we cannot run from.
    """
    found = resources.files("twinbench").joinpath(*parts)
    if not isinstance(found, Path):
        raise TwinbenchError(f"twinbench is installed zipped; it needs its files ({found})")
    return found


def loadtests_dir() -> Path:
    return package_path("loadtests")


def locustfile(name: str) -> Path:
    """A built-in scenario's locustfile (`loadtests/<name>`)."""
    return loadtests_dir() / name


def claims_ledger() -> Path:
    """The seed claims, copied from the migration plans (README: The report)."""
    return package_path("data", "claims.toml")


def report_template() -> str:
    return package_path("report", "templates", "report.html.j2").read_text(encoding="utf-8")
