"""The command line: a thin layer over define, run, results and report."""

from twinbench.cli.app import cli, main

__all__ = ["cli", "main"]
