"""The theme taxonomy and the attack targets, from a TOML file that users may edit.

A theme is a name, a description and a few example sentences; a new theme needs no code.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.errors import ConfigError, config_error_from_validation
from config.toml_file import read_toml

RIFT_THEMES = ("mod_criticism", "wagner_vs_army", "chechen_feud", "kremlin_criticism")


class Theme(BaseModel):
    """One infighting theme."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    label: str
    description: str = Field(min_length=3)
    examples: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)

    @property
    def is_rift(self) -> bool:
        return self.name in RIFT_THEMES


class Target(BaseModel):
    """One party that posts attack: found by its aliases (lower-case word stems)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    label: str
    aliases: list[str] = Field(min_length=1)


STANCE_NAMES = ("supportive", "critical", "alarmed", "neutral")


class Stance(BaseModel):
    """One stance label with a description and example sentences (used as prototypes)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^(supportive|critical|alarmed|neutral)$")
    description: str = Field(min_length=3)
    examples: list[str] = Field(default_factory=list)


class Taxonomy(BaseModel):
    """Themes and targets together, as read from the file."""

    model_config = ConfigDict(extra="forbid")

    themes: list[Theme] = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)
    stances: list[Stance] = Field(default_factory=list)

    def theme_names(self) -> list[str]:
        return [theme.name for theme in self.themes]


def load_themes(path: Path) -> Taxonomy:
    """Read the taxonomy TOML (``[[theme]]`` and ``[[target]]`` tables)."""
    source = str(path)
    data = read_toml(path, "RIFTWATCH_THEMES_FILE")
    try:
        taxonomy = Taxonomy(themes=data.get("theme", []), targets=data.get("target", []),
                            stances=data.get("stance", []))
    except ValidationError as exc:
        raise config_error_from_validation(
            source, exc, fix_hint="each [[theme]] needs name (lower_snake), label, description"
        ) from None
    names = taxonomy.theme_names()
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(source, "theme.name", f"duplicate theme {duplicates[0]!r}",
                          "give every theme a unique name")
    return taxonomy
