"""Only the store speaks SQL: nothing outside ``murmur/store`` (and ``murmur/kinds``, whose modules own their
kind's state) imports a database driver (sqlite3, aiosqlite, psycopg), runs a statement, or reaches for the
store's connections.

A query written elsewhere escapes the store's translation of database errors (a read that fails is a
StoreError, answered 503) and repeats rules that must live once, such as who may see a message. This finds
any such code in the shipped packages, whichever engineer adds it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / "murmur", ROOT / "server", ROOT / "client"]
ALLOWED = [ROOT / "murmur" / "store", ROOT / "murmur" / "kinds"]
DRIVERS = {"sqlite3", "aiosqlite", "psycopg", "psycopg_pool"}
STATEMENTS = {"execute", "executemany", "executescript", "execute_fetchall", "execute_insert"}


def sql_outside_the_store(source: str, label: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] in DRIVERS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in DRIVERS:
            found.append((node.lineno, f"from {node.module} import"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STATEMENTS:
            found.append((node.lineno, ast.unparse(node.func)))
        elif isinstance(node, ast.Attribute) and node.attr == "conn":  # the store's connections are its own
            found.append((node.lineno, ast.unparse(node)))
    return [f"{label}:{line} {what}" for line, what in sorted(found)]


def outside_the_store() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted(package.rglob("*.py"))
        if not any(path.is_relative_to(allowed) for allowed in ALLOWED)
    ]


def test_nothing_outside_the_store_writes_sql() -> None:
    modules = outside_the_store()
    assert len(modules) >= 50 and ROOT / "murmur" / "sync" / "index.py" in modules
    offenders = [hit for path in modules for hit in sql_outside_the_store(path.read_text("utf-8"), path.name)]
    assert offenders == []


def test_the_check_finds_sql() -> None:
    source = (
        "import sqlite3\nimport aiosqlite as a\nfrom sqlite3 import connect\nimport psycopg.errors\n"
        "async def f(store, db):\n"
        "    await store.conn.execute('SELECT 1')\n"
        "    db.executemany('INSERT', [])\n"
        "    return await timelines.home(store, key)\n"
    )
    assert sql_outside_the_store(source, "bad.py") == [
        "bad.py:1 import sqlite3",
        "bad.py:2 import aiosqlite",
        "bad.py:3 from sqlite3 import",
        "bad.py:4 import psycopg.errors",
        "bad.py:6 store.conn",
        "bad.py:6 store.conn.execute",
        "bad.py:7 db.executemany",
    ]
