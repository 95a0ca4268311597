"""Charts as inline SVG strings (matplotlib, Agg). Pure: no file I/O, no pyplot global state.

Each chart is small on purpose: text stays text (`svg.fonttype: none`, so no glyph paths),
nothing is rasterized, and callers pass few points (one per load level, a CDF thinned to a
couple of hundred points). The SVG carries no date and hashes ids with a per-chart salt, so
the same results give the same bytes and two charts on one page never share an element id.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: no display, ever

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter, NullLocator

FLASK_COLOURS = ("#1f5fa8", "#2a9d8f", "#6a4c93", "#4d908e", "#277da1")
FASTAPI_COLOURS = ("#d1495b", "#e76f51", "#c9184a", "#f4a261")
INVALID_COLOUR = "#9a9a9a"
# Any: matplotlib's stubs type rc keys as a Literal union, which a dict literal never matches.
_RC: Any = {
    "svg.fonttype": "none",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 7,
    "legend.frameon": False,
}


@dataclass(frozen=True)
class Series:
    """One target's line. `invalid` points are drawn grey and hollow, never dropped."""

    label: str
    points: tuple[tuple[float, float], ...]
    flask: bool  # Flask lines are dashed, FastAPI solid: readable without colour
    invalid: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    flask: bool
    low: float | None = None  # error bar (e.g. min over repeats)
    high: float | None = None
    invalid: bool = False
    note: str = ""  # printed instead of the bare value, e.g. "none (below the lowest level)"


def colour_map(labels: Sequence[tuple[str, bool]]) -> dict[str, str]:
    """label → colour, stable for a given set of (label, is_flask): same target, same colour."""
    flask = sorted({lab for lab, f in labels if f})
    fastapi = sorted({lab for lab, f in labels if not f})
    out = {lab: FLASK_COLOURS[i % len(FLASK_COLOURS)] for i, lab in enumerate(flask)}
    out.update({lab: FASTAPI_COLOURS[i % len(FASTAPI_COLOURS)] for i, lab in enumerate(fastapi)})
    return out


def _svg(fig: Figure, salt: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    # Inline use: drop the XML prologue and DOCTYPE; let CSS size it (max-width: 100%).
    text = text[text.index("<svg") :]
    text = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", text, count=1)
    # matplotlib numbers its groups per figure (figure_1, line2d_1, ...): prefix every id and
    # every reference to one, so many charts in one page never share an id.
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", salt)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    return text.replace("<svg", f'<svg role="img" aria-label="{_attr(salt)}"', 1)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _figure(
    width: float = 6.0, height: float = 3.0, ncols: int = 1, **margins: float
) -> tuple[Figure, list[Axes]]:
    # Fixed margins, not a layout engine: constrained layout doubles the time of a chart,
    # and the report draws dozens of them within its 20 s budget.
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height))
        fig.subplots_adjust(**({"left": 0.12, "right": 0.97, "top": 0.9, "bottom": 0.16} | margins))
        axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def _load_axis(ax: Axes, series: Sequence[Series]) -> None:
    """Ticks at the measured loads (4, 16, 64 users), not matplotlib's 15.2, 15.4, ..."""
    xs = sorted({x for s in series for x, _ in (*s.points, *s.invalid)})
    if 0 < len(xs) <= 8:
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
        if len(xs) == 1:
            ax.set_xlim(xs[0] * 0.5, xs[0] * 1.5)


