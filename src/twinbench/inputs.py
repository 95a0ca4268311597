"""Files a user hands twinbench, read and parsed: a config file (twinbench.toml) and a claims
ledger. Reading is here; parsing is define's (pure), so every mistake is one line naming the
file and the key.
"""

from __future__ import annotations

from pathlib import Path

from twinbench import packaged
from twinbench.define.claims import Claim, parse_claims
from twinbench.define.config import parse_targets
from twinbench.define.targets import Target
from twinbench.errors import UsageError


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it ({exc.strerror})") from None


def load_targets(path: Path) -> tuple[Target, ...]:
    return parse_targets(_read(path, "--config"), str(path))


def load_claims(path: Path | None = None) -> tuple[Claim, ...]:
    """The claims ledger at `path`, or the seed claims that ship with twinbench."""
    path = path or packaged.claims_ledger()
    return parse_claims(_read(path, "claims ledger"), str(path))
