"""What counts as a positive prediction when a file's labels are yes/no: ``--positive EXPR``.

EXPR is a stance (``critical``), a theme (``theme:mod_criticism``) or a union of them joined
with ``|``. Parsing and matching only; the model and the metrics live elsewhere.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from config.errors import RiftwatchError
from config.themes import STANCE_NAMES

THEME_PREFIX = "theme:"
# Documented in classifiers/MODELS.md ("Evaluating on your own labels"). The critical head
# is trained on labels of exactly this kind (milblog-criticism's is_criticism), so the stance
# alone answers it; the theme probabilities are not calibrated to that definition.
DEFAULT_POSITIVE = {"is_criticism": "critical"}
FALLBACK_POSITIVE = "critical"


class PositiveError(RiftwatchError, ValueError):
    """An expression naming an unknown stance or theme."""


@dataclass(frozen=True)
class PositiveRule:
    """A union of stances and themes; a prediction is positive when any of them holds."""

    expression: str
    stances: frozenset[str]
    themes: frozenset[str]

    def matches(self, stance: str, present_themes: Collection[str]) -> bool:
        """The stance is one of the rule's, or the post carries one of its themes (by each
        theme head's own threshold)."""
        return stance in self.stances or not self.themes.isdisjoint(present_themes)


def default_positive(label_column: str) -> str:
    """The expression used when ``--positive`` is not given, by label column name."""
    return DEFAULT_POSITIVE.get(label_column.strip().lower(), FALLBACK_POSITIVE)


def parse_positive(expression: str, theme_names: Collection[str]) -> PositiveRule:
    """``critical|theme:wagner_vs_army`` → a rule; PositiveError names the bad part."""
    stances: set[str] = set()
    themes: set[str] = set()
    parts = [part.strip().lower() for part in expression.split("|")]
    for part in parts:
        if part in STANCE_NAMES:
            stances.add(part)
        elif part.startswith(THEME_PREFIX) and part.removeprefix(THEME_PREFIX) in theme_names:
            themes.add(part.removeprefix(THEME_PREFIX))
        else:
            raise PositiveError(
                f"{part or '(empty)'!r} in --positive is neither a stance "
                f"({', '.join(STANCE_NAMES)}) nor theme:NAME with NAME one of "
                f"{', '.join(sorted(theme_names))}")
    return PositiveRule("|".join(parts), frozenset(stances), frozenset(themes))
