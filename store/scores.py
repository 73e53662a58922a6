"""How a stored score is read back: the one SQL expression for the probability of its stance,
and the one for whether it carries a theme.

Reads only; the classifier writes scores. Every figure labelled with a stance (a digest line,
the /label reply) takes its number from ``stance_probability_sql`` so they cannot disagree;
every count of posts with a theme asks ``theme_present_sql`` (the theme head's own threshold,
decided when the post was scored).
"""

from __future__ import annotations

from config.themes import STANCE_NAMES

# The ``scores`` column that holds each stance's probability.
PROBABILITY_COLUMNS = {stance: f"p_{stance}" for stance in STANCE_NAMES}


def stance_probability_sql(alias: str = "s") -> str:
    """SQL for the probability of the row's own stance (``alias`` names the scores table)."""
    cases = " ".join(f"WHEN '{stance}' THEN {alias}.{column}"
                     for stance, column in PROBABILITY_COLUMNS.items())
    return f"CASE {alias}.stance {cases} END"


def theme_present_sql(alias: str = "s") -> str:
    """SQL that is 1 when the score carries the theme bound to its one ``?`` parameter."""
    return f"EXISTS (SELECT 1 FROM json_each({alias}.themes_present) WHERE value = ?)"
