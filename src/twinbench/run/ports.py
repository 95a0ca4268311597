"""Loopback ports: find a free one, or fail clearly on a busy one."""

from __future__ import annotations

import errno
import ipaddress
import socket
from urllib.parse import urlsplit

from twinbench.errors import PortBusyError, UsageError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port_free(host: str, port: int) -> None:
    """Bind once to see whether the server will be able to: one clear line if not."""
    if not 1 <= port <= 65535:
        raise UsageError(f"--port {port} is not a TCP port (1-65535)")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        # No SO_REUSEADDR: we want to see a port another process is listening on.
        try:
            sock.bind((host, port))
        except socket.gaierror as exc:  # before any port is tried: the name itself
            raise UsageError(f"--host {host!r} cannot be resolved ({exc.strerror})") from None
        except OSError as exc:
            raise _bind_error(host, port, exc) from None


def _bind_error(host: str, port: int, exc: OSError) -> UsageError:
    if exc.errno == errno.EADDRINUSE:
        return PortBusyError(f"port {port} on {host} is busy ({exc.strerror})")
    if exc.errno == errno.EADDRNOTAVAIL:
        return UsageError(f"--host {host!r} is not an address of this machine ({exc.strerror})")
    if exc.errno == errno.EACCES:
        return UsageError(f"port {port} on {host} needs privileges to bind ({exc.strerror})")
    return UsageError(f"cannot bind {host} port {port} ({exc.strerror or exc})")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_loopback_http_url(url: str, option: str, allow_remote: bool = False) -> str:
    """`url` as a base URL (no trailing slash) if it is http:// on a loopback host, else a
    UsageError naming the option and the value. The mock upstream is a local test double:
    the apps call it on every /api/upstream request, so a remote one would measure the
    network, and a typo would only show up as 502s in the middle of a run. `allow_remote`:
    another host on purpose (a compose service on its own network)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise UsageError(f"{option} {url!r} is not a URL ({exc})") from None
    if parts.scheme != "http" or not parts.hostname:
        raise UsageError(f"{option} {url!r} must be an http:// URL, e.g. http://127.0.0.1:8100")
    if not is_loopback(parts.hostname) and not allow_remote:
        raise UsageError(
            f"{option} {url!r} must be on a loopback host (127.0.0.1, ::1 or localhost), "
            "or pass --allow-remote"
        )
    if port == 0 or parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"{option} {url!r} must be a base URL: http://host:port[/path]")
    return url.rstrip("/")
