"""A home server the test writes the answers of: the CLI in-process, its HTTP answered by a handler.

A hostile or broken home server is the case here: it can answer anything (escape sequences in a reason,
forged posts, names made to look alike), which a real server would not. ``FakeHome.answer`` sets the JSON
for a path; everything else is 404 ``not_found``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from murmur.client.api import MurmurClient
from murmur.keys import Identity
from murmur.manifest import Manifest, PeerEntry

URL = "http://home.test"
HOME_SERVER = Identity.from_seed(b"\x5a" * 32)  # signs the trust manifest a test has the home server serve
HOME_KEY = HOME_SERVER.public_key


@dataclass(frozen=True)
class Ran:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_main(*args: str) -> Ran:
    """The ``murmur`` program's entry point, errors and exit codes included, with its output captured."""
    from murmur.client.cli.main import main

    with CliRunner().isolation() as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        return Ran(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))


@dataclass
class FakeHome:
    home: Path
    identity: Identity
    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    raw: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)

    def answer(self, path: str, payload: Any, status: int = 200) -> None:
        self.routes[path] = (status, payload)

    def refuse(self, path: str, reason: str, code: str = "refused", status: int = 422) -> None:
        self.answer(path, {"error": {"code": code, "reason": reason}}, status)

    def lists(self, peers: dict[str, str], *, by: Identity = HOME_SERVER) -> None:
        """Serve a trust manifest listing ``peers`` (key -> name), signed by ``by`` (by default this server)."""
        entries = {key: PeerEntry(key, name) for key, name in peers.items()}
        self.answer("/api/v1/manifest", {"manifest": Manifest(HOME_KEY, 1, peers=entries).signed_by(by).to_toml()})

    def answer_raw(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        self.raw[path] = (body, headers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url.path)
        if request.url.path in self.raw:
            body, headers = self.raw[request.url.path]
            return httpx.Response(200, content=body, headers=headers)
        if request.url.path == "/api/v1/info" and request.url.path not in self.routes:
            # What the client signs its requests for, unless a test answers its own info.
            return httpx.Response(200, content=json.dumps({"server_key": HOME_KEY}).encode("utf-8"))
        status, payload = self.routes.get(
            request.url.path, (404, {"error": {"code": "not_found", "reason": "No such thing here."}})
        )
        return httpx.Response(status, content=json.dumps(payload).encode("utf-8"))

    def run(self, *args: str) -> Ran:
        return run_main("--home", str(self.home), *args)


@pytest.fixture
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHome:
    """A profile with a key, joined to the fake server at URL."""
    import murmur.client.cli.session as session
    import murmur.client.cli.social as social
    from murmur.client.profiles import resolve

    fake: FakeHome | None = None

    class Client(MurmurClient):
        def __init__(self, base_url: str, identity: Identity, **kw: Any) -> None:
            assert fake is not None
            super().__init__(base_url, identity, transport=httpx.MockTransport(fake.handle))

    monkeypatch.setattr(session, "MurmurClient", Client)
    monkeypatch.setattr(social, "MurmurClient", Client)
    ref = resolve(tmp_path, None)
    identity = Identity.generate()
    from murmur.keys import save_identity

    save_identity(ref.key_path, identity)
    config = ref.config()
    config.section(ref.name)["server"] = URL
    config.save()
    fake = FakeHome(tmp_path, identity)
    return fake
