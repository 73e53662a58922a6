"""The docs keep up with the code: every CLI command and subcommand, and every bot command, has
help text and a row in README.md's command tables, and every setting a row in its
configuration table (after sqlite-utils' tests/test_docs.py)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.commands import COMMANDS, Command
from config.settings import Settings
from riftwatch.cli import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


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


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_is_in_readme_configuration_table(name: str) -> None:
    variable = f"RIFTWATCH_{name.upper()}"
    rows = [line for line in README.splitlines() if line.startswith("| ") and variable in line]
    assert re.search(rf"`{variable}`", "\n".join(rows)), f"{variable} has no README row"