def _plain_log(ax: Axes) -> None:
    """Log scale with plain labels (30, not 3×10¹): latencies are read, not admired."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _draw_series(ax: Axes, series: Sequence[Series], colours: dict[str, str]) -> None:
    for s in series:
        colour = colours.get(s.label, "#333333")
        style = "--" if s.flask else "-"
        if s.points:
            xs, ys = zip(*sorted(s.points), strict=True)
            ax.plot(xs, ys, style, marker="o", ms=3, lw=1.3, color=colour, label=s.label)
        if s.invalid:
            xs, ys = zip(*sorted(s.invalid), strict=True)
            label = f"{s.label} (invalid)"
            ax.plot(xs, ys, "o", ms=5, mfc=INVALID_COLOUR, mec=colour, alpha=0.6, label=label)


def line_chart(
    chart_id: str,
    title: str,
    xlabel: str,
    ylabel: str,
    series: Sequence[Series],
    *,
    logx: bool = False,
    logy: bool = False,
) -> str:
    with matplotlib.rc_context(_RC):
        fig, (ax,) = _figure()
        colours = colour_map([(s.label, s.flask) for s in series])
        _draw_series(ax, series, colours)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        _load_axis(ax, series)
        if logx:
            ax.set_xscale("log")
        if logy:
            _plain_log(ax)
        ax.grid(True, lw=0.3, alpha=0.5)
        if series:
            ax.legend(loc="best")
        return _svg(fig, chart_id)


def percentile_chart(
    chart_id: str,
    title: str,
    xlabel: str,
    percentiles: Sequence[tuple[str, Sequence[Series]]],
) -> str:
    """Latency percentiles against load on one log axis: colour = target, marker = percentile.

    One axes, not one panel per percentile: four log-scaled panels cost a second per chart,
    and the report draws one per scenario.
    """
    markers = ("o", "s", "^", "D", "v")
    with matplotlib.rc_context(_RC):
        fig, (ax,) = _figure(width=6.0, height=3.2, right=0.74)
        labels = sorted({(s.label, s.flask) for _, ss in percentiles for s in ss})
        colours = colour_map(labels)
        for (_, series), marker in zip(percentiles, markers, strict=False):
            for s in series:
                colour = colours[s.label]
                if s.points:
                    xs, ys = zip(*sorted(s.points), strict=True)
                    ax.plot(xs, ys, "--" if s.flask else "-", marker=marker, ms=3.5, lw=1,
                            color=colour)  # fmt: skip
                if s.invalid:
                    xs, ys = zip(*sorted(s.invalid), strict=True)
                    ax.plot(xs, ys, marker, ms=5, mfc=INVALID_COLOUR, mec=colour, alpha=0.6)
        # Two legends in one: targets by colour and style, percentiles by marker.
        handles = [
            Line2D([], [], color=colours[lab], ls="--" if flask else "-", label=lab)
            for lab, flask in labels
        ]
        handles += [
            Line2D([], [], color="#444444", marker=m, ls="none", label=name)
            for (name, _), m in zip(percentiles, markers, strict=False)
        ]
        grey = Line2D([], [], color="#444444", marker="o", mfc=INVALID_COLOUR, ls="none")
        grey.set_label("invalid")
        handles.append(grey)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        _load_axis(ax, [s for _, ss in percentiles for s in ss])
        _plain_log(ax)
        ax.set(title=title, xlabel=xlabel, ylabel="latency (ms, log scale)")
        ax.grid(True, lw=0.3, alpha=0.5)
        return _svg(fig, chart_id)


def cdf_chart(chart_id: str, title: str, series: Sequence[Series]) -> str:
    """Latency CDF: points are (latency ms, cumulative fraction) on a log latency axis.

    A series' `invalid` points (a target with no valid cell) are drawn grey and dotted, under
    its own label: shown for what they are, never dropped. Without any series the axes stay,
    empty, with a note: the chart is required even when nothing could be drawn.
    """
    lines = max(title.count("\n") + 1, 1)
    with matplotlib.rc_context(_RC):
        fig, (ax,) = _figure(height=2.8 + 0.18 * lines, top=1 - (0.1 + 0.06 * lines))
        colours = colour_map([(s.label, s.flask) for s in series])
        drawn = False
        for s in series:
            for pts, grey in ((s.points, False), (s.invalid, True)):
                if not pts:
                    continue
                xs, ys = zip(*pts, strict=True)
                colour = INVALID_COLOUR if grey else colours[s.label]
                ax.step(xs, ys, where="post", ls=":" if grey else "--" if s.flask else "-",
                        lw=1.6 if grey else 1.2, color=colour, label=s.label)  # fmt: skip
                drawn = True
        if not drawn:
            ax.text(0.5, 0.5, "nothing measured to draw", transform=ax.transAxes,
                    ha="center", va="center", color=INVALID_COLOUR)  # fmt: skip
            ax.set_xlim(0.1, 1000)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set(title=title, xlabel="latency (ms, log scale)", ylabel="fraction of requests")
        ax.set_ylim(0, 1.0)
        ax.grid(True, lw=0.3, alpha=0.5, which="both")
        if drawn:
            ax.legend(loc="lower right")
        return _svg(fig, chart_id)


def bar_chart(chart_id: str, title: str, ylabel: str, bars: Sequence[Bar]) -> str:
    """Horizontal bars, one per target; invalid bars grey and hatched."""
    with matplotlib.rc_context(_RC):
        top = 0.3 + 0.15 * title.count("\n")
        height = 0.3 * max(len(bars), 1) + 0.6 + top
        fig, (ax,) = _figure(height=height, left=0.3, bottom=0.55 / height, top=1 - top / height)
        colours = colour_map([(b.label, b.flask) for b in bars])
        for i, b in enumerate(bars):
            colour = INVALID_COLOUR if b.invalid else colours[b.label]
            ax.barh(i, b.value, color=colour, hatch="//" if b.invalid else None, height=0.6)
            if b.low is not None and b.high is not None:
                # max(0, ...): a mean of equal values can land an ulp outside them.
                err = [[max(0.0, b.value - b.low)], [max(0.0, b.high - b.value)]]
                ax.errorbar(b.value, i, xerr=err,
                            color="#222222", capsize=2, lw=0.8)  # fmt: skip
            suffix = " (invalid)" if b.invalid and not b.note else ""
            ax.annotate(b.note or f"{_fmt(b.value)}{suffix}", (b.value, i), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=7)  # fmt: skip
        ax.set_yticks(range(len(bars)), [b.label for b in bars])
        ax.invert_yaxis()
        ax.set(title=title, xlabel=ylabel)
        ax.margins(x=0.25)
        return _svg(fig, chart_id)


def thin_cdf(
    values_and_fractions: Sequence[tuple[float, float]], limit: int = 200
) -> tuple[tuple[float, float], ...]:
    """Keep at most `limit` points of a CDF, always the first and last (the tail matters)."""
    pts = list(values_and_fractions)
    if len(pts) <= limit:
        return tuple(pts)
    step = (len(pts) - 1) / (limit - 1)
    return tuple(pts[round(i * step)] for i in range(limit))


# -- the first screen's summary chart --------------------------------------------------------
BETTER_COLOUR = "#1b7f5a"
WORSE_COLOUR = "#c0392b"
EVEN_COLOUR = "#555555"
CLAIM_COLOUR = "#e08e0b"


@dataclass(frozen=True)
class RatioPoint:
    """One FastAPI/Flask ratio in one panel of the summary chart.

    kind: "measured" (filled, solid interval), "estimated" (hollow diamond, dashed interval),
    "at least" / "at most" (a bound: hollow triangle pointing the open way), "missing"
    (the reason, in grey italics). outcome: "better", "worse" or anything else (grey).
    """

    row: int
    panel: int
    kind: str
    ratio: float | None = None
    low: float | None = None
    high: float | None = None
    outcome: str = ""
    label: str = ""  # printed beside the point: "1.23×", "≈ 2.66×", "in flight 1.04×"
    claims: tuple[tuple[str, float], ...] = ()  # (claim id, claimed FastAPI/Flask ratio)
    gid: str = ""  # the SVG id of the point's group (tests find the drawn marks by it)


def _colour(outcome: str) -> str:
    return {"better": BETTER_COLOUR, "worse": WORSE_COLOUR}.get(outcome, EVEN_COLOUR)


def summary_chart(
    chart_id: str,
    rows: Sequence[str],
    panels: Sequence[str],
    points: Sequence[RatioPoint],
) -> str:
    """Rows (scenarios) × panels (figures): FastAPI/Flask ratios on log axes with a line at 1,
    intervals as bars, claimed factors as orange ticks; estimates and bounds hollow, missing
    figures said in words; one legend that names each kind."""
    n = max(len(rows), 1)
    height = 1.25 + (0.42 if n <= 8 else 0.34) * n  # a full run's 13 rows stay on one screen
    values = [v for p in points for v in (p.ratio, p.low, p.high) if v and v > 0]
    values += [r for p in points for _, r in p.claims if r > 0]
    lo, hi = min([*values, 1.0]), max([*values, 1.0])
    lo, hi = lo / 1.6, hi * 1.6
    with matplotlib.rc_context(_RC):
        fig, axes = _figure(
            width=11.6, height=height, ncols=len(panels), left=0.1, right=0.99,
            top=1 - 0.55 / height, bottom=0.72 / height, wspace=0.08,
        )  # fmt: skip
        for i, (ax, title) in enumerate(zip(axes, panels, strict=True)):
            ax.set_xscale("log")
            ax.set_xlim(lo, hi)
            ax.set_ylim(n - 0.5, -0.6)
            ax.axvline(1.0, color="#222222", lw=1.0, zorder=1)
            # Ticks at powers of two (0.25×, 0.5×, 1×, 2×, 4×): factors are read, not admired.
            ax.set_xticks([t for k in range(-10, 11) if lo <= (t := 2.0**k) <= hi])
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_title(title, fontsize=8.5)
            ax.grid(True, axis="x", lw=0.3, alpha=0.5, which="major")
            ax.set_yticks(range(len(rows)), rows if i == 0 else [""] * len(rows))
            ax.tick_params(axis="y", length=0)
            for y in range(len(rows)):
                if y % 2:
                    ax.axhspan(y - 0.5, y + 0.5, color="#f3f3f3", zorder=0, lw=0)
        for p in points:
            ax = axes[p.panel]
            _draw_ratio(ax, p, lo, hi)
        handles = [
            Line2D([], [], color=EVEN_COLOUR, marker="o", ls="-", label="measured, 95 % interval"),
            Line2D(
                [],
                [],
                color=EVEN_COLOUR,
                marker="D",
                mfc="white",
                ls="--",
                label="estimated from CPU time per request (not measured)",
            ),
            Line2D(
                [],
                [],
                color=EVEN_COLOUR,
                marker=">",
                mfc="white",
                ls="none",
                label="bound (a side met no load level)",
            ),
            Line2D(
                [],
                [],
                color=CLAIM_COLOUR,
                marker="|",
                ms=10,
                mew=2.5,
                ls="none",
                label="claimed factor",
            ),
            Line2D([], [], color=BETTER_COLOUR, lw=4, label="FastAPI significantly better"),
            Line2D([], [], color=WORSE_COLOUR, lw=4, label="FastAPI significantly worse"),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=7,
                   bbox_to_anchor=(0.5, 0.0), handlelength=2.2)  # fmt: skip
        return _svg(fig, chart_id)


def _draw_ratio(ax: Axes, p: RatioPoint, lo: float, hi: float) -> None:
    colour = _colour(p.outcome)
    gid = p.gid or None
    for claim, r in p.claims:
        ax.plot([r], [p.row], marker="|", ms=13, mew=2.5, color=CLAIM_COLOUR, ls="none",
                zorder=2, gid=f"{gid}-claim-{claim}" if gid else None)  # fmt: skip
        ax.annotate(f"claim {r:g}×", (r, p.row), xytext=(0, 8), textcoords="offset points",
                    ha="center", fontsize=6, color=CLAIM_COLOUR)  # fmt: skip
    if p.kind == "missing" or p.ratio is None:
        ax.text(0.5, p.row, p.label or "no valid figure", transform=ax.get_yaxis_transform(),
                ha="center", va="center", fontsize=6.5, style="italic", color=INVALID_COLOUR,
                gid=gid)  # fmt: skip
        return
    x = min(max(p.ratio, lo), hi)
    if p.kind in ("at least", "at most"):
        marker = ">" if p.kind == "at least" else "<"
        end = hi if p.kind == "at least" else lo
        ax.plot([x, end], [p.row, p.row], ls=":", color=colour, lw=1.2, zorder=3)
        ax.plot([x], [p.row], marker=marker, ms=7, mfc="white", mec=colour, mew=1.4,
                ls="none", zorder=4, gid=gid)  # fmt: skip
    else:
        estimated = p.kind == "estimated"
        if p.low is not None and p.high is not None:
            ax.plot([p.low, p.high], [p.row, p.row], ls="--" if estimated else "-",
                    color=colour, lw=1.6, zorder=3, solid_capstyle="butt")  # fmt: skip
            for end in (p.low, p.high):
                ax.plot([end], [p.row], marker="|", ms=6, color=colour, ls="none", zorder=3)
        ax.plot([x], [p.row], marker="D" if estimated else "o", ms=6 if estimated else 5.5,
                mfc="white" if estimated else colour, mec=colour, mew=1.4, ls="none",
                zorder=4, gid=gid)  # fmt: skip
    ax.annotate(p.label, (x, p.row), xytext=(0, -10), textcoords="offset points",
                ha="center", fontsize=6.5, color=colour)  # fmt: skip


# -- several runs: the trend -----------------------------------------------------------------
RATIO_TICKS = (0.1, 0.2, 0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 10, 20, 50)
TREND_COLOURS = ("#1f5fa8", "#d1495b", "#2a9d8f", "#6a4c93", "#e76f51", "#277da1", "#8c564b")


@dataclass(frozen=True)
class TrendSeries:
    """One line across runs; points are (run position, value, low, high, hollow)."""

    label: str
    points: tuple[tuple[int, float, float | None, float | None, bool], ...]
    flask: bool | None = None  # None: not a target (a scenario's ratio): solid, own colour


def trend_chart(
    chart_id: str,
    title: str,
    ylabel: str,
    xlabels: Sequence[str],
    series: Sequence[TrendSeries],
    marks: Sequence[tuple[int, str]] = (),
    *,
    ratio: bool = False,
    width: float = 6.0,
) -> str:
    """Values across runs (x: the runs in time order, labelled with time and commit).

    `marks`: (run position, what changed since the run before), drawn as a dashed line just
    before that run with the change in words. `ratio`: log axis with a line at 1. Hollow
    points are estimates (not measurements); intervals are bars.
    """
    n = max(len(xlabels), 1)
    lines = title.count("\n") + 1
    height = 3.2 + 0.15 * lines
    with matplotlib.rc_context(_RC):
        fig, (ax,) = _figure(
            width=width, height=height, right=0.7, bottom=0.3, top=1 - (0.06 + 0.05 * lines)
        )
        flask = colour_map([(s.label, s.flask) for s in series if s.flask is not None])
        for k, s in enumerate(series):
            colour = flask.get(s.label) or TREND_COLOURS[k % len(TREND_COLOURS)]
            pts = sorted(s.points)
            if not pts:
                continue
            xs = [p[0] for p in pts]
            ys = [p[1] for p in pts]
            ax.plot(xs, ys, "--" if s.flask else "-", color=colour, lw=1.2, label=s.label)
            for x, y, low, high, hollow in pts:
                if low is not None and high is not None:
                    ax.plot([x, x], [low, high], color=colour, lw=1.0, alpha=0.7,
                            ls=":" if hollow else "-")  # fmt: skip
                ax.plot([x], [y], marker="D" if hollow else "o", ms=4.5,
                        mfc="white" if hollow else colour, mec=colour, ls="none")  # fmt: skip
        if ratio:
            _plain_log(ax)
            ax.axhline(1.0, color="#222222", lw=1.0)
            low, high = ax.get_ylim()
            ax.set_yticks([t for t in RATIO_TICKS if low <= t <= high])
            ax.set_ylim(low, high)
        for x, text in marks:
            ax.axvline(x - 0.5, color="#999999", lw=0.8, ls="--")
            ax.annotate(text, (x - 0.5, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", rotation=90,
                        va="top", ha="left", fontsize=6, color="#555555")  # fmt: skip
        ax.set_xticks(range(len(xlabels)), list(xlabels), fontsize=6, rotation=30, ha="right")
        ax.set_xlim(-0.5, n - 0.5)
        ax.set(title=title, ylabel=ylabel)
        ax.grid(True, lw=0.3, alpha=0.5, axis="y")
        if series:
            handles = list(ax.get_legend_handles_labels()[0])
            if any(p[4] for s in series for p in s.points):
                est = Line2D([], [], color="#444444", marker="D", mfc="white", ls="none")
                est.set_label("estimated (not measured)")
                handles.append(est)
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return _svg(fig, chart_id)
