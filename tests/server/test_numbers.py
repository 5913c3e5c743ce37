"""Every numeric parameter of every endpoint, client API and federation API, against hostile values.

One grammar holds them all (murmur.numbers): ASCII digits only, at most as many as the largest value allowed,
within the documented range. Anything else is a 400 with the parameter's reason code, never a 500 (int()
refuses more than 4,300 digits) and never a silent reading (``٣`` is 3 to str.isdigit and int).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.store.peers import add_peer
from tests.server.conftest import Harness

HOSTILE = [
    "9" * 10_000,  # past int()'s 4,300-digit limit: was a 500
    "9" * 17,  # past 2^53 - 1
    "\u0663",  # ARABIC-INDIC DIGIT THREE: was read as 3
    "\u00b2",  # SUPERSCRIPT TWO: isdigit() but not int()
    "\uff11\uff12",  # fullwidth 12
    "-1",
    "+1",
    " 1",
    "1 ",
    "\t1",
    "1_0",
    "",
    "1.5",
    "1e3",
    "0x10",
    "١٠",
]

TIMELINES = [
    *[f"/api/v1/timelines/{name}" for name in ("home", "local", "federated", "mentions")],
    "/api/v1/timelines/tag/murmur",
    "/api/v1/timelines/author/" + "ab" * 32,
]

# (path, parameter, reason code) for every number a member's request carries in its query string.
MEMBER_PARAMS = [
    *[(path, "limit", "bad_limit") for path in TIMELINES],
    ("/api/v1/notifications", "limit", "bad_limit"),
    ("/api/v1/notifications", "before", "bad_cursor"),
    ("/api/v1/search?q=x", "limit", "bad_limit"),
    ("/api/v1/stream", "cursor", "bad_cursor"),
    ("/api/v1/export", "after", "bad_cursor"),
    ("/api/v1/export", "limit", "bad_limit"),
    ("/api/v1/export", "local", "bad_number"),
]  # fmt: skip
PEER_PARAMS = [
    ("/fed/v1/log", "after", "bad_cursor"),
    ("/fed/v1/log", "limit", "bad_limit"),
    ("/fed/v1/log", "wait", "bad_number"),
]


async def signed_get(
    server: Harness, identity: Identity, path: str, query: list[tuple[str, str]], headers: Any = None
) -> httpx.Response:
    async with httpx.AsyncClient(transport=server.transport, base_url="http://murmur.test") as http:
        base, _, fixed = path.partition("?")
        params = [tuple(p.split("=", 1)) for p in fixed.split("&") if p] + query
        request = http.build_request("GET", base, params=params, headers=headers)
        signed = sign_request(
            identity, "GET", request.url.path, request.url.query.decode("ascii"), b"", recipient=server.key
        )
        request.headers.update(signed.as_dict())
        return await http.send(request)


def assert_400(response: httpx.Response, code: str, what: str) -> None:
    assert response.status_code == 400, (what, response.status_code, response.text[:300])
    assert response.json()["error"]["code"] == code, what


@pytest.fixture
async def member(server: Harness) -> Identity:
    me = Identity.generate()
    await server.member(me)
    return me


@pytest.fixture
async def peer(server: Harness) -> Identity:
    identity = Identity.generate()
    await add_peer(server.state.store, identity.public_key, "http://peer.test", mode="serve-only")
    return identity


@pytest.mark.parametrize(("path", "name", "code"), [*MEMBER_PARAMS, *PEER_PARAMS])
async def test_every_endpoint_refuses_every_hostile_number(
    server: Harness, member: Identity, peer: Identity, path: str, name: str, code: str
) -> None:
    who = peer if path.startswith("/fed/") else member
    for value in HOSTILE:
        assert_400(await signed_get(server, who, path, [(name, value)]), code, f"{path} {name}={value[:20]!r}")


@pytest.mark.parametrize(("path", "name", "code"), [*MEMBER_PARAMS, *PEER_PARAMS])
async def test_a_number_given_twice_is_refused(
    server: Harness, member: Identity, peer: Identity, path: str, name: str, code: str
) -> None:
    who = peer if path.startswith("/fed/") else member
    assert_400(await signed_get(server, who, path, [(name, "1"), (name, "1")]), code, f"{path} {name} twice")


@pytest.mark.parametrize(
    ("name", "value", "low_ok"),
    [("limit", "101", "100"), ("before", "9007199254740992", "9007199254740991"), ("before", "0", "1")],
)
async def test_page_parameters_hold_their_documented_range(
    server: Harness, member: Identity, name: str, value: str, low_ok: str
) -> None:
    code = "bad_limit" if name == "limit" else "bad_cursor"
    assert_400(await signed_get(server, member, "/api/v1/notifications", [(name, value)]), code, value)
    assert (await signed_get(server, member, "/api/v1/notifications", [(name, low_ok)])).status_code == 200


# A timeline cursor is "<time>.<seq>" (murmur.store.items.Cursor): a bare number is no cursor, and each part is
# held to ASCII digits and a bound as numbers are.
TIMELINE_CURSORS = [v for v in HOSTILE if v != "1.5"] + [
    "7",
    "9" * 10_000 + ".1",
    "1." + "9" * 10_000,
    "\u0663.1",
    "1.\u0663",
    "1._5",
    "1.5.5",
    "-1.5",
    " 1.5",
]


@pytest.mark.parametrize("path", TIMELINES)
async def test_timeline_cursors_are_held_to_their_grammar(server: Harness, member: Identity, path: str) -> None:
    for value in TIMELINE_CURSORS:
        assert_400(await signed_get(server, member, path, [("before", value)]), "bad_cursor", repr(value[:20]))
    assert_400(await signed_get(server, member, path, [("before", "1.5"), ("before", "1.5")]), "bad_cursor", "twice")
    assert (await signed_get(server, member, path, [("before", "1.5")])).status_code == 200


async def test_federation_log_ranges(server: Harness, peer: Identity) -> None:
    for name, bad, good in (("limit", "0", "1"), ("limit", "1001", "1000"), ("wait", "31", "0")):
        assert_400(
            await signed_get(server, peer, "/fed/v1/log", [(name, bad)]),
            f"bad_{name}" if name == "limit" else "bad_number",
            bad,
        )
        assert (await signed_get(server, peer, "/fed/v1/log", [(name, good)])).status_code == 200
    # Leading zeros within the digit cap are still the same number.
    assert (await signed_get(server, peer, "/fed/v1/log", [("after", "0007")])).headers["murmur-cursor"] == "7"


@pytest.mark.parametrize("value", HOSTILE)
async def test_last_event_id_is_held_to_the_same_grammar(server: Harness, member: Identity, value: str) -> None:
    headers = {"Last-Event-ID": value.encode("utf-8")}  # header values travel as bytes; non-ASCII ones too
    assert_400(await signed_get(server, member, "/api/v1/stream", [], headers), "bad_cursor", repr(value[:20]))


async def test_last_event_id_on_two_lines_is_refused(server: Harness, member: Identity) -> None:
    headers = httpx.Headers([("Last-Event-ID", "1"), ("Last-Event-ID", "2")])
    assert_400(await signed_get(server, member, "/api/v1/stream", [], headers), "bad_cursor", "two lines")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["9" * 10_000, "-1", "1_0", "1.5", " 12"])
async def test_a_content_length_outside_the_grammar_is_refused(server: Harness, member: Identity, value: str) -> None:
    body = b"{}"
    headers = sign_request(member, "POST", "/api/v1/messages", "", body, recipient=server.key).as_dict()

    async def scope_body() -> httpx.Response:
        async with httpx.AsyncClient(transport=server.transport, base_url="http://murmur.test") as http:
            request = http.build_request("POST", "/api/v1/messages", content=body, headers=headers)
            request.headers["Content-Length"] = value
            return await http.send(request)

    assert_400(await scope_body(), "bad_number", value[:20])
