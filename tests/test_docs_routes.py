"""docs/api.md lists every route the server answers, and nothing it does not: a new route without docs fails here.

A route is documented by a row of one of api.md's endpoint tables, written as ``| METHOD | `PATH` | ...``
with the path exactly as the app declares it (``{id}`` and all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from murmur.keys import Identity
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.state import ServerState
from murmur.store import Store

API_MD = Path(__file__).resolve().parent.parent / "docs" / "api.md"
ROW = re.compile(r"^\|\s*([A-Z]+)\s*\|\s*`([^`]+)`\s*\|", re.MULTILINE)


def served(routes: Iterable[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """Every (method, path) the routes answer, mounted sub-applications included."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= served(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            # Starlette answers HEAD wherever it answers GET; the docs list GET alone.
            found |= {(method, prefix + route.path) for method in route.methods or {"GET"} if method != "HEAD"}
        elif isinstance(route, WebSocketRoute):
            found.add(("WEBSOCKET", prefix + route.path))
        else:
            raise AssertionError(f"a route of a kind this test cannot read: {route!r}; teach it to")
    return found


def documented() -> set[tuple[str, str]]:
    return {(method, path) for method, path in ROW.findall(API_MD.read_text(encoding="utf-8"))}


async def test_every_route_is_documented_in_api_md_and_every_documented_route_exists(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "server.db")
    try:
        # Every optional route turned on: a route answered under some config is documented too.
        state = ServerState(config=ServerConfig(name="docs", metrics=True), identity=Identity.generate(), store=store)
        routes = served(create_app(state).routes)
    finally:
        await store.close()
    assert len(routes) > 10  # the walk found the app's routes, not an empty list
    missing = sorted(routes - documented())
    assert not missing, f"routes the server answers but docs/api.md does not list: {missing}"
    stale = sorted(documented() - routes)
    assert not stale, f"routes docs/api.md lists but the server does not answer: {stale}"


def test_the_walk_reads_mounted_routes() -> None:
    async def endpoint(request: object) -> None:
        raise AssertionError("never called")

    inner = [Route("/things/{id}", endpoint, methods=["DELETE"]), Route("/things", endpoint)]
    walked = served([Mount("/admin", routes=[Mount("/v1", routes=inner)])])
    assert walked == {("DELETE", "/admin/v1/things/{id}"), ("GET", "/admin/v1/things")}
