"""The report's content as plain data, independent of the code that made it.

Used to keep the report of the recorded runs (tests/data) equal in content across a
refactor: every section's text (numbers, verdicts, cell statuses and reasons) and the
chart ids, read back from the HTML with nothing from twinbench. The generation time is
blanked; everything else must match. `python tests/report_snapshot.py OUT.json` records a
snapshot from the installed twinbench (the committed one was made before the refactor of
the package layout).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from report_html import Page, squash

DATA = Path(__file__).parent / "data"
SNAPSHOT = DATA / "report-content.json"
# (name, folders): one run alone, and the recorded before/after pair.
REPORTS = (
    ("sqlite", ("quick-sqlite",)),
    ("postgres", ("quick-postgres",)),
    ("pair", ("quick-sqlite", "quick-postgres")),
)
SECTIONS = ("config", "headline", "claims", "deltas", "capacity", "cells", "methods")
_GENERATED = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def content(html: str) -> dict[str, object]:
    page = Page(html)
    out: dict[str, object] = {}
    ids = [e.attrs.get("id", "") for e in _elements(page)]
    for name in SECTIONS:
        if name in ids:
            out[name] = _GENERATED.sub("<generated>", squash(page.by_id(name).text))
    out["charts"] = sorted(i for i in ids if i.startswith("chart-"))
    return out


def _elements(page: Page) -> list:  # type: ignore[type-arg]
    stack, found = [page.root], []
    while stack:
        el = stack.pop()
        found.append(el)
        stack.extend(el.children)
    return found


def snapshot(write_report) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """{report name: content} using `write_report(dirs, out_path)`."""
    import tempfile

    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, folders in REPORTS:
            path = Path(tmp) / f"{name}.html"
            write_report([DATA / f for f in folders], path)
            out[name] = content(path.read_text(encoding="utf-8"))
    return out


if __name__ == "__main__":
    from twinbench.report.build import write_report as _write

    Path(sys.argv[1]).write_text(
        json.dumps(snapshot(lambda d, o: _write(d, o)), indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
