"""The plugin's command-line options (also shown in the web UI)."""

from __future__ import annotations

from typing import Any

LATE_MS_DEFAULT = 10.0


def add_common_options(parser: Any) -> None:
    group = parser.add_argument_group("twinbench", "twinbench plugin (loadtests/README.md)")
    group.add_argument("--tb-plan", default="", help="JSON plan of phases; drives the run")
    group.add_argument("--tb-out", default="", help="JSON-lines output, one line per phase")
    group.add_argument(
        "--tb-model", default="closed", choices=["closed", "open"], help="load model (no plan)"
    )
    group.add_argument("--tb-rate", type=float, default=0.0, help="open model: requests/s")
    group.add_argument(
        "--tb-warmup", type=float, default=0.0, help="seconds not recorded at start (no plan)"
    )
    group.add_argument(
        "--tb-max-inflight",
        type=int,
        default=10_000,
        help="open model: cap of concurrent requests per run (split over worker processes)",
    )
    group.add_argument(
        "--tb-late-ms",
        type=float,
        default=LATE_MS_DEFAULT,
        help="open model: a send starting more than this after its intended time is late",
    )
    group.add_argument(
        "--tb-raw-out",
        default="",
        help="debug: also append each process's unmerged report per phase (JSON lines)",
    )
    group.add_argument(
        "--tb-drain-s",
        type=float,
        default=10.0,
        help="open model: seconds to wait after a window for its in-flight requests",
    )
