"""riftwatch's error tree: ``RiftwatchError`` is the root of every expected failure, and
``ConfigError`` (what configuration raises: the file, the key and the fix) is one branch.

Every layer raises a subclass of ``RiftwatchError`` for what a user can cause or mend; the CLI
and the bot catch the root once and turn it into one line. Anything else is a bug and may
surface as a traceback. It lives in ``config`` because every layer may import ``config``.
"""

from __future__ import annotations

from pydantic import ValidationError


class RiftwatchError(Exception):
    """An expected failure; ``str()`` is one line fit for a user."""


class ConfigError(RiftwatchError):
    """Invalid configuration; ``str()`` is one line fit for a user."""

    def __init__(self, source: str, key: str, problem: str, fix: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        self.fix = fix
        super().__init__(f"{source}: {key}: {problem} (fix: {fix})")


def config_error_from_validation(
    source: str, exc: ValidationError, key_prefix: str = "", fix_hint: str = ""
) -> ConfigError:
    """Turn a pydantic ValidationError into a ConfigError naming the first bad key."""
    errors = exc.errors()
    if not errors:
        return ConfigError(source, "?", str(exc), fix_hint or "check the value")
    first = errors[0]
    key = key_prefix + (".".join(str(part) for part in first.get("loc", ())) or "?")
    message = str(first.get("msg", "invalid value"))
    got = first.get("input")
    if got is not None and not isinstance(got, dict | list):
        message = f"{message} (got {got!r})"
    return ConfigError(source, key, message, fix_hint or "correct this value")
