"""The HTML report of a gate folder: the verdicts, then per target, scenario and metric both
sides' values pair by pair (an inline SVG chart and the table), the discarded runs and both
sides' configuration. Self-contained (no network); pure: the caller reads and writes."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from twinbench.analysis.gate import Assessment, GateRun, MetricOutcome, complete_pairs
from twinbench.define.gate import Side, Test
from twinbench.results.gate import DESIGN_WORDS, PACKAGES_SHOWN, UNITS, WORDS, GateRecord

COLOURS = {Side.BASELINE: "#1f77b4", Side.CANDIDATE: "#d62728"}
W, H, PAD = 640, 220, 44


def _e(text: object) -> str:
    return html.escape(str(text))


def _fmt(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.4g}"


def _chart(pairs: Sequence[tuple[float, float]], unit: str, title: str) -> str:
    """Both sides' value per pair: a dot each, joined within the pair."""
    finite = [v for p in pairs for v in p if math.isfinite(v)]
    if not finite:
        return "<p>no values</p>"
    lo, hi = min(finite), max(finite)
    span = hi - lo or max(abs(hi), 1.0) * 0.1
    lo, hi = lo - span * 0.1, hi + span * 0.1
    n = len(pairs)

    def x(i: int) -> float:
        return PAD + (W - 2 * PAD) * (i + 0.5) / max(n, 1)

    def y(v: float) -> float:
        return H - PAD / 2 - (H - PAD) * (v - lo) / (hi - lo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'role="img" aria-label="{_e(title)}" font-family="sans-serif" font-size="11">',
        f'<line x1="{PAD}" y1="{H - PAD / 2}" x2="{W - PAD}" y2="{H - PAD / 2}" stroke="#999"/>',
        f'<line x1="{PAD}" y1="{PAD / 2}" x2="{PAD}" y2="{H - PAD / 2}" stroke="#999"/>',
        f'<text x="4" y="{PAD / 2 + 4}">{_e(_fmt(hi))} {_e(unit)}</text>',
        f'<text x="4" y="{H - PAD / 2}">{_e(_fmt(lo))}</text>',
    ]
    for i, (b, c) in enumerate(pairs):
        if math.isfinite(b) and math.isfinite(c):
            parts.append(
                f'<line x1="{x(i):.1f}" y1="{y(b):.1f}" x2="{x(i):.1f}" y2="{y(c):.1f}" '
                'stroke="#bbb"/>'
            )
        for side, v in ((Side.BASELINE, b), (Side.CANDIDATE, c)):
            if math.isfinite(v):
                dx = -4 if side is Side.BASELINE else 4
                parts.append(
                    f'<circle class="{side.value}" cx="{x(i) + dx:.1f}" cy="{y(v):.1f}" r="4" '
                    f'fill="{COLOURS[side]}"><title>pair {i + 1} {side.value}: '
                    f"{_e(_fmt(v))} {_e(unit)}</title></circle>"
                )
        parts.append(f'<text x="{x(i) - 4:.1f}" y="{H - 4}">{i + 1}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _values(
    pairs: Sequence[tuple[GateRun, GateRun]], key: str, o: MetricOutcome
) -> list[tuple[float, float]]:
    m = o.threshold.metric
    return [
        (b.cells[key].values.get(m, math.nan), c.cells[key].values.get(m, math.nan))
        for b, c in pairs
    ]


def _metric_section(pairs: Sequence[tuple[GateRun, GateRun]], o: MetricOutcome) -> str:
    key = o.subject.key
    unit = UNITS[o.threshold.metric]
    title = f"{key} {o.threshold.name}"
    out = [f"<h3>{_e(title)}: {_e(WORDS[o.verdict])}</h3>", f"<p>{_e(o.sentence)}</p>"]
    if o.threshold.test is Test.ERROR_DIFF:
        rows = "".join(
            f"<tr><td>{i}</td><td>{b.cells[key].failures}/{b.cells[key].requests}</td>"
            f"<td>{c.cells[key].failures}/{c.cells[key].requests}</td></tr>"
            for i, (b, c) in enumerate(pairs, 1)
        )
        out.append(
            "<table><tr><th>pair</th><th>baseline failed/requests</th>"
            f"<th>candidate failed/requests</th></tr>{rows}</table>"
        )
        return "".join(out)
    vals = _values(pairs, key, o)
    out.append(_chart(vals, unit, title))
    rows = "".join(
        f"<tr><td>{i}</td><td>{_fmt(b)}</td><td>{_fmt(c)}</td>"
        f"<td>{_fmt(c / b) if b > 0 and math.isfinite(c) else '–'}</td></tr>"
        for i, (b, c) in enumerate(vals, 1)
    )
    out.append(
        f"<table class='pairs'><tr><th>pair</th><th>baseline ({_e(unit)})</th>"
        f"<th>candidate ({_e(unit)})</th><th>candidate / baseline</th></tr>{rows}</table>"
    )
    return "".join(out)


