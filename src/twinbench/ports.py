"""Loopback ports: find a free one, or fail clearly on a busy one."""

from __future__ import annotations

import ipaddress
import socket

from .errors import PortBusyError, UsageError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port_free(host: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise UsageError(f"--port {port} is not a TCP port (1-65535)")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        # No SO_REUSEADDR: we want to see a port another process is listening on.
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PortBusyError(f"port {port} on {host} is busy ({exc.strerror})") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
