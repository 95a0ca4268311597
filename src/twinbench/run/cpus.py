"""CPU lists ("0", "0,2", "1-3") for pinning. Pure parsing plus one affinity look-up."""

from __future__ import annotations

import os

from twinbench.errors import UsageError


def parse_cpu_list(text: str) -> tuple[int, ...]:
    """'0,2-3' → (0, 2, 3). Raises UsageError naming the bad value."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise UsageError(f"bad CPU list {text!r}: empty item")
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo > hi:
                    raise ValueError
                cpus.update(range(lo, hi + 1))
            else:
                cpus.add(int(part))
        except ValueError:
            raise UsageError(
                f"bad CPU list {text!r}: {part!r} is not a CPU number or range"
            ) from None
    if any(c < 0 for c in cpus):
        raise UsageError(f"bad CPU list {text!r}: CPU numbers start at 0")
    return tuple(sorted(cpus))


def available_cpus() -> tuple[int, ...]:
    return tuple(sorted(os.sched_getaffinity(0)))


def check_available(cpus: tuple[int, ...]) -> tuple[int, ...]:
    have = available_cpus()
    missing = [c for c in cpus if c not in have]
    if missing:
        raise UsageError(
            f"CPU {missing[0]} is not available here (this machine offers "
            f"{','.join(map(str, have))})"
        )
    return cpus


def format_cpu_list(cpus: tuple[int, ...] | None) -> str:
    return ",".join(map(str, cpus)) if cpus else "any"
