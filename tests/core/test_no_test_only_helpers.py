"""Product code carries no helper only tests call: every public function defined at the top of a module of
``murmur/``, ``server/`` or ``client/`` is named somewhere in product code besides its own definition (another
module, a route table, its own module's use of it), or is an entry point. A helper a test needs lives with the
tests, where no product code can come to lean on it."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("murmur", "server", "client")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _product_files() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def _public_functions(path: Path) -> list[str]:
    """Top-level functions without a decorator (a decorator registers one: a command, a route, a fixture)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
        and not node.decorator_list
    ]


def test_every_public_function_is_named_by_product_code() -> None:
    files = _product_files()
    named = Counter(w for p in files for w in WORD.findall(p.read_text(encoding="utf-8")))
    named.update(WORD.findall((ROOT / "pyproject.toml").read_text(encoding="utf-8")))  # entry points
    only_defined = [
        f"{p.relative_to(ROOT)}: {name}" for p in files for name in _public_functions(p) if named[name] <= 1
    ]
    assert only_defined == []
