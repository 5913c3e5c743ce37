"""Bad input at every entry point of a real server, generated with hypothesis.

Entry points: client publish, peer push, peer pull answers (a fake peer serving garbage to a server that pulls
from it), request signatures, and bundle import. For each: every refusal carries a reason code, nothing is stored,
and the server stays up and accepts the next good request. The strategies are in ``badinput.py``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from murmur.httpsig import sign_request
from murmur.jcs import canonicalize
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.sfv import parse_dictionary
from murmur.sync.bundle import header_line
from tests.reliability.badinput import bad_messages, fine_encodings, fresh_post, identities, special, times
from tests.reliability.conftest import BASE_SETTINGS
from tests.reliability.fakepeer import Answer, FakePeer
from tests.reliability.harness import API, Member, Peer, Server, peer_add, raw, run_cli, wait_until
from tests.waiting import BOUND_S

pytestmark = pytest.mark.timeout(240)

# On the profile loaded (tests/conftest.py: derandomised under CI, exploring elsewhere); each example here starts
# processes or waits on a server, which hypothesis would otherwise flag as too slow.
CI = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(CI, max_examples=25)
CODE = re.compile(r"[a-z][a-z0-9_]{1,40}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # retry_max_seconds=1: after a garbage pull answer the server retries within a second.
    proc = Server(tmp_path_factory.mktemp("bad") / "server", {**BASE_SETTINGS, "retry_max_seconds": 1}).start()
    yield proc
    if proc.running():
        proc.stop()
    assert "Traceback" not in proc.log(), proc.log()[-3000:]


@pytest.fixture(scope="module")
def member(server: Server) -> Iterator[Member]:
    m = Member(server.url).join()
    yield m
    m.close()


@pytest.fixture(scope="module")
def peer(server: Server) -> Iterator[Peer]:
    p = Peer(server.url)
    peer_add(server, "http://127.0.0.1:9", p.key, mode="serve-only")
    yield p
    p.close()


def assert_refusal(answer: httpx.Response, statuses: tuple[int, ...] = (400, 401, 403, 413, 422)) -> str:
    """A refusal: a 4xx status and a JSON error with a machine-readable code and a sentence."""
    assert answer.status_code in statuses, (answer.status_code, answer.text[:300])
    error = answer.json()["error"]
    assert CODE.fullmatch(error["code"]), error
    assert isinstance(error["reason"], str) and len(error["reason"]) > 10, error
    return str(error["code"])


def still_serving(member: Member) -> None:
    """The next good request is answered: publish a fresh post and read it back."""
    message = fresh_post(member.identity, "good after bad")
    answer = member.publish(message)
    assert answer.status_code == 201, answer.text
    assert member.get_raw(message["id"]) == raw(message)


# -- client publish ---------------------------------------------------------------------------------------------


@CI
@given(data=st.data())
def test_publish_refuses_bad_messages(server: Server, member: Member, data: st.DataObject) -> None:
    label, body = data.draw(bad_messages(member.identity), label="bad message")
    before = server.count()
    answer = member.request("POST", f"{API}/messages", body)
    assert_refusal(answer)
    assert server.count() == before, f"{label} was stored"
    still_serving(member)


@FEW
@given(data=st.data())
def test_publish_accepts_equivalent_encodings_and_stores_the_canonical_form(
    server: Server, member: Member, data: st.DataObject
) -> None:
    message, body = data.draw(fine_encodings(member.identity), label="re-encoded message")
    answer = member.request("POST", f"{API}/messages", body)
    assert answer.status_code == 201, answer.text
    assert member.get_raw(message["id"]) == canonicalize(message)


def test_publish_of_another_authors_message_is_refused(server: Server, member: Member) -> None:
    other = fresh_post(Identity.generate())
    before = server.count()
    assert assert_refusal(member.publish(other)) == "wrong_author"
    assert server.count() == before


# -- peer push --------------------------------------------------------------------------------------------------


@CI
@given(data=st.data())
def test_peer_push_refuses_every_bad_line(server: Server, member: Member, peer: Peer, data: st.DataObject) -> None:
    author = data.draw(identities, label="author")
    lines = data.draw(st.lists(bad_messages(author), min_size=1, max_size=4), label="bad lines")
    good = raw(fresh_post(author, "good line among bad ones"))
    position = data.draw(st.integers(0, len(lines)), label="good line at")
    batch = [body for _, body in lines]
    batch.insert(position, good)
    before = server.count()
    answer = peer.push(batch)
    if answer.status_code != 200:
        # A line holding a newline splits in two; whatever it splits into, the batch as a whole may be refused
        # (too many lines, too large) but then nothing of it is stored.
        assert_refusal(answer)
        assert server.count() == before
        return
    results = answer.json()["results"]
    lines_sent = [line for line in b"".join(b + b"\n" for b in batch).split(b"\n") if line.strip()]
    assert len(results) == len(lines_sent)
    stored = [r for r in results if r["status"] == "stored"]
    assert [r["id"] for r in stored] == [fresh_id(good)]
    for r in results:
        if r["status"] != "stored":
            assert r["status"] == "refused" and CODE.fullmatch(r["code"]) and r["reason"], r
    assert server.count() == before + 1
    still_serving(member)


def fresh_id(line: bytes) -> str:
    return str(httpx.Response(200, content=line).json()["id"])


@FEW
@given(body=st.binary(max_size=3000))
def test_peer_push_of_random_bytes_stores_nothing(server: Server, member: Member, peer: Peer, body: bytes) -> None:
    before = server.count()
    answer = peer.request("POST", "/fed/v1/messages", body)
    if answer.status_code == 200:
        assert all(r["status"] == "refused" and CODE.fullmatch(r["code"]) for r in answer.json()["results"])
    else:
        assert_refusal(answer)
    assert server.count() == before
    still_serving(member)


# -- request signatures -----------------------------------------------------------------------------------------

HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
STRUCTURED = st.sampled_from(
    [
        "",
        "murmur",
        "murmur=",
        "murmur=()",
        'murmur=("@method")',
        "murmur=:AAAA:",
        'murmur=("@method" "@path" "@query" "content-digest");created=1;keyid="00";alg="ed25519";nonce="x"',
        "sha-256=:AAAA:",
        "sha-256=:" + "A" * 43 + "=:",
        "sha-512=:AAAA:, sha-256=:AAAA:",
        "murmur=:" + "A" * 86 + "==:",
        "a=1, a=2, murmur=3",
        "murmur=(" + '"@path" ' * 500 + ")",
        "murmur=" + "(" * 200,
    ]
)


def mutate(value: str, index: int, char: str) -> str:
    index %= max(1, len(value))
    return value[:index] + char + value[index + 1 :]


@CI
@given(
    which=st.sampled_from(["Signature", "Signature-Input", "Content-Digest"]),
    how=st.sampled_from(["replace", "mutate", "drop", "structured"]),
    text=st.text(HEADER_CHARS, max_size=300),
    index=st.integers(0, 400),
    char=HEADER_CHARS,
    structured=STRUCTURED,
)
def test_garbage_signature_headers_are_refused(
    server: Server, member: Member, which: str, how: str, text: str, index: int, char: str, structured: str
) -> None:
    message = fresh_post(member.identity)
    body = canonicalize(message)
    request = member.http.build_request("POST", f"{API}/messages", content=body)
    headers = sign_request(member.identity, "POST", request.url.path, "", body, recipient=member.server_key).as_dict()
    original = headers[which]
    if how == "drop":
        del headers[which]
    else:
        value = {"replace": text, "mutate": mutate(original, index, char), "structured": structured}[how]
        # A field value's outer whitespace is not part of it (RFC 9110 section 5.5); the client refuses to send it.
        headers[which] = value.strip(" \t")
    request.headers.update(headers)
    before = server.count()
    answer = member.http.send(request)
    if answer.status_code == 201:
        # Only a spelling of the same structured value may pass (RFC 8941 parsing, then re-serialising).
        assert parse_dictionary(headers[which]) == parse_dictionary(original), (which, headers[which])
        return
    code = assert_refusal(answer, (401,))
    assert answer.headers.get("www-authenticate", "").startswith("Signature")
    assert code in {
        "missing_signature",
        "malformed_signature",
        "duplicate_field",
        "wrong_server",
        "unsupported_algorithm",
        "missing_component",
        "missing_digest",
        "digest_mismatch",
        "expired",
        "from_future",
        "bad_key",
        "weak_key",
        "bad_signature",
        "replayed",
    }, code
    assert server.count() == before
    still_serving(member)


@pytest.mark.parametrize(
    "keyid",
    [
        "ab" * 31,  # 31 bytes
        "ab" * 33,  # 33 bytes
        "AB" * 32,  # uppercase hex
        "00" * 31 + "80",  # a small-order point
        "0100000000000000000000000000000000000000000000000000000000000000",
    ],
)
def test_wrong_length_and_small_order_request_keys_are_refused(server: Server, member: Member, keyid: str) -> None:
    message = fresh_post(member.identity)
    body = canonicalize(message)
    headers = sign_request(member.identity, "POST", f"{API}/messages", "", body, recipient=member.server_key).as_dict()
    headers["Signature-Input"] = headers["Signature-Input"].replace(member.key, keyid)
    before = server.count()
    answer = member.http.post(f"{API}/messages", content=body, headers=headers)
    assert assert_refusal(answer, (401,)) in {"bad_key", "weak_key"}
    assert server.count() == before


def test_replayed_and_stale_requests_are_refused(server: Server, member: Member) -> None:
    message = fresh_post(member.identity)
    body = canonicalize(message)
    headers = sign_request(member.identity, "POST", f"{API}/messages", "", body, recipient=member.server_key).as_dict()
    assert member.http.post(f"{API}/messages", content=body, headers=headers).status_code == 201
    assert assert_refusal(member.http.post(f"{API}/messages", content=body, headers=headers), (401,)) == "replayed"
    stale = sign_request(
        member.identity, "POST", f"{API}/messages", "", body, created=1_000_000_000, recipient=member.server_key
    ).as_dict()
    assert assert_refusal(member.http.post(f"{API}/messages", content=body, headers=stale), (401,)) == "expired"


# -- peer pull answers ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_peer(server: Server) -> Iterator[FakePeer]:
    fake = FakePeer().start()
    peer_add(server, fake.url, fake.key, mode="pull-only", name="fake")
    assert fake.until_asked(), "the server never pulled from the fake peer"
    yield fake
    fake.close()


@st.composite
def pull_answers(draw: st.DrawFn) -> tuple[str, Answer]:
    cursor = str(draw(st.integers(0, 2**40)))
    good_headers = {"Murmur-Cursor": cursor, "Murmur-More": draw(st.sampled_from(["0", "1", "yes", ""]))}
    kind = draw(st.sampled_from(["lines", "bytes", "cursor", "status", "local"]))
    if kind == "lines":
        lines = draw(st.lists(bad_messages(draw(identities)), min_size=1, max_size=4))
        return kind, Answer(200, b"\n".join(body for _, body in lines), good_headers)
    if kind == "bytes":
        return kind, Answer(200, draw(st.binary(max_size=2000)), good_headers)
    if kind == "local":
        # A local post never leaves its server; a peer that sends one is refused line by line.
        draft = {"kind": "post", "body": {"text": "private", "visibility": "local"}}
        signed = sign_draft(draw(identities), draft, created_at=draw(times))
        return kind, Answer(200, raw(signed) + b"\n", good_headers)
    if kind == "cursor":
        bad = draw(st.sampled_from(["", "-1", "abc", "1.5", " 7", "9" * 40, str(2**63), "１２"]))
        return kind, Answer(200, b"", {"Murmur-Cursor": bad, "Murmur-More": "0"})
    status = draw(st.sampled_from([500, 503, 429, 404, 401, 301, 204]))
    # A peer's Retry-After is honoured up to an hour by design, so a huge one would only make this test wait; a
    # malformed or past one must be shrugged off.
    retry = draw(st.sampled_from(["", "1", "-5", "soon", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT"]))
    headers = {"Retry-After": retry} if retry else {}
    return kind, Answer(status, draw(st.binary(max_size=200)), headers)


@pytest.mark.parametrize("cursor", ["9" * 40, str(2**63), "\u00b2", "\uff11\uff12"])
def test_a_pull_answer_with_an_unusable_cursor_does_not_stop_pulling(
    server: Server, fake_peer: FakePeer, cursor: str
) -> None:
    """Regression: a 40-digit or non-ASCII-digit Murmur-Cursor ended the pull loop (OverflowError, ValueError)."""
    assert fake_peer.serve(Answer(200, b"", {"Murmur-Cursor": cursor.encode().decode("latin-1")}))
    good = fresh_post(Identity.generate(), f"after cursor {cursor!r}")
    assert fake_peer.serve(Answer(200, raw(good) + b"\n", {"Murmur-Cursor": "1", "Murmur-More": "0"}))
    assert wait_until(lambda: good["id"] in server.ids(), BOUND_S), "the server stopped pulling from the peer"


@FEW
@given(case=pull_answers())
def test_garbage_pull_answers_store_nothing(
    server: Server, member: Member, fake_peer: FakePeer, case: tuple[str, Answer]
) -> None:
    kind, answer = case
    before = server.count()
    assert fake_peer.serve(answer), f"the server stopped pulling after a {kind} answer"
    assert server.count() == before, kind
    assert httpx.get(f"{server.url}/health", timeout=BOUND_S).status_code == 200


def test_pull_still_stores_a_good_page_after_garbage(server: Server, fake_peer: FakePeer) -> None:
    good = fresh_post(Identity.generate(), "a good message from the fake peer")
    cursor = str(2**40 + 1)  # past any cursor the garbage answers claimed: cursors only move forward
    assert fake_peer.serve(Answer(200, raw(good) + b"\n", {"Murmur-Cursor": cursor, "Murmur-More": "0"}))
    assert wait_until(lambda: good["id"] in server.ids(), BOUND_S)


# -- bundle import ----------------------------------------------------------------------------------------------


BUNDLE_AUTHOR = Identity.from_seed(bytes(range(7, 39)))
EVERY_KIND = [
    special(name, BUNDLE_AUTHOR)
    for name in (
        "empty",
        "blank",
        "string",
        "not_object",
        "null",
        "invalid_utf8_ff",
        "huge_member_name",  # longer than any message: refused unread
        "line_separator",
        "next_line",
        "carriage_return",
        "newline",
    )
]


@settings(FEW, max_examples=8)  # each example runs `murmur import`: about a second
@example(bad=[special("empty", BUNDLE_AUTHOR)], at=1, packed=False)  # once counted as no line at all
@example(bad=[special("blank", BUNDLE_AUTHOR)], at=0, packed=True)
@example(bad=[special("newline", BUNDLE_AUTHOR)], at=0, packed=False)  # one line more than the header says
@example(bad=EVERY_KIND, at=5, packed=True)
@given(
    bad=identities.flatmap(lambda author: st.lists(bad_messages(author), min_size=1, max_size=6)),
    at=st.integers(0, 6),
    packed=st.booleans(),
)
def test_bundle_import_refuses_bad_messages(
    server: Server,
    member: Member,
    tmp_path_factory: pytest.TempPathFactory,
    bad: list[tuple[str, bytes]],
    at: int,
    packed: bool,
) -> None:
    """Every line after the header is accounted for: the good one stored, each other one refused by its number
    (a line holding a newline is two lines), and the header's count checked against the lines that follow."""
    good = raw(fresh_post(Identity.generate(), "a good message in a bad bundle"))
    lines = [body for _, body in bad]
    lines.insert(at % (len(lines) + 1), good)
    body = b"".join(line + b"\n" for line in lines)
    text = header_line(len(lines), {}, created_at=0) + body
    bundle = tmp_path_factory.mktemp("bundle") / "bad.murmur"
    bundle.write_bytes(gzip.compress(text) if packed else text)
    found = body.split(b"\n")[:-1]  # what a reader of JSON Lines sees: the file ends with a newline
    good_line = 2 + found.index(good)  # the header is line 1
    before = server.count()
    result = run_cli("import", "--data", str(server.data), str(bundle), "--json")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, (result.returncode, result.stderr)  # documented: something was refused
    report = json.loads(result.stdout)
    assert (report["stored"], report["duplicate"], report["deleted"]) == (1, 0, 0), report
    assert report["refused"] == len(found) - 1, report
    assert [r["line"] for r in report["refusals"]] == [n for n in range(2, 2 + len(found)) if n != good_line]
    for refusal in report["refusals"]:
        assert CODE.fullmatch(refusal["code"]) and len(refusal["reason"]) > 10, refusal
    if len(found) == len(lines):
        assert report["problems"] == [], report
    else:
        [problem] = report["problems"]
        assert problem["code"] == "count_mismatch", problem
        assert f"promises {len(lines)} messages, but {len(found)} lines follow" in problem["reason"], problem
    assert server.count() == before + 1
    still_serving(member)
