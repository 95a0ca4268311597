"""A small error hierarchy; the CLI turns each into one clean line and an exit code."""

from __future__ import annotations


class TwinbenchError(Exception):
    """Base class. `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(TwinbenchError):
    """A bad value from the user (option, config file, URL): the message names it."""

    exit_code = 2


class UnknownTargetError(UsageError):
    pass


class PortBusyError(UsageError):
    pass


class DatabaseUnavailableError(UsageError):
    pass


class ServerStartError(TwinbenchError):
    """A server process exited or never became healthy. Carries the tail of its stderr."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


class ServerDiedError(ServerStartError):
    """A server that was healthy exited while it was being used."""
