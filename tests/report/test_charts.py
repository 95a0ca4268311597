"""Charts: inline-safe SVG, text kept as text, reproducible, invalid points drawn grey."""

from __future__ import annotations

import re

from twinbench.report.charts import (
    INVALID_COLOUR,
    Bar,
    Series,
    bar_chart,
    cdf_chart,
    colour_map,
    line_chart,
    percentile_chart,
    thin_cdf,
)

SERIES = (
    Series("flask-gunicorn-sync", ((4, 100.0), (16, 180.0)), True, ((64, 170.0),)),
    Series("fastapi-uvicorn", ((4, 120.0), (16, 260.0), (64, 300.0)), False),
)


def _external_refs(svg: str) -> list[str]:
    """URLs other than XML namespace declarations (which browsers never fetch)."""
    refs = re.findall(r"""(?:href|src)\s*=\s*["']([^"']+)""", svg)
    refs += re.findall(r"url\(\s*['\"]?(?!#)([^)'\"]+)", svg)
    refs += re.findall(r"@import", svg)
    return [r for r in refs if not r.startswith("#")]


def test_line_chart_is_inline_svg_without_external_references() -> None:
    svg = line_chart("t-1", "throughput", "users", "req/s", SERIES)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert _external_refs(svg) == []
    assert "<image" not in svg  # nothing rasterized
    assert ">throughput<" in svg  # svg.fonttype none: text stays text, not glyph paths
    assert "DejaVuSans-" not in svg


def test_invalid_points_are_drawn_grey_and_labelled() -> None:
    svg = line_chart("t-2", "throughput", "users", "req/s", SERIES)
    assert INVALID_COLOUR in svg
    assert "flask-gunicorn-sync (invalid)" in svg


def test_same_input_same_bytes_and_distinct_ids_per_chart() -> None:
    a = line_chart("a", "x", "users", "req/s", SERIES)
    assert a == line_chart("a", "x", "users", "req/s", SERIES)
    b = line_chart("b", "x", "users", "req/s", SERIES)
    ids_a = set(re.findall(r'id="([^"]+)"', a))
    ids_b = set(re.findall(r'id="([^"]+)"', b))
    assert ids_a and not (ids_a & ids_b)


def test_panel_cdf_and_bar_charts_render_their_labels() -> None:
    pct = percentile_chart("p", "latency", "users", [("p50", SERIES), ("p99", SERIES)])
    assert ">p50<" in pct and ">p99<" in pct and ">invalid<" in pct
    cdf = cdf_chart("c", "cdf", [Series("x", ((1.0, 0.5), (2.0, 0.9), (30.0, 1.0)), False)])
    assert "latency (ms, log scale)" in cdf
    bars = bar_chart(
        "b", "cpu", "µs/req", [Bar("a", 3.0, True), Bar("b", 2.0, False, invalid=True)]
    )
    assert "2 (invalid)" in bars and INVALID_COLOUR in bars


def test_charts_stay_small() -> None:
    assert len(line_chart("s", "x", "users", "req/s", SERIES)) < 40_000
    pts = tuple((float(i), i / 1000) for i in range(1, 1001))
    assert len(cdf_chart("s2", "cdf", [Series("x", thin_cdf(pts), True)])) < 60_000


def test_colours_are_stable_and_split_by_framework() -> None:
    m = colour_map([("b-flask", True), ("a-flask", True), ("fa", False)])
    assert m == colour_map([("fa", False), ("a-flask", True), ("b-flask", True)])
    assert len(set(m.values())) == 3


def test_thin_cdf_keeps_the_ends() -> None:
    pts = [(float(i), i / 999) for i in range(1000)]
    thin = thin_cdf(pts, 50)
    assert len(thin) == 50 and thin[0] == pts[0] and thin[-1] == pts[-1]
    assert thin_cdf(pts[:10], 50) == tuple(pts[:10])


def test_cdf_draws_an_invalid_series_grey_under_its_label() -> None:
    grey = Series("flask (invalid)", (), True, ((1.0, 0.5), (2.0, 0.9), (30.0, 1.0)))
    svg = cdf_chart("g", "cdf", [grey])
    assert INVALID_COLOUR in svg and "flask (invalid)" in svg


def test_cdf_with_nothing_to_draw_still_renders_and_says_so() -> None:
    svg = cdf_chart("e", "cdf of nothing", [])
    assert svg.startswith("<svg") and "nothing measured to draw" in svg


def test_bar_note_replaces_the_bare_value() -> None:
    svg = bar_chart(
        "n",
        "capacity",
        "users",
        [Bar("sync", 0.0, True, invalid=True, note="none (below the lowest level, 16 users)")],
    )
    assert "none (below the lowest level, 16 users)" in svg and "0 (invalid)" not in svg


def test_error_bars_of_equal_repeats_do_not_break_the_chart() -> None:
    vals = [0.1, 0.1, 0.1]
    mean = sum(vals) / len(vals)
    assert mean > max(vals)  # float rounding: the mean lands an ulp above every value
    assert bar_chart("eq", "memory", "MB", [Bar("a", mean, True, min(vals), max(vals))])
