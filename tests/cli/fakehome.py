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

URL = "http://home.test"

# Strings that would act on a terminal if printed raw, one of each kind.
HOSTILE: dict[str, str] = {
    "osc0_title": "\x1b]0;owned\x07",
    "osc8_link": "\x1b]8;;http://evil.test/\x1b\\click me\x1b]8;;\x1b\\",
    "osc52_clipboard": "\x1b]52;c;cm0gLXJmIH4K\x07",
    "csi_cursor": "\x1b[2J\x1b[H\x1b[5A\x1b[31m",
    "c1_csi": "\x9b2J\x9b31m",
    "c1_osc": "\x9d0;title\x9c",
    "del": "ab\x7fc",
    "bidi_override": "\u202eevil\u202c",
    "bidi_isolate": "\u2066\u2067x\u2069",
    "nul": "a\x00b",
    "backspace": "paid\x08\x08\x08\x08free",
    "carriage_return": "approved\rdeclined",
    "line_separator": "one\u2028two",
}


def acting_characters(text: str) -> list[str]:
    """Characters in ``text`` that act on a terminal or reorder it: what must never be printed."""
    from murmur.terminal import BIDI_CONTROLS

    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if (ch < " " and ch != "\n") or "\x7f" <= ch <= "\x9f" or ch in BIDI_CONTROLS or ch in "\u2028\u2029"
    ]


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

    def answer(self, path: str, payload: Any, status: int = 200) -> None:
        self.routes[path] = (status, payload)

    def refuse(self, path: str, reason: str, code: str = "refused", status: int = 400) -> None:
        self.answer(path, {"error": {"code": code, "reason": reason}}, status)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url.path)
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
