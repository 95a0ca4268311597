"""In-process micro-benchmarks a claim needs but no HTTP load can isolate.

"20x faster data validation" (pydantic-20x) is a claim about Pydantic v1 → v2, not about
Flask → FastAPI: both twins use the same Pydantic v2 models, so HTTP cells cannot show it.
It is measured here, in one process: the contract's `ItemIn` written once for `pydantic.v1`
(shipped inside Pydantic 2) and once for v2 (`twinbench.apps.common.models.ItemIn`), validating the
same payload from a dict and from JSON text.

`python -m twinbench.run.micro OUT.json` runs it; the runner starts that as a child pinned to the
target CPUs after the last scenario (the CPUs are idle then), so the figures travel with the
run (micro.json) and carry its machine and commit. `measure` is the part without I/O.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import v1

from twinbench.apps.common.models import ItemIn
from twinbench.results.model import MicroBenchmark, MicroResults, to_json

BATCH = 1000  # validations per timed round: a round lasts milliseconds, far above timer noise
ROUNDS = 15
WARMUP_ROUNDS = 2
PAYLOAD: dict[str, Any] = {"name": "widget", "price": 9.5, "tags": ["red", "blue", "sale"]}
RAW = json.dumps(PAYLOAD)


class ItemInV1(v1.BaseModel):
    """ItemIn as a Pydantic v1 codebase wrote it: the same rules as the v2 model."""

    name: v1.constr(min_length=1, max_length=100)  # type: ignore[valid-type]
    price: v1.confloat(ge=0)  # type: ignore[valid-type]
    tags: v1.conlist(v1.constr(max_length=30), max_items=10) = []  # type: ignore[valid-type]

    class Config:
        extra = v1.Extra.forbid

    @v1.validator("price")
    def finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be finite")
        return value


CASES: tuple[tuple[str, str, Callable[[], object]], ...] = (
    ("pydantic-v1-dict", "v1 ItemIn.parse_obj(dict)", lambda: ItemInV1.parse_obj(PAYLOAD)),
    ("pydantic-v2-dict", "v2 ItemIn.model_validate(dict)", lambda: ItemIn.model_validate(PAYLOAD)),
    ("pydantic-v1-json", "v1 ItemIn.parse_raw(json)", lambda: ItemInV1.parse_raw(RAW)),
    (
        "pydantic-v2-json",
        "v2 ItemIn.model_validate_json(json)",
        lambda: ItemIn.model_validate_json(RAW),
    ),
)


def _round_us(fn: Callable[[], object], batch: int) -> float:
    t0 = time.perf_counter()
    for _ in range(batch):
        fn()
    return (time.perf_counter() - t0) / batch * 1e6


def measure(cpus: tuple[int, ...], rounds: int = ROUNDS, batch: int = BATCH) -> MicroResults:
    """Time every case, rounds interleaved (v1, v2, v1, v2 ...) so drift hits all alike."""
    per: dict[str, list[float]] = {name: [] for name, _, _ in CASES}
    gc.disable()  # a collection landing in one round only would be noise, not validation
    try:
        for r in range(WARMUP_ROUNDS + rounds):
            for name, _, fn in CASES:
                us = _round_us(fn, batch)
                if r >= WARMUP_ROUNDS:
                    per[name].append(round(us, 4))
            gc.collect()
    finally:
        gc.enable()
    return MicroResults(
        cpus=cpus,
        batch=batch,
        benchmarks=tuple(
            MicroBenchmark(name, "validation", desc, tuple(per[name])) for name, desc, _ in CASES
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m twinbench.run.micro",
        description="Pydantic v1 vs v2 validation of the contract's ItemIn, in process.",
    )
    parser.add_argument("out", type=Path, help="where to write the MicroResults JSON")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    result = measure(tuple(sorted(os.sched_getaffinity(0))), rounds=args.rounds)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
