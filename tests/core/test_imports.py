"""The project's imports, read with ast: no module imports itself round a circle, and every
third-party module imported is a dependency declared in pyproject.toml."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGES = ("amplification", "bot", "classifiers", "config", "digest", "monitors", "riftwatch",
            "store")


def _module_files() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = _module_files()


def _imported_names(name: str, path: Path) -> Iterator[str]:
    """Dotted names imported anywhere in the file (top level, functions, TYPE_CHECKING)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _project_module(imported: str) -> str | None:
    """The longest project module that ``imported`` names (a module, or a name inside one)."""
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        targets = {_project_module(imported) for imported in _imported_names(name, path)}
        graph[name] = {target for target in targets if target and target != name}
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that returns to its start, or None (depth-first, three colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target):], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_the_project_modules() -> None:
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def _declared_distributions() -> set[str]:
    optional = PYPROJECT["project"].get("optional-dependencies", {})
    requirements = [*PYPROJECT["project"]["dependencies"],
                    *(req for group in optional.values() for req in group)]
    return {_canonical(re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0]) for req in requirements}


def _canonical(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level modules imported from outside the project and the standard library."""
    found: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        for imported in _imported_names(name, path):
            top = imported.split(".")[0]
            if top and top not in PACKAGES and top not in sys.stdlib_module_names:
                found.setdefault(top, set()).add(name)
    return found


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared = _declared_distributions()
    providers = packages_distributions()
    undeclared = {
        top: sorted(users) for top, users in _third_party_imports().items()
        if not {_canonical(dist) for dist in providers.get(top, [top])} & declared
    }
    assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"
