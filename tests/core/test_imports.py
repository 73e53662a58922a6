"""The project's imports, read with ast: they run one way down the layers (no folder imports one
beside or above it), no module imports itself round a circle, and every third-party module
imported is a dependency declared in pyproject.toml."""

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


# The layers, lowest first (docs/architecture.md): a module may import its own unit and the units
# of lower layers, never a unit of its own layer or above. A unit is a top-level folder, except
# that classifiers/training/ (which makes and measures the heads) stands above the runtime
# classifiers/ that every scored post goes through. bench/ and tests/ may import anything.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("config",),
    ("store",),
    ("monitors", "classifiers", "amplification"),
    ("classifiers.training", "digest"),
    ("bot",),
    ("riftwatch",),
)
LAYER_OF = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
UPPER_UNITS = ("classifiers.training",)  # units inside a top-level folder


def _unit(module: str) -> str:
    """The unit of the layers a module belongs to."""
    return next((unit for unit in UPPER_UNITS if module == unit or module.startswith(unit + ".")),
                module.split(".")[0])


def wrong_way_imports(graph: dict[str, set[str]]) -> list[str]:
    """'module imports target' for every import of a unit beside or above the module's own."""
    return sorted(f"{module} imports {target}" for module, targets in graph.items()
                  for target in targets
                  if _unit(module) != _unit(target)
                  and LAYER_OF[_unit(target)] >= LAYER_OF[_unit(module)])


def test_the_layer_check_refuses_imports_beside_and_above() -> None:
    graph = {
        "monitors.fetch": {"store.items", "config.settings"},  # down: allowed
        "classifiers.training.train": {"classifiers.heads", "monitors.telegram"},  # down
        "store.feeds": {"monitors.http"},  # up
        "classifiers.scoring": {"amplification.edges"},  # beside
        "classifiers.classifier": {"classifiers.training.protocol"},  # runtime into training
        "digest.compose": {"bot.views"},  # up
    }
    assert wrong_way_imports(graph) == [
        "classifiers.classifier imports classifiers.training.protocol",
        "classifiers.scoring imports amplification.edges",
        "digest.compose imports bot.views",
        "store.feeds imports monitors.http",
    ]


def test_a_module_importing_upward_fails_the_layer_check(tmp_path: Path) -> None:
    """A store module that imports the fetcher, read from a file as the project's are."""
    source = tmp_path / "upward.py"
    source.write_text("from config import Settings\n\n\ndef check() -> None:\n"
                      "    from monitors.http import check_url_allowed\n", encoding="utf-8")
    imported = {_project_module(name) for name in _imported_names("store.upward", source)}
    assert imported == {"config", "monitors.http"}
    assert wrong_way_imports({"store.upward": {"config", "monitors.http"}}) == [
        "store.upward imports monitors.http"]


def test_every_package_has_a_layer() -> None:
    assert {_unit(module) for module in MODULES} <= set(LAYER_OF)


def test_imports_run_one_way_down_the_layers() -> None:
    assert wrong_way_imports(_graph()) == []


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
