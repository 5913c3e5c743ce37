"""JSON nested past the parser's depth, from a file or a server, is refused as the garbage it is.

Python's ``json`` raises ``RecursionError``, not ``ValueError``, for text nested deeper than the interpreter's
recursion limit (some thousand levels, a few kilobytes of ``[``): every place that reads JSON from outside with
``json.loads`` or ``httpx.Response.json`` and catches only ``ValueError`` lets it escape as a crash.
"""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from murmur.client.api import MurmurClient
from murmur.client.devices import read_request
from murmur.client.tui import cache
from murmur.client.tui.live import follow_stream
from murmur.errors import MurmurError, Refused
from murmur.keys import Identity
from murmur.manifest import parse
from murmur.receipts import Signers
from murmur.server.config import DataDir
from murmur.sync.bundle import BundleReader
from murmur.validate import parse_json

DEEP = "[" * 5000 + "]" * 5000  # 10 kB: a bundle line, an answer or a pasted request may be that long
SERVER_KEY = "ab" * 32


class Stop(Exception):
    pass


class Body(httpx.AsyncByteStream):
    """An answer's body left unread, as a live stream's is."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield self.data


def test_a_bundle_header_nested_too_deep_is_refused_as_not_a_bundle() -> None:
    line = ('{"murmur_bundle": 1, "x": ' + DEEP + "}\n").encode()
    with pytest.raises(Refused) as err:
        BundleReader(io.BytesIO(line))
    assert err.value.code == "not_a_bundle"


def test_a_device_request_nested_too_deep_is_refused_as_no_request() -> None:
    with pytest.raises(MurmurError):
        read_request('{"request": ' + DEEP + "}")


def _answering(body: str) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"murmur-server-key": SERVER_KEY, "content-type": "text/event-stream"},
            stream=Body(body.encode()),
        )

    return httpx.MockTransport(answer)


async def test_an_answer_nested_too_deep_is_an_error_the_client_reports() -> None:
    api = MurmurClient("http://x", Identity.generate(), server_key=SERVER_KEY, transport=_answering(DEEP))
    async with api:
        with pytest.raises(MurmurError):
            await api.info()


async def test_a_stream_event_nested_too_deep_is_dropped_and_the_stream_reconnects() -> None:
    api = MurmurClient(
        "http://x", Identity.generate(), server_key=SERVER_KEY, transport=_answering(f"data: {DEEP}\n\n")
    )
    states: list[tuple[bool, str]] = []

    async def health() -> dict[str, object]:
        if len(states) > 2:
            raise Stop
        return {"status": "ok"}

    async def no_wait(_: float) -> None:
        return None

    api.health = health  # type: ignore[method-assign]
    async with api:
        with pytest.raises(Stop):
            await follow_stream(api, lambda event: None, lambda up, why: states.append((up, why)), sleep=no_wait)
    assert (False, "The server sent a garbled event. Retrying in 1s.") in states


def test_the_one_parser_names_every_fault_and_lets_plain_json_through() -> None:
    """``parse_json(strict=False)``, for what is JSON but no message: floats are fine, faults are ``Refused``."""
    assert parse_json('{"a": [1.5, 2]}', limit=None, strict=False) == {"a": [1.5, 2]}
    for text, code in (
        (DEEP, "too_deep"),
        ("[1,", "invalid_json"),
        ("9" * 5000, "out_of_range"),
        (b"\xff", "invalid_utf8"),
    ):
        with pytest.raises(Refused) as err:
            parse_json(text, limit=None, strict=False)
        assert err.value.code == code, text[:10]


async def test_a_garbled_answer_with_success_status_is_a_bad_answer_saying_why() -> None:
    api = MurmurClient("http://x", Identity.generate(), server_key=SERVER_KEY, transport=_answering("{not json"))
    async with api:
        with pytest.raises(MurmurError, match="The server's answer is not JSON: The input is not valid JSON"):
            await api.info()


def test_a_manifest_nested_too_deep_is_no_manifest_and_lists_no_peer() -> None:
    text = "v = 1\nversion = 1\nadmins = " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(Refused, match="nested too deeply"):
        parse(text)
    assert Signers.of_manifest(SERVER_KEY, text).peers == {}  # the home server's answer, read for every notice


def test_a_tui_cache_nested_too_deep_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    path.write_text(DEEP, encoding="utf-8")
    assert cache.load(path, "home") is None


def test_a_running_record_nested_too_deep_names_no_running_server(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    data.running_path.write_text(DEEP, encoding="utf-8")
    assert data.running_server() is None
