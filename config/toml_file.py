"""Read one TOML configuration file, turning every way it can fail into a ConfigError."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from config.errors import ConfigError


def read_toml(path: Path, variable: str) -> dict[str, Any]:
    """Parse ``path``; ``variable`` is the setting that names it, for the fix hint."""
    source = str(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, "-", "file not found", f"create it or set {variable}") from None
    except UnicodeDecodeError:
        raise ConfigError(source, "-", "not UTF-8 text",
                          f"save it as UTF-8 or point {variable} elsewhere") from None
    except OSError as exc:
        raise ConfigError(source, "-", f"cannot read it ({exc.strerror or exc})",
                          f"point {variable} at a readable TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "-", f"not valid TOML: {exc}",
                          "fix the syntax at that line") from None