CSS = """
body{font-family:sans-serif;max-width:960px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;
text-align:right}th{background:#f3f3f3}.v-regression{color:#b00;font-weight:bold}
.v-inconclusive{color:#a60;font-weight:bold}.v-pass,.v-improvement{color:#070}
"""


def render_gate(record: GateRecord, a: Assessment) -> str:
    pairs = complete_pairs(record.runs)
    head = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>twinbench gate {_e(record.gate_id)}</title><style>{CSS}</style></head><body>",
        f"<h1>twinbench gate: <span class='v-{a.verdict.value}'>{_e(WORDS[a.verdict])}</span>"
        f" (exit {a.exit_code})</h1>",
        f"<p>{a.pairs} pairs ({_e(DESIGN_WORDS[record.design])}) at {record.rate:g} "
        f"requests/s ({_e(record.rate_source)}); "
        f"{a.discarded} run(s) discarded and replaced; {record.elapsed_s:.0f} s."
        + (f" Stopped early: {_e(record.stopped)}." if record.stopped else "")
        + " <span style='color:#1f77b4'>● baseline</span> "
        "<span style='color:#d62728'>● candidate</span></p>",
        "<table><tr><th>scenario / target</th><th>metric</th><th>verdict</th>"
        "<th>candidate / baseline [95 % CI]</th><th>pairs</th><th>noise per pair</th>"
        "<th>smallest detectable</th></tr>",
    ]
    for o in a.outcomes:
        e = o.estimate
        ratio = (
            f"{e.ratio:.3f}" + (f" [{e.low:.3f}–{e.high:.3f}]" if math.isfinite(e.low) else "")
            if e
            else "–"
        )
        head.append(
            f"<tr><td>{_e(o.subject.key)}</td><td>{_e(o.threshold.name)}</td>"
            f"<td class='v-{o.verdict.value}'>{_e(WORDS[o.verdict])}</td><td>{ratio}</td>"
            f"<td>{e.n if e else '–'}</td>"
            f"<td>{f'±{e.noise * 100:.1f} %' if e and math.isfinite(e.noise) else '–'}</td>"
            f"<td>{f'{e.sde * 100:+.1f} %' if e and math.isfinite(e.sde) else '–'}</td></tr>"
        )
    head.append("</table>")
    sat = record.saturation_figures
    if sat:
        head.append(
            "<h2>Throughput at saturation</h2><p>Closed-model runs after the verdict (ABBA, a "
            "fresh server each): reported, not gated.</p><ul>"
            + "".join(f"<li id='saturation-{_e(f.subject.key)}'>{_e(f.text)}</li>" for f in sat)
            + "</ul>"
        )
    body = ["<h2>Pair by pair</h2>"] + [_metric_section(pairs, o) for o in a.outcomes]
    runs = "".join(
        f"<tr><td>{r.order}</td><td>{r.pair}</td><td>{r.side.value}</td>"
        f"<td>{'kept' if r.kept else _e('discarded: ' + r.reason)}</td>"
        f"<td>{_e(record.folders.get(r.order, ''))}</td></tr>"
        for r in record.runs
    )
    body.append(
        "<h2>Every run</h2><table><tr><th>run</th><th>pair</th><th>side</th><th>kept</th>"
        f"<th>folder</th></tr>{runs}</table>"
    )
    b, c = record.sides
    rows = [
        ("given as", b.spec, c.spec),
        ("revision", b.revision, c.revision),
        ("Python", f"{b.python_version} {b.python}", f"{c.python_version} {c.python}"),
        ("config", b.config or "–", c.config or "–"),
        *((p, b.packages.get(p, "?"), c.packages.get(p, "?")) for p in PACKAGES_SHOWN),
    ]
    body.append(
        "<h2>Both sides</h2><table><tr><th></th><th>baseline</th><th>candidate</th></tr>"
        + "".join(f"<tr><td>{_e(k)}</td><td>{_e(x)}</td><td>{_e(y)}</td></tr>" for k, x, y in rows)
        + "</table></body></html>"
    )
    return "".join(head + body)
