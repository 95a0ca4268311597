"""CPU-bound: GET /api/cpu?n=N (``--tb-cpu-n``, default 10000, or the plan's params.cpu_n)."""

from __future__ import annotations

from typing import Any

from locust import FastHttpUser, task
from twinload import setup
from twinload.params import param

DEFAULT_N = 10_000


def _options(parser: Any) -> None:
    parser.add_argument("--tb-cpu-n", type=int, default=DEFAULT_N, help="work size n of /api/cpu")


class CpuUser(FastHttpUser):
    @task
    def cpu(self) -> None:
        n = int(param(self, "cpu_n", DEFAULT_N))
        self.client.get(f"/api/cpu?n={n}", name=f"/api/cpu?n={n}")


setup("cpu", [CpuUser], extra_options=_options)
