"""App configuration, read from the environment (set by `twinbench serve`)."""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .pools import ACQUIRE_TIMEOUT_S

DEFAULT_DATABASE_URL = "sqlite:///.twinbench/twinbench.sqlite3"
DEFAULT_UPSTREAM_URL = "http://127.0.0.1:8100"
DEFAULT_POOL_SIZE = 4


class DatabaseKind(enum.Enum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


class ConfigError(ValueError):
    """A configuration value the apps cannot use; the message names it."""


@dataclass(frozen=True)
class DatabaseURL:
    kind: DatabaseKind
    url: str  # for PostgreSQL: a libpq/asyncpg URL; for SQLite: the original URL

    @property
    def sqlite_path(self) -> str:
        """The file path of an SQLite URL (`sqlite:///rel/path` or `sqlite:////abs/path`)."""
        if self.kind is not DatabaseKind.SQLITE:
            raise ConfigError(f"not an SQLite URL: {self.url}")
        return self.url[len("sqlite:///") :]

    @property
    def display(self) -> str:
        """The URL without a password, for logs and reports."""
        parts = urlsplit(self.url)
        if parts.password:
            return self.url.replace(f":{parts.password}@", ":***@")
        return self.url


def parse_database_url(url: str) -> DatabaseURL:
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return DatabaseURL(DatabaseKind.SQLITE, url)
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:  # "Invalid IPv6 URL" for postgresql://[bad
        raise ConfigError(f"bad database URL {url!r}: {exc}") from None
    if scheme in ("postgresql", "postgres"):
        return DatabaseURL(DatabaseKind.POSTGRES, "postgresql" + url[len(scheme) :])
    raise ConfigError(
        f"unsupported database URL {url!r}: use postgresql://user@host:port/db or sqlite:///path"
    )


@dataclass(frozen=True)
class AppConfig:
    database: DatabaseURL
    upstream_url: str
    pool_size: int
    # How long a request waits for a pooled connection before its 503 (apps/common/pools.py).
    # Not an environment setting: both twins use the same 30 s; tests shorten it in-process.
    pool_timeout_s: float = ACQUIRE_TIMEOUT_S

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppConfig:
        env = os.environ if env is None else env
        raw_pool = env.get("TWINBENCH_DB_POOL_SIZE", str(DEFAULT_POOL_SIZE))
        try:
            pool_size = int(raw_pool)
        except ValueError:
            raise ConfigError(
                f"TWINBENCH_DB_POOL_SIZE must be an integer, not {raw_pool!r}"
            ) from None
        if pool_size < 1:
            raise ConfigError(f"TWINBENCH_DB_POOL_SIZE must be at least 1, not {pool_size}")
        return cls(
            database=parse_database_url(env.get("TWINBENCH_DATABASE_URL", DEFAULT_DATABASE_URL)),
            upstream_url=env.get("TWINBENCH_UPSTREAM_URL", DEFAULT_UPSTREAM_URL).rstrip("/"),
            pool_size=pool_size,
        )
