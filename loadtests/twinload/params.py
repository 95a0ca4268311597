"""Scenario parameters: the plan's "params" win over `--tb-...` options, which win over defaults."""

from __future__ import annotations

from typing import Any

from locust import User

from .state import STATE


def param(user: User, name: str, default: Any) -> Any:
    """`name` as in the plan's params (e.g. "upstream_ms"); the option is `--tb-<name>`."""
    if name in STATE.params:
        return STATE.params[name]
    opts = user.environment.parsed_options
    value = getattr(opts, f"tb_{name}", None) if opts is not None else None
    return default if value is None else value


def int_list(value: Any) -> list[int]:
    """[50, 500] or "50,500" -> [50, 500]."""
    if isinstance(value, str):
        return [int(v) for v in value.split(",") if v.strip()]
    if isinstance(value, int | float):
        return [int(value)]
    return [int(v) for v in value]
