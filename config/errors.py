"""The one exception that configuration raises: it names the file, the key and the fix."""

from __future__ import annotations

from pydantic import ValidationError


class ConfigError(Exception):
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
