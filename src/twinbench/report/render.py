"""The report model → one self-contained HTML string (Jinja2). Pure but for reading the
template that ships inside the package.

Self-contained means: no script, no external stylesheet, font or image; the charts are inline
SVG. A Content-Security-Policy meta tag (default-src 'none') makes any stray external reference
fail loudly in a browser instead of silently phoning home.
"""

from __future__ import annotations

import math
import re
from functools import cache

import jinja2
from markupsafe import Markup

from twinbench import packaged
from twinbench.analysis.capacity import CapacityKind
from twinbench.analysis.naive import capacity_text
from twinbench.analysis.stats import RatioCI, format_ratio
from twinbench.analysis.summary import FigureKind, Panel, Part, RefKind
from twinbench.analysis.verdicts import MICRO_LABEL, Verdict
from twinbench.define.claims import CheckKind
from twinbench.report.model import ReportModel
from twinbench.results.model import CellStatus

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# How well the capacity estimate matched wrk on the reference machine (README: the capacity
# check); a fixed statement about the method, not a figure of this run.
CAPACITY_CHECK = (
    "on the 2-core reference VM (2026-12-02), with wrk and the estimate's cells taken in turns "
    "(so that the VM's own drift cancels) and wrk given as many connections as the cells had "
    "users, two checks were within ±10 % of wrk's saturated throughput for 7 of the 9 of "
    "fastapi-uvicorn, flask-gunicorn-gevent and flask-gunicorn-sync on /json, /plaintext and "
    "/db (0.86–1.26×): gevent Flask, whose cells keep it 95 % busy, within 3 % every time; "
    "sync Flask the noisiest (0.86–1.26×), because its CPU per request grows with the "
    "connections waiting to be accepted, more under wrk than in cells Locust could not "
    "saturate; FastAPI /plaintext 0.86–1.04×, because a server that handles more requests "
    "per wake-up spends less CPU on each, which cells 70–76 % busy cannot show. Read an "
    "estimate as good to about 10 % for a target its cells keep busy and about 25 % for "
    "sync workers, in either direction."
)
VERDICT_CLASS = {
    Verdict.CONFIRMED: "ok",
    Verdict.NOT_CONFIRMED: "bad",
    Verdict.DEPENDS: "mixed",
    Verdict.PARTLY: "partly",
    Verdict.INCONCLUSIVE: "none",
    Verdict.NO_DATA: "none",
}


def num(value: float | None, digits: int = 3) -> str:
    """Readable figures: 12,345 · 123 · 12.3 · 1.23 · 0.0123; '–' for nothing."""
    if value is None or not math.isfinite(value):
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def ratio(ci: RatioCI | None) -> str:
    return format_ratio(ci)


def significance(ci: RatioCI | None) -> str:
    return "–" if ci is None else ci.verdict_text


def part_href(part: Part) -> str:
    """Where a part of the verdict paragraph links to ("" for plain text)."""
    return {
        RefKind.TARGETS: f"#target-{part.key}",
        RefKind.SCENARIO: f"#headline-{part.key}",
        RefKind.CLAIMS: "#claims",
        RefKind.ESTIMATES: "#methods-estimates",
        RefKind.NONE: "",
    }[part.ref]


def code(text: str) -> Markup:
    """Escape, then show `backticked` words as code (verdict texts name commands that way)."""
    escaped = str(Markup.escape(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a typo in the template fails the tests
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=num, ratio=ratio, significance=significance, code=code)
    env.globals.update(
        VERDICT_CLASS=VERDICT_CLASS,
        CheckKind=CheckKind,
        CellStatus=CellStatus,
        CapacityKind=CapacityKind,
        Verdict=Verdict,
        MICRO_LABEL=MICRO_LABEL,
        CAPACITY_CHECK=CAPACITY_CHECK,
        capacity_text=capacity_text,
        part_href=part_href,
        FigureKind=FigureKind,
        Panel=Panel,
        CSP=CSP,
        num=num,
    )
    return env


@cache
def _template() -> jinja2.Template:
    text = packaged.report_template()
    return _environment().from_string(text)


def svg(markup: str) -> Markup:
    """Chart SVG produced by twinbench.report.charts (matplotlib escapes its own text)."""
    return Markup(markup)


def render(model: ReportModel) -> str:
    return _template().render(m=model, svg=svg)
