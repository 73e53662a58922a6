"""All SQL lives in the store: no module of the other packages writes a query or runs one on
the database, as miniflux keeps every query in its storage package.

Read with ast, so docstrings and comments may name SQL. A query is a string holding an SQL
statement's keywords (upper case, as the project writes them); running one is a call of
``execute``, ``query``, ``table``… or a ``db["table"]``. ``bench/`` and ``tests/`` build
scratch stores with raw SQL and are not scanned.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOT_SCANNED = {"store", "bench", "tests"}  # the store itself; scratch stores of benches, tests
PACKAGES = sorted(init.parent.name for init in REPO.glob("*/__init__.py")
                  if init.parent.name not in NOT_SCANNED)

# Each exception names its reason; the test below fails once the reason is gone.
ALLOWED: dict[str, str] = {
    "amplification/near_duplicates.py": "its .query() asks datasketch's in-memory MinHashLSH "
                                        "index, not the database; the module holds no SQL",
}

SQL_TEXT = re.compile(
    r"\b(SELECT\s|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b"
    r"|(CREATE|DROP)\s+(TABLE|INDEX|VIEW|TRIGGER)\b|PRAGMA\s+\w+|WITH\s+\w+\s+AS\s*\()",
)
DATABASE_CALLS = {"execute", "executemany", "executescript", "query", "table", "rows_where",
                  "insert_all", "upsert_all", "delete_where", "count_where"}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _joined_text(node: ast.JoinedStr) -> str:
    """An f-string's literal parts, each value standing as ``{}``."""
    return "".join(part.value if isinstance(part, ast.Constant) else "{}"
                   for part in node.values)


def _string_text(node: ast.AST, skip: set[int]) -> str | None:
    """The text of a string node that is not a docstring nor part of an f-string."""
    if isinstance(node, ast.JoinedStr):
        skip.update(id(part) for part in node.values)
        return _joined_text(node)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
        return node.value
    return None


def _database_use(node: ast.AST) -> str | None:
    """What a node does to a database directly: a call such as ``.execute()``, or ``db[...]``."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in DATABASE_CALLS):
        return f"call .{node.func.attr}()"
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
            and node.value.id == "db"):
        return "table access db[...]"
    return None


def sql_found(source: str) -> list[str]:
    """'line: what' for each SQL string and each database call in ``source``."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):  # breadth first: an f-string comes before its parts
        text = _string_text(node, skip)
        if text is not None and (match := SQL_TEXT.search(text)):
            found.append(f"{getattr(node, 'lineno', 0)}: SQL {match.group(0)[:40]!r}")
        if (use := _database_use(node)) is not None:
            found.append(f"{getattr(node, 'lineno', 0)}: {use}")
    return found


def _scanned() -> dict[str, list[str]]:
    """Path relative to the repository → what ``sql_found`` found there, for every module of
    the packages other than store/."""
    return {str(path.relative_to(REPO)): sql_found(path.read_text(encoding="utf-8"))
            for package in PACKAGES for path in sorted((REPO / package).rglob("*.py"))}


def test_the_finder_sees_queries_and_not_docstrings() -> None:
    source = '''
"""Writes with INSERT OR IGNORE INTO scores; SELECT x FROM y in a docstring is prose."""
QUOTE = "Select a theme from the list"
def count(db, table):
    """DELETE FROM here is prose too."""
    sql = f"SELECT COUNT(*) FROM {table} WHERE id = ?"
    db["feeds"].rows
    return db.execute(sql).fetchone()
UPSERT = "INSERT OR REPLACE INTO marks (a) VALUES (?)"
'''
    assert sorted(sql_found(source)) == [
        "6: SQL 'SELECT '", "7: table access db[...]", "8: call .execute()",
        "9: SQL 'INSERT OR REPLACE INTO'",
    ]
    assert sql_found((REPO / "store" / "posts.py").read_text(encoding="utf-8"))


def test_no_module_outside_the_store_holds_sql() -> None:
    offending = {path: found for path, found in _scanned().items()
                 if found and path not in ALLOWED}
    assert offending == {}, ("SQL outside store/ (give the store a function whose name says "
                             f"what it returns, and call that): {offending}")


def test_every_exception_is_still_needed() -> None:
    scanned = _scanned()
    stale = [path for path in ALLOWED if not scanned.get(path)]
    assert stale == [], f"no SQL left in {stale}: remove them from ALLOWED"
