"""The mock upstream: the "slow external API / LLM call" both twins' `/api/upstream` calls.

A raw ASGI callable (no framework) so that thousands of concurrent waits cost the mock as
little as possible: it must never be the bottleneck of a benchmark. Run it with
`python -m twinbench.apps.upstream --host 127.0.0.1 --port P`.
"""

from __future__ import annotations

from twinbench.apps.upstream.app import (
    DEFAULT_INTERVAL_MS,
    DEFAULT_TOKENS,
    MAX_DELAY_MS,
    MAX_INTERVAL_MS,
    MAX_TOKENS,
    create_app,
)

__all__ = [
    "DEFAULT_INTERVAL_MS",
    "DEFAULT_TOKENS",
    "MAX_DELAY_MS",
    "MAX_INTERVAL_MS",
    "MAX_TOKENS",
    "create_app",
]
