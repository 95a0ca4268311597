"""Helpers for the report's tests: the HTML read back, and an exact bootstrap to check its
intervals against (every resample enumerated, not drawn: independent of twinbench's stats)."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

import numpy as np
import pytest
from scipy import stats as sps

_VOID = {"br", "meta", "img", "hr", "input", "link", "col", "area", "base", "wbr", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def find_all(self, tag: str | None = None, **data: str) -> list[Element]:
        """Descendants with this tag and these data-* values (keys without "data-")."""
        out = []
        for child in self.children:
            wanted = all(
                child.attrs.get(f"data-{k.replace('_', '-')}") == v for k, v in data.items()
            )
            if (tag is None or child.tag == tag) and wanted:
                out.append(child)
            out += child.find_all(tag, **data)
        return out


class Page(HTMLParser):
    """The report as a tree of elements (SVG skipped: charts are tested elsewhere)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("root", {})
        self._stack = [self.root]
        self._svg = 0
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ("href", "src", "xlink:href") and v]
        if tag == "svg" or self._svg:
            self._svg += tag == "svg"
            return
        if tag in ("br", "td", "th", "p", "li", "tr"):  # a visual break is a space in text
            self.handle_data(" ")
        el = Element(tag, {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(el)
        if tag not in _VOID:
            self._stack.append(el)

    def handle_endtag(self, tag: str) -> None:
        if self._svg:
            self._svg -= tag == "svg"
            return
        if tag in _VOID:
            return
        while len(self._stack) > 1:
            el = self._stack.pop()
            if el.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._svg:
            for el in self._stack[1:]:
                el.text += data

    def by_id(self, ident: str) -> Element:
        found = [e for e in _walk(self.root) if e.attrs.get("id") == ident]
        assert len(found) == 1, (ident, len(found))
        return found[0]


def _walk(el: Element) -> list[Element]:
    out = []
    for c in el.children:
        out.append(c)
        out += _walk(c)
    return out


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_RATIO = re.compile(r"^([\d.]+)×(?: \[([\d.]+)–([\d.]+)\])?$")


def parse_ratio(text: str) -> tuple[float, float | None, float | None]:
    m = _RATIO.match(squash(text))
    assert m, text
    low, high = m.group(2), m.group(3)
    return float(m.group(1)), float(low) if low else None, float(high) if high else None


def _resample_means(values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct bootstrap resample's mean, with its probability (multinomial)."""
    n = len(values)
    means, weights = [], []
    for combo in itertools.combinations_with_replacement(range(n), n):
        counts = Counter(combo)
        ways = math.factorial(n)
        for k in counts.values():
            ways //= math.factorial(k)
        means.append(sum(values[i] for i in combo) / n)
        weights.append(ways / n**n)
    return np.array(means), np.array(weights)


def exact_ratio_quantiles(num: list[float], den: list[float], qs: list[float]) -> list[float]:
    """Quantiles of mean(resample of num) / mean(resample of den) over *all* resamples."""
    a, wa = _resample_means(num)
    b, wb = _resample_means(den)
    ratios = np.divide.outer(a, b).ravel()
    weights = np.outer(wa, wb).ravel()
    order = np.argsort(ratios)
    cdf = np.cumsum(weights[order])
    return [float(ratios[order][min(np.searchsorted(cdf, q), cdf.size - 1)]) for q in qs]


EXACT_UP_TO = 6  # repeats per side enumerated exactly (C(11, 6) = 462 resamples a side)


def _scipy_interval(num: list[float], den: list[float]) -> tuple[float, float]:
    res = sps.bootstrap(
        (np.asarray(num), np.asarray(den)),
        lambda x, y, axis: np.mean(x, axis=axis) / np.mean(y, axis=axis),
        n_resamples=20_000,
        method="percentile",
        paired=False,
        vectorized=True,
        random_state=np.random.default_rng(12345),
    ).confidence_interval
    return float(res.low), float(res.high)


def check_interval(
    shown: tuple[float, float | None, float | None], num: list[float], den: list[float]
) -> None:
    """The report's ratio and 95 % interval against the exact bootstrap: the printed point
    is mean/mean to 2 decimals; each printed bound lies between the exact quantiles at
    1 % and 4 % (resp. 96 % and 99 %), which a 4,000-resample estimate of the 2.5 % point
    leaves only with a chance below 1e-5, plus 0.005 for the printing."""
    ratio, low, high = shown
    assert ratio == round(float(np.mean(num) / np.mean(den)), 2)
    if len(num) < 2 or len(den) < 2:
        assert low is None and high is None
        return
    assert low is not None and high is not None
    if max(len(num), len(den)) > EXACT_UP_TO:  # many rounds (micro-benchmarks): scipy's
        s_low, s_high = _scipy_interval(num, den)
        assert low == pytest.approx(s_low, rel=0.01, abs=0.006), (low, s_low)
        assert high == pytest.approx(s_high, rel=0.01, abs=0.006), (high, s_high)
        return
    q01, q04, q96, q99 = exact_ratio_quantiles(num, den, [0.01, 0.04, 0.96, 0.99])
    assert q01 - 0.005 <= low <= q04 + 0.005, (low, q01, q04)
    assert q96 - 0.005 <= high <= q99 + 0.005, (high, q96, q99)


def significance_of(num: list[float], den: list[float]) -> str | None:
    """What the significance cell must say, when the exact bootstrap decides it clearly."""
    if len(num) < 2 or len(den) < 2:
        return "too few repeats"
    if max(len(num), len(den)) > EXACT_UP_TO:
        return None
    q01, q04, q96, q99 = exact_ratio_quantiles(num, den, [0.01, 0.04, 0.96, 0.99])
    if q01 > 1.0 or q99 < 1.0:
        return "significant"
    if q04 < 1.0 < q96:
        return "no significant difference"
    return None  # too close to call between the bootstrap's own noise
