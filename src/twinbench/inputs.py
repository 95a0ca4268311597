"""Files a user hands twinbench, read and parsed: a config file (twinbench.toml) and a claims
ledger. Reading is here; parsing is define's (pure), so every mistake is one line naming the
file and the key.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from twinbench import packaged
from twinbench.define.claims import Claim, parse_claims
from twinbench.define.config import Config, parse_config, parse_targets
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
    return parse_targets(_read(path, "--config"), str(path), str(path.parent.resolve()))


def load_config(path: Path) -> Config:
    """A config file with its paths made absolute (relative to its folder), each target's
    folder and each scenario's locustfile checked, and each locustfile's SHA-256 recorded."""
    config = parse_config(_read(path, "--config"), str(path), str(path.parent.resolve()))
    for t in config.targets:
        if t.cwd and not Path(t.cwd).is_dir():
            raise UsageError(f"{path}: target {t.name}: cwd {t.cwd} is not a folder")
    scenarios = []
    for sc in config.scenarios:
        file = Path(sc.locustfile)
        try:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError as exc:
            raise UsageError(
                f"{path}: scenario {sc.name}: locustfile {file}: {exc.strerror or exc}"
            ) from None
        scenarios.append(dataclasses.replace(sc, locustfile_sha256=digest))
    return dataclasses.replace(config, scenarios=tuple(scenarios))


def load_claims(path: Path | None = None) -> tuple[Claim, ...]:
    """The claims ledger at `path`, or the seed claims that ship with twinbench."""
    path = path or packaged.claims_ledger()
    return parse_claims(_read(path, "claims ledger"), str(path))
