"""twinbench's Locust plugin: plan-driven phases, µs HdrHistograms, an open model, WS/SSE users.

Imported by the locustfiles in loadtests/ (Locust puts the locustfile's directory on sys.path).
Never import this from the harness: Locust monkey-patches the interpreter with gevent.
"""

from .plugin import setup
from .state import STATE

__all__ = ["STATE", "setup"]
