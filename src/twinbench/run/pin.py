"""`python -m twinbench.run.pin CPUS -- argv...`: set CPU affinity (CPUS "-" keeps it), then exec.

Affinity is inherited across fork and exec, so every worker a server forks later stays on
the CPUs; setting it from outside after start would race with the server's first fork.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: python -m twinbench.run.pin 0,1 -- command [args...]")
    if sys.argv[1] != "-":
        os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(",")})
    # If the harness is killed outright (SIGKILL), the kernel sends us SIGTERM: no orphans.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    os.execvp(sys.argv[3], sys.argv[3:])


if __name__ == "__main__":
    main()
