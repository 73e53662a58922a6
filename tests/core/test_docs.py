"""The docs keep up with the code: every CLI command and subcommand, and every bot command, has
help text and a row in README.md's command tables; every setting has a row in docs/settings.md,
and the README's short settings table copies rows of it; every relative link in the README, the
changelog and the manual leads to a file and heading that exist, and no page names a tracker
issue by number (after sqlite-utils' tests/test_docs.py)."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.commands import COMMANDS, Command
from config.settings import Settings
from riftwatch.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SETTINGS_PAGE = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
LINKED_PAGES = sorted([ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").glob("*.md"),
                       *(ROOT / "classifiers").glob("*.md")])


def _cli_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                  ) -> Iterator[tuple[tuple[str, ...], str | None]]:
    """Each command and subcommand below ``parser``, as its words and its help text."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, subparser in action.choices.items():
                yield (*path, name), helps.get(name)
                yield from _cli_commands(subparser, (*path, name))


CLI_COMMANDS = dict(_cli_commands(build_parser()))


def test_the_cli_has_commands_to_check() -> None:
    assert ("digest",) in CLI_COMMANDS
    assert ("feeds", "add") in CLI_COMMANDS


@pytest.mark.parametrize("words", sorted(CLI_COMMANDS), ids=" ".join)
def test_cli_command_has_help(words: tuple[str, ...]) -> None:
    assert (CLI_COMMANDS[words] or "").strip(), f"riftwatch {' '.join(words)} has no help="


@pytest.mark.parametrize("words", sorted(CLI_COMMANDS), ids=" ".join)
def test_cli_command_is_in_readme_table(words: tuple[str, ...]) -> None:
    row = re.compile(rf"^\| `riftwatch {re.escape(' '.join(words))}[` ]", re.MULTILINE)
    assert row.search(README), f"README's Commands table has no row for riftwatch {' '.join(words)}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_bot_command_has_usage_and_description(command: Command) -> None:
    assert command.usage.startswith(f"/{command.name}")
    assert command.description.strip()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_bot_command_is_in_readme_table(command: Command) -> None:
    row = re.compile(rf"^\| `/{re.escape(command.name)}[` ]", re.MULTILINE)
    assert row.search(README), f"README's Bot commands table has no row for /{command.name}"


def _setting_rows(page: str) -> list[str]:
    """The rows of a page's settings table: table lines whose first cell is a variable."""
    return [line for line in page.splitlines() if line.startswith("| `RIFTWATCH_")]


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_is_in_settings_page_table(name: str) -> None:
    variable = f"RIFTWATCH_{name.upper()}"
    rows = [row for row in _setting_rows(SETTINGS_PAGE) if f"`{variable}`" in row]
    assert rows, f"{variable} has no row in docs/settings.md"


@pytest.mark.parametrize("row", _setting_rows(SETTINGS_PAGE), ids=lambda row: row.split("`")[1])
def test_settings_page_rows_name_real_settings(row: str) -> None:
    variables = re.findall(r"`RIFTWATCH_(\w+)`", row.split("|")[1])
    unknown = [name for name in variables if name.lower() not in Settings.model_fields]
    assert not unknown, f"docs/settings.md has a row for settings that do not exist: {unknown}"


def _without_link_targets(row: str) -> str:
    """A row as it reads: a link's target differs with the folder of the page that holds it."""
    return re.sub(r"\]\([^)]*\)", "]", row)


def test_readme_settings_rows_are_rows_of_the_settings_page() -> None:
    readme_rows = _setting_rows(README)
    assert readme_rows, "README shows no settings"
    page_rows = {_without_link_targets(row) for row in _setting_rows(SETTINGS_PAGE)}
    differing = [row for row in readme_rows if _without_link_targets(row) not in page_rows]
    assert not differing, f"README settings rows not written as in docs/settings.md: {differing}"


def _heading_anchors(page: Path) -> set[str]:
    """The #anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces
    as hyphens, a -N suffix on repeats."""
    seen: Counter[str] = Counter()
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _without_code_blocks(page.read_text("utf-8")),
                              re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return anchors


def _without_code_blocks(text: str) -> str:
    """The text less its fenced code blocks, whose lines are neither headings nor links."""
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def _relative_links(page: Path) -> list[str]:
    """The targets of a page's Markdown links that name no scheme (http:, mailto:)."""
    targets = re.findall(r"\]\(([^)\s]+)\)", _without_code_blocks(page.read_text("utf-8")))
    return [target for target in targets if not re.match(r"[a-z]+:", target)]


def test_the_manual_has_pages_with_links_to_check() -> None:
    assert ROOT / "docs" / "README.md" in LINKED_PAGES
    assert "docs/settings.md" in _relative_links(ROOT / "README.md")


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for link in _relative_links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link} (no such file)")
        elif anchor and target.suffix == ".md" and anchor not in _heading_anchors(target):
            broken.append(f"{link} (no such heading)")
    assert not broken, f"{page.relative_to(ROOT)} links to {broken}"


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_docs_say_what_not_which_tracker_issue(page: Path) -> None:
    """The tracker is not in the repository: a page says what was asked and why instead."""
    mentions = re.findall(r"\bissues? #?\d+", page.read_text("utf-8"), re.IGNORECASE)
    assert not mentions, f"{page.relative_to(ROOT)} names tracker issues: {mentions}"
