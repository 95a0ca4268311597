"""twinbench: an honest Flask vs FastAPI benchmark and load-testing harness."""

__version__ = "0.1.0"
