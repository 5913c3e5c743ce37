"""Shared fixtures: temporary homes and stores on real files, deterministic identities."""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from murmur.keys import Identity
from murmur.store import Store
from tests.postgres_server import INSTALL, PostgresServer, binaries

ENGINES = ("sqlite", "postgresql")
# The folders and files whose tests run on every engine chosen (through the ``store`` or ``database`` fixtures);
# elsewhere a test runs on SQLite, unless it asks for ``engine`` itself. Chosen so that the suite's time grows
# little: the store's and the kinds' tests are fast and run every query (bundle export's filters too); of the
# server API's, the files whose routes read and write the most SQL (publish, reading, search, the live stream).
# The rest, federation and e2e run on SQLite (their SQL is the store's): tests/e2e/test_two_engines.py holds a
# PostgreSQL server process, migrate-db, federation with a SQLite server and kill -9.
TWO_ENGINES = (
    "store",
    "kinds",
    "sync/test_bundles.py",
    "server/test_api_publish.py",
    "server/test_api_reading.py",
    "server/test_search_api.py",
    "server/test_stream_notifications.py",
)

# CI (.ci/run) replays the same examples every run: derandomised, with no example database (a clean clone has
# none to replay), and a failure prints the blob that reproduces it (@reproduce_failure). Registering "ci" replaces
# hypothesis's own profile of that name, so its settings are spelled out here. Elsewhere ("dev") every run
# explores new examples, and the database in .hypothesis/ replays the ones that failed.
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The files whose tests start processes (the benchmarks, servers and the CLI, a browser) or drive the TUI, in the
# order they run: they hold most of the suite's time, one test up to a minute. Run first and handed out one test
# at a time (the Makefile's --maxschedchunk), they leave the short tests for the end, where they even out the two
# workers; collected in folder order, a long end-to-end test near the end kept one worker busy while the other
# had nothing left. The benchmarks lead: their first test is the longest of all; then the longest end-to-end test.
RUN_FIRST = (
    "test_bench_smoke.py",
    "e2e/test_three_servers.py",
    "e2e",
    "reliability",
    "tui",
    "web",
    "test_cli_identity.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the RUN_FIRST files' tests first, keeping the order of the tests within each group (a stable sort)."""
    here = Path(__file__).parent

    def rank(item: pytest.Item) -> int:
        path = Path(str(item.path)).relative_to(here).as_posix()
        first = [n for n, e in enumerate(RUN_FIRST) if path == e or path.startswith(f"{e}/")]
        return first[0] if first else len(RUN_FIRST)

    items.sort(key=rank)


@pytest.fixture
def alice() -> Identity:
    return Identity.from_seed(bytes(range(32)))


@pytest.fixture
def bob() -> Identity:
    return Identity.from_seed(bytes(range(1, 33)))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engines",
        default=",".join(ENGINES),
        help="the database engines the two-engine tests run on, comma-separated (sqlite,postgresql)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test of a TWO_ENGINES folder asking for ``engine`` (directly or through ``store``/``database``), or any
    test naming ``engine`` in its own arguments, runs once per engine chosen."""
    here = Path(str(metafunc.definition.path)).relative_to(Path(__file__).parent).as_posix()
    asked = "engine" in metafunc.fixturenames
    own = "engine" in inspect.signature(metafunc.function).parameters
    sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
    both = any(here == e or here.startswith(f"{e}/") for e in TWO_ENGINES)
    if asked and (both or own) and not sqlite_only:
        chosen = [e.strip() for e in metafunc.config.getoption("--engines").split(",") if e.strip()]
        unknown = set(chosen) - set(ENGINES)
        if unknown:
            raise pytest.UsageError(f"--engines: unknown engine(s) {', '.join(sorted(unknown))}; know {ENGINES}")
        metafunc.parametrize("engine", chosen)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (tests/postgres_server.py)."""
    bindir = binaries()
    if bindir is None:
        pytest.fail(f"PostgreSQL is not installed: run `{INSTALL}` (make test does), or pass --engines=sqlite.")
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def database(engine: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The ``database`` a store opens on: None for SQLite (its file), a fresh PostgreSQL database's URL."""
    if engine == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database()
    try:
        yield url
    finally:
        server.release(url)


@pytest.fixture
def fresh_database(engine: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], str | None]]:
    """Makes another empty ``database`` on the same engine, for a test that needs a second server's store (None
    for SQLite, where the store's file path tells them apart)."""
    made: list[str] = []

    def make() -> str | None:
        if engine == "sqlite":
            return None
        made.append(request.getfixturevalue("postgres").new_database())
        return made[-1]

    yield make
    for url in made:
        request.getfixturevalue("postgres").release(url)


@pytest.fixture
def engine() -> str:
    return "sqlite"  # a test that does not ask for both engines (pytest_generate_tests) runs on SQLite


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database with every migration run, copied for each test's ``store`` (as PostgreSQL's tests
    clone a template): migrating a new file takes a tenth of a second, most of it waiting on its writes."""
    path = tmp_path_factory.mktemp("template") / "murmur.db"

    async def migrate() -> None:
        await (await Store.open(path)).close()

    asyncio.run(migrate())
    return path


@pytest.fixture
def migrated(migrated_sqlite: Path) -> Callable[[Path], None]:
    """Puts a copy of the migrated SQLite database at a path, for a server or a store to open there."""

    def put(path: Path) -> None:
        shutil.copy(migrated_sqlite, path)  # its mode (0600) too

    return put


@pytest.fixture
async def store(tmp_path: Path, database: str | None, migrated: Callable[[Path], None]) -> AsyncIterator[Store]:
    if database is None:
        migrated(tmp_path / "murmur.db")
    s = await Store.open(tmp_path / "murmur.db", database=database)
    try:
        yield s
    finally:
        await s.close()
