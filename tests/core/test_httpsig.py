"""Signed HTTP requests: RFC vectors, murmur's golden vector, every tamper case, replay, and parser fuzzing."""

from __future__ import annotations

import base64
import contextlib
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from murmur.errors import Refused
from murmur.httpsig import (
    _URL_SAFE,
    ReplayCache,
    SignedHeaders,
    VerifiedRequest,
    build_signature_base,
    content_digest,
    resolve_components,
    serialize_signature_params,
    sign_request,
    verify_request,
)
from murmur.keys import SMALL_ORDER_KEYS, Identity
from murmur.sfv import DuplicateKey, Token, parse_dictionary

# --- RFC 9421 Appendix B.1.4 (test-key-ed25519), B.2 (test-request) and B.2.6 (signing with ed25519) -----------

RFC_PUBLIC_DER = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs="
RFC_PRIVATE_DER = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF"
RFC_REQUEST_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJ"
    "wew==:",
    "Content-Length": "18",
}
RFC_SIGNATURE_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");'
    'created=1618884473;keyid="test-key-ed25519"'
)
RFC_SIGNATURE = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
RFC_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
    b';created=1618884473;keyid="test-key-ed25519"'
)


def rfc_base_from_request() -> bytes:
    components, params = parse_dictionary(RFC_SIGNATURE_INPUT)["sig-b26"]
    assert isinstance(components, list)
    names = [str(name) for name, _ in components]
    headers = {name.lower(): value for name, value in RFC_REQUEST_HEADERS.items()}
    values = resolve_components(names, "POST", "/foo", "param=Value&Pet=dog", headers)
    return build_signature_base(values, serialize_signature_params(names, params))


def test_rfc9421_b26_signature_base_is_rebuilt_from_the_test_request() -> None:
    assert rfc_base_from_request() == RFC_BASE


def test_rfc9421_b26_signature_verifies_with_the_rfc_public_key() -> None:
    key = serialization.load_der_public_key(base64.b64decode(RFC_PUBLIC_DER))
    signature = parse_dictionary(RFC_SIGNATURE)["sig-b26"][0]
    assert isinstance(signature, bytes)
    key.verify(signature, rfc_base_from_request())  # type: ignore[union-attr]  # raises if it does not verify


def test_rfc9421_b26_signing_the_base_reproduces_the_rfc_signature() -> None:
    private = serialization.load_der_private_key(base64.b64decode(RFC_PRIVATE_DER), password=None)
    seed = private.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    identity = Identity.from_seed(seed)
    assert identity.public_key == "26b40b8f93fff3d897112f7ebc582b232dbd72517d082fe83cfb30ddce43d1bb"
    signature = bytes.fromhex(identity.sign(rfc_base_from_request()))
    assert "sig-b26=:" + base64.b64encode(signature).decode() + ":" == RFC_SIGNATURE


# --- RFC 9530 content digests --------------------------------------------------------------------------------


def test_rfc9530_sha256_example() -> None:
    # Appendix B: the body {"hello": "world"} with a newline (Content-Length: 19).
    assert content_digest(b'{"hello": "world"}\n') == "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:"


def test_rfc9530_sha512_example_is_checked_too() -> None:
    # Section 2's sha-512 value for the same body; a request may carry both and murmur checks both.
    sha512 = "sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:"
    identity = Identity.from_seed(bytes(32))
    body = b'{"hello": "world"}\n'
    headers = sign_request(identity, "POST", "/x", "", body, recipient=RECIPIENT, created=NOW, nonce=NONCE).as_dict()
    headers["Content-Digest"] += ", " + sha512
    # The signature covered the digest line as it was, so only the digest check is exercised here.
    with pytest.raises(Refused) as err:
        verify_request("POST", "/x", "", headers, body, recipient=RECIPIENT, now=NOW)
    assert err.value.code == "bad_signature"
    wrong = sha512.replace("YMAam", "YMAan")
    headers["Content-Digest"] = content_digest(body) + ", " + wrong
    assert_refused("digest_mismatch", headers=headers, body=body, path="/x")


# --- murmur's own golden vector (the worked example in docs/signatures.md) --------------------------------------

SEED = bytes(range(32))
# The server the golden request is for: the public key of the seed 20 21 22 ... 3f.
RECIPIENT = "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
NOW = 1_700_000_000
NONCE = "bm9uY2Utd29ya2VkLWV4YQ"
BODY = b'{"text":"hello"}'
GOLDEN = {
    "Content-Digest": "sha-256=:y7vc0naSNE3l26s6vKukE/sPRTByZ95wgUAVdt8csXY=:",
    "Signature-Input": 'murmur=("@method" "@path" "@query" "content-digest");created=1700000000;'
    'keyid="03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";alg="ed25519";'
    'nonce="bm9uY2Utd29ya2VkLWV4YQ";recipient="29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"',
    "Signature": "murmur=:T+csT/T2lyMzKlWvDOJjecaFwhT+hb4CuKX/OMBOo/RzIhe3skeyEqWFuDgIyEgN1him7v8HZsgavORrnXfmDw==:",
}


def signed(body: bytes = BODY, identity: Identity | None = None, **kwargs: object) -> dict[str, str]:
    identity = identity or Identity.from_seed(SEED)
    args = {"created": NOW, "nonce": NONCE} | kwargs
    return sign_request(identity, "POST", "/api/v1/posts", "limit=5", body, recipient=RECIPIENT, **args).as_dict()  # type: ignore[arg-type]


def assert_refused(
    code: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = BODY,
    method: str = "POST",
    path: str = "/api/v1/posts",
    query: str = "limit=5",
    now: int = NOW,
    replay: ReplayCache | None = None,
) -> None:
    with pytest.raises(Refused) as err:
        verify_request(
            method,
            path,
            query,
            signed() if headers is None else headers,
            body,
            recipient=RECIPIENT,
            now=now,
            replay=replay,
        )
    assert err.value.code == code, err.value.message


def test_golden_vector_matches_the_documented_example() -> None:
    headers = signed()
    assert headers == GOLDEN
    docs = (Path(__file__).parents[2] / "docs" / "signatures.md").read_text()
    for value in headers.values():
        assert value in docs, "docs/signatures.md's worked example is out of date"


def test_signed_request_verifies() -> None:
    result = verify_request("POST", "/api/v1/posts", "limit=5", signed(), BODY, recipient=RECIPIENT, now=NOW)
    assert result == VerifiedRequest(key=Identity.from_seed(SEED).public_key, created=NOW, nonce=NONCE)


def test_defaults_use_the_clock_and_a_fresh_nonce() -> None:
    identity = Identity.generate()
    a = sign_request(identity, "GET", "/api/v1/timeline", "", b"", recipient=RECIPIENT)
    b = sign_request(identity, "GET", "/api/v1/timeline", "", b"", recipient=RECIPIENT)
    assert a.signature_input != b.signature_input
    assert isinstance(a, SignedHeaders)
    assert (
        verify_request("GET", "/api/v1/timeline", "", a.as_dict(), b"", recipient=RECIPIENT).key == identity.public_key
    )


def test_header_names_are_case_insensitive_and_extra_fields_are_ignored() -> None:
    headers = {name.upper(): value for name, value in signed().items()} | {"X-Other": "1"}
    verify_request("POST", "/api/v1/posts", "limit=5", headers, BODY, recipient=RECIPIENT, now=NOW)


def test_empty_query_signs_as_a_lone_question_mark() -> None:
    identity = Identity.from_seed(SEED)
    headers = sign_request(identity, "GET", "/", "", b"", recipient=RECIPIENT, created=NOW, nonce=NONCE).as_dict()
    verify_request("GET", "/", "", headers, b"", recipient=RECIPIENT, now=NOW)
    with pytest.raises(Refused):
        verify_request("GET", "/", "a=1", headers, b"", recipient=RECIPIENT, now=NOW)


def test_sign_request_rejects_programming_errors() -> None:
    identity = Identity.from_seed(SEED)
    for path, query, nonce in [("api", "", NONCE), ("/a", "?x=1", NONCE), ("/a", "", "short")]:
        with pytest.raises(ValueError):
            sign_request(identity, "GET", path, query, b"", recipient=RECIPIENT, nonce=nonce)


def test_decoded_and_raw_paths_agree() -> None:
    # Clients and servers often hand over the decoded path; murmur re-escapes it so both forms verify.
    identity = Identity.from_seed(SEED)
    headers = sign_request(
        identity, "GET", "/tags/café bar", "q=ü", b"", recipient=RECIPIENT, created=NOW, nonce=NONCE
    ).as_dict()
    verify_request("GET", "/tags/caf%C3%A9%20bar", "q=%C3%BC", headers, b"", recipient=RECIPIENT, now=NOW)
    verify_request("GET", "/tags/café bar", "q=ü", headers, b"", recipient=RECIPIENT, now=NOW)
    with pytest.raises(Refused):
        verify_request("GET", "/tags/cafe bar", "q=ü", headers, b"", recipient=RECIPIENT, now=NOW)


# --- tampering ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"method": "PUT"}, "bad_signature"),
        ({"path": "/api/v1/posts/1"}, "bad_signature"),
        ({"query": "limit=6"}, "bad_signature"),
        ({"query": ""}, "bad_signature"),
        ({"body": b'{"text":"hellO"}'}, "digest_mismatch"),
        ({"now": NOW + 61}, "expired"),
        ({"now": NOW - 61}, "from_future"),
    ],
)
def test_tampered_request_is_refused(change: dict[str, object], code: str) -> None:
    assert_refused(code, **change)  # type: ignore[arg-type]


def test_window_edges_are_inclusive() -> None:
    for now in (NOW - 60, NOW + 60):
        verify_request("POST", "/api/v1/posts", "limit=5", signed(), BODY, recipient=RECIPIENT, now=now)


def replace_in(field: str, old: str, new: str) -> dict[str, str]:
    headers = signed()
    assert old in headers[field]
    headers[field] = headers[field].replace(old, new)
    return headers


def test_tampered_created_is_refused() -> None:
    assert_refused("bad_signature", headers=replace_in("Signature-Input", "created=1700000000", "created=1700000001"))


def test_tampered_nonce_is_refused() -> None:
    assert_refused("bad_signature", headers=replace_in("Signature-Input", NONCE, NONCE[::-1]))


def test_keyid_of_another_key_is_refused() -> None:
    other = Identity.from_seed(bytes(31) + b"\x01").public_key
    me = Identity.from_seed(SEED).public_key
    assert_refused("bad_signature", headers=replace_in("Signature-Input", me, other))


def test_request_signed_by_a_with_keyid_of_b_is_refused() -> None:
    a, b = Identity.from_seed(b"a" * 32), Identity.from_seed(b"b" * 32)
    headers = replace_in("Signature-Input", Identity.from_seed(SEED).public_key, b.public_key)
    headers["Signature"] = signed(identity=a)["Signature"]
    assert_refused("bad_signature", headers=headers)


def test_every_flipped_signature_byte_is_refused() -> None:
    headers = signed()
    raw = bytearray(base64.b64decode(headers["Signature"].removeprefix("murmur=:").removesuffix(":")))
    for i in range(len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        headers["Signature"] = "murmur=:" + base64.b64encode(bytes(flipped)).decode() + ":"
        assert_refused("bad_signature", headers=headers)


def test_tampered_content_digest_header_is_refused() -> None:
    headers = signed()
    headers["Content-Digest"] = content_digest(b"other")
    assert_refused("digest_mismatch", headers=headers)


@pytest.mark.parametrize(
    ("field", "old", "new", "code"),
    [
        ("Signature-Input", 'alg="ed25519"', 'alg="rsa-pss-sha512"', "unsupported_algorithm"),
        ("Signature-Input", 'alg="ed25519"', "alg=ed25519", "unsupported_algorithm"),
        ("Signature-Input", ';alg="ed25519"', "", "unsupported_algorithm"),
        ("Signature-Input", ' "@query"', "", "missing_component"),
        ("Signature-Input", ' "content-digest"', "", "missing_component"),
        ("Signature-Input", '"@method" ', "", "missing_component"),
        ("Signature-Input", '"@path" ', '"@path" "@path" ', "malformed_signature"),
        ("Signature-Input", '"@path" ', '"@path";req ', "malformed_signature"),
        ("Signature-Input", '"@path" ', '"@target-uri" "@path" ', "malformed_signature"),
        ("Signature-Input", '"@path" ', '"x-absent" "@path" ', "malformed_signature"),
        ("Signature-Input", ';nonce="', ';tag="x";nonce="', "malformed_signature"),
        ("Signature-Input", "created=1700000000", "created=-1", "malformed_signature"),
        ("Signature-Input", "created=1700000000", "created=1700000000.5", "malformed_signature"),
        ("Signature-Input", "created=1700000000", 'created="1700000000"', "malformed_signature"),
        ("Signature-Input", f'nonce="{NONCE}"', 'nonce="short"', "malformed_signature"),
        ("Signature-Input", f';nonce="{NONCE}"', "", "malformed_signature"),
        ("Signature-Input", "keyid=", "keyid=?1;x=", "malformed_signature"),
        ("Signature-Input", "murmur=", "other=", "missing_signature"),
        ("Signature", "murmur=", "other=", "missing_signature"),
        ("Signature", "murmur=:", "murmur=:AAAA", "malformed_signature"),
        ("Signature", "==:", "==:;p=1", "malformed_signature"),
    ],
)
def test_malformed_signature_fields_are_refused(field: str, old: str, new: str, code: str) -> None:
    assert_refused(code, headers=replace_in(field, old, new))


@pytest.mark.parametrize(
    ("keyid", "code"),
    [
        ("ab", "bad_key"),
        ("03A107BFF3CE10BE1D70DD18E74BC09967E4D6309BA50D5F1DDC8664125531B8", "bad_key"),
        ("g" * 64, "bad_key"),
        *[(key, "weak_key") for key in sorted(SMALL_ORDER_KEYS)],
    ],
)
def test_bad_and_weak_keyids_are_refused(keyid: str, code: str) -> None:
    assert_refused(code, headers=replace_in("Signature-Input", Identity.from_seed(SEED).public_key, keyid))


def test_missing_fields_are_refused() -> None:
    for field, code in [
        ("Signature", "missing_signature"),
        ("Signature-Input", "missing_signature"),
        ("Content-Digest", "missing_digest"),
    ]:
        headers = signed()
        del headers[field]
        assert_refused(code, headers=headers)


def test_digest_without_sha256_is_refused() -> None:
    headers = signed()
    headers["Content-Digest"] = "sha-512=:" + base64.b64encode(bytes(64)).decode() + ":"
    assert_refused("missing_digest", headers=headers)


def test_other_signatures_in_the_same_fields_are_left_alone() -> None:
    headers = signed()
    headers["Signature-Input"] = 'proxy=("@method");created=1;keyid="p", ' + headers["Signature-Input"]
    headers["Signature"] += ", proxy=:AAAA:"
    verify_request("POST", "/api/v1/posts", "limit=5", headers, BODY, recipient=RECIPIENT, now=NOW)


def test_repeated_header_lines_are_combined() -> None:
    class MultiHeaders(dict):  # the shape of Starlette's Headers: items() lists every line
        def items(self):  # type: ignore[override]
            return [*signed().items(), ("signature-input", 'proxy=("@method");keyid="p"')]

    verify_request("POST", "/api/v1/posts", "limit=5", MultiHeaders(), BODY, recipient=RECIPIENT, now=NOW)


# --- replay ----------------------------------------------------------------------------------------------


def test_identical_request_is_refused_the_second_time() -> None:
    cache = ReplayCache()
    verify_request("POST", "/api/v1/posts", "limit=5", signed(), BODY, recipient=RECIPIENT, now=NOW, replay=cache)
    assert_refused("replayed", replay=cache, now=NOW + 1)


def test_same_nonce_from_another_key_is_not_a_replay() -> None:
    cache = ReplayCache()
    for seed in (b"a" * 32, b"b" * 32):
        verify_request(
            "POST",
            "/api/v1/posts",
            "limit=5",
            signed(identity=Identity.from_seed(seed)),
            BODY,
            recipient=RECIPIENT,
            now=NOW,
            replay=cache,
        )


def test_forged_requests_do_not_fill_the_cache() -> None:
    cache = ReplayCache()
    assert_refused("digest_mismatch", body=b"x", replay=cache)
    assert len(cache) == 0


def test_cache_forgets_entries_older_than_its_window() -> None:
    cache = ReplayCache(window_s=300)
    assert not cache.seen("k", "n", created=NOW, now=NOW)
    assert cache.seen("k", "n", created=NOW, now=NOW + 300)
    assert not cache.seen("k", "n2", created=NOW + 301, now=NOW + 301)
    assert len(cache) == 1  # the first entry left the window and was dropped


def test_full_cache_refuses_rather_than_evicting_live_entries() -> None:
    cache = ReplayCache(window_s=300, max_entries=2)
    assert not cache.seen("k", "n1", NOW, NOW)
    assert not cache.seen("k", "n2", NOW, NOW)
    with pytest.raises(Refused) as err:
        cache.seen("k", "n3", NOW, NOW)
    assert err.value.code == "busy"
    assert cache.seen("k", "n1", NOW, NOW)
    assert not cache.seen("k", "n3", NOW + 1, NOW + 301)  # once the old ones expire there is room again


def test_cache_shorter_than_window_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        verify_request(
            "POST",
            "/api/v1/posts",
            "limit=5",
            signed(),
            BODY,
            recipient=RECIPIENT,
            now=NOW,
            replay=ReplayCache(window_s=30),
        )


# --- structured-field parsing ------------------------------------------------------------------------------


def test_parse_dictionary_types() -> None:
    parsed = parse_dictionary('a=1, b="x\\"y";p=?0, c=:AQID:, d=(tok "s");q=-1.5, e, f=*t/k:n')
    assert parsed == {
        "a": (1, {}),
        "b": ('x"y', {"p": False}),
        "c": (b"\x01\x02\x03", {}),
        "d": ([(Token("tok"), {}), ("s", {})], {"q": -1.5}),
        "e": (True, {}),
        "f": (Token("*t/k:n"), {}),
    }
    assert isinstance(parsed["d"][0][0][0], Token)  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a=",
        "a=1,",
        "A=1",
        "a=(1",
        'a="x',
        'a="\\n"',
        "a=:AB*:",
        "a=:A:",
        "a=1 b=2",
        "a=(1 2)x",
        "a=ä",
        "a=1" * 5000,
    ],
)
def test_parse_dictionary_refuses_invalid_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_dictionary(text)


def _rfc8941_string(text: str) -> str | None:
    """RFC 8941 section 4.2.5 step by step: the value when ``text`` is exactly one sf-string, else None."""
    if not text.startswith('"'):
        return None
    out, at = [], 1
    while at < len(text):
        char, at = text[at], at + 1
        if char == "\\":
            if at == len(text) or text[at] not in '"\\':
                return None
            out.append(text[at])
            at += 1
        elif char == '"':
            return "".join(out) if at == len(text) else None
        elif not " " <= char <= "~":
            return None
        else:
            out.append(char)
    return None


@settings(max_examples=1000, deadline=None)
@given(inner=st.lists(st.sampled_from(['"', "\\", "a", " ", "~", "\t", "\x7f", "\x1f", "é", ";", "="]), max_size=12))
def test_strings_parse_as_rfc8941_says(inner: list[str]) -> None:
    text = '"' + "".join(inner) + '"'
    expected = _rfc8941_string(text)
    try:
        parsed = parse_dictionary("a=" + text)
    except ValueError:
        assert expected is None
    else:
        assert parsed == {"a": (expected, {})}


def test_signature_params_round_trip() -> None:
    text = '("@method" "x");created=1;keyid="a\\"b";alg=tok;d=?1;e=:AA==:;f=1.25'
    members = parse_dictionary("l=" + text)
    inner, params = members["l"]
    assert isinstance(inner, list)
    assert serialize_signature_params([str(name) for name, _ in inner], params) == text


def test_build_signature_base_refuses_unsignable_values() -> None:
    for components in (
        [("a", "1"), ("a", "2")],
        [("a", "x\ny")],
        [("a", "é")],
        [('a"', "1")],
        [("@signature-params", "")],
    ):
        with pytest.raises(ValueError):
            build_signature_base(components, "()")


FIELD_NAMES = st.sampled_from(["Signature-Input", "Signature", "Content-Digest", "signature-input", "X-Other"])
SF_ALPHABET = st.sampled_from([*'murmur=sig()";:,? -*.@/\\aAz09+=\t', "keyid", "created", "alg", "nonce"])
SF_TEXT = st.lists(SF_ALPHABET, max_size=60).map("".join)


@settings(max_examples=500, deadline=None)
@given(headers=st.dictionaries(FIELD_NAMES, st.one_of(st.text(max_size=200), SF_TEXT)), body=st.binary(max_size=20))
def test_fuzzed_headers_only_ever_raise_refused(headers: dict[str, str], body: bytes) -> None:
    with contextlib.suppress(Refused):
        verify_request(
            "POST", "/api/v1/posts", "limit=5", headers, body, recipient=RECIPIENT, now=NOW, replay=ReplayCache()
        )


@settings(max_examples=500, deadline=None)
@given(position=st.integers(min_value=0, max_value=400), insert=st.text(max_size=3), field=FIELD_NAMES)
def test_mutated_valid_headers_only_ever_raise_refused(position: int, insert: str, field: str) -> None:
    headers = signed()
    value = headers.get(field, "")
    headers[field] = value[:position] + insert + value[position + len(insert) :]
    with contextlib.suppress(Refused):
        verify_request("POST", "/api/v1/posts", "limit=5", headers, BODY, recipient=RECIPIENT, now=NOW)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(max_size=200), SF_TEXT))
def test_fuzzed_dictionary_text_only_ever_raises_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_dictionary(text)


def test_module_imports_no_web_or_screen_library() -> None:
    code = (
        "import sys, murmur.httpsig\n"
        "bad = {'starlette', 'httpx', 'typer', 'textual', 'rich', 'uvicorn'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- bound to one server -----------------------------------------------------------------------------------

OTHER_SERVER = Identity.from_seed(b"s" * 32).public_key


def test_a_request_signed_for_another_server_is_refused() -> None:
    with pytest.raises(Refused) as err:
        verify_request("POST", "/api/v1/posts", "limit=5", signed(), BODY, recipient=OTHER_SERVER, now=NOW)
    assert err.value.code == "wrong_server"


@pytest.mark.parametrize(
    ("new", "code"),
    [
        ("", "malformed_signature"),  # no recipient at all: an old signer, or one that strips it
        (';recipient="ab"', "malformed_signature"),
        (';recipient="' + RECIPIENT.upper() + '"', "malformed_signature"),
        (";recipient=?1", "malformed_signature"),
        (f';recipient="{OTHER_SERVER}"', "wrong_server"),
    ],
)
def test_recipient_must_name_this_server(new: str, code: str) -> None:
    assert_refused(code, headers=replace_in("Signature-Input", f';recipient="{RECIPIENT}"', new))


def test_recipient_is_covered_by_the_signature() -> None:
    # Signed for OTHER_SERVER, then relabelled for this one: the recipient is part of the signature base.
    headers = signed()
    headers["Signature-Input"] = headers["Signature-Input"].replace(RECIPIENT, OTHER_SERVER)
    with pytest.raises(Refused) as err:
        verify_request("POST", "/api/v1/posts", "limit=5", headers, BODY, recipient=OTHER_SERVER, now=NOW)
    assert err.value.code == "bad_signature"


def test_signing_needs_a_recipient_key() -> None:
    with pytest.raises(ValueError):
        sign_request(Identity.from_seed(SEED), "GET", "/", "", b"", recipient="example.com")


# --- anything signed appears once --------------------------------------------------------------------------


class Lines(dict):  # type: ignore[type-arg]
    """Header lines as a server's multi-dict lists them: items() gives every line, repeats included."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        super().__init__(lines)
        self.lines = lines

    def items(self):  # type: ignore[no-untyped-def,override]
        return list(self.lines)


def decoy(field: str) -> str:
    """A second, different ``murmur`` member for ``field``: what an attacker adds to a valid request."""
    other = signed(nonce="another-nonce-for-a-decoy", created=NOW + 1)
    return other[field]


@pytest.mark.parametrize("field", ["Signature-Input", "Signature"])
@pytest.mark.parametrize("valid_last", [True, False])
def test_a_label_twice_in_one_field_is_refused(field: str, valid_last: bool) -> None:
    headers = signed()
    pair = [decoy(field), headers[field]]
    headers[field] = ", ".join(pair if valid_last else pair[::-1])
    assert_refused("duplicate_field", headers=headers)


@pytest.mark.parametrize("field", ["Signature-Input", "Signature"])
def test_a_label_twice_across_two_lines_is_refused(field: str) -> None:
    good = signed()
    lines = [(name, value) for name, value in good.items() if name != field]
    lines += [(field, decoy(field)), (field, good[field])]  # the valid one last: "last wins" would accept it
    assert_refused("duplicate_field", headers=Lines(lines))


def test_two_lines_through_httpx_headers_are_seen_too() -> None:
    import httpx

    good = signed()
    lines = [*good.items(), ("Signature", decoy("Signature"))]
    assert_refused("duplicate_field", headers=httpx.Headers(lines))  # type: ignore[arg-type]


def test_content_digest_with_two_sha256_values_is_refused() -> None:
    headers = signed()
    wrong = content_digest(b"another body")
    for value in (f"{wrong}, {headers['Content-Digest']}", f"{headers['Content-Digest']}, {wrong}"):
        assert_refused("duplicate_field", headers={**headers, "Content-Digest": value})
    twice = headers["Content-Digest"] + ", " + headers["Content-Digest"]
    assert_refused("duplicate_field", headers={**headers, "Content-Digest": twice})


def test_covered_content_digest_on_two_lines_is_refused() -> None:
    good = signed()
    lines = [*good.items(), ("content-digest", good["Content-Digest"])]
    assert_refused("duplicate_field", headers=Lines(lines))


def test_a_signature_parameter_twice_is_refused() -> None:
    headers = replace_in("Signature-Input", f'nonce="{NONCE}"', f'nonce="{NONCE}";created={NOW}')
    assert_refused("duplicate_field", headers=headers)


def _sign_covering(extra: list[str], headers: dict[str, str]) -> dict[str, str]:
    """A valid signature that also covers the ``extra`` components (header names or ``@authority``)."""
    identity = Identity.from_seed(SEED)
    base_headers = signed()
    fields = {name.lower(): value for name, value in {**base_headers, **headers}.items()}
    names = ["@method", "@path", "@query", "content-digest", *extra]
    params = {"created": NOW, "keyid": identity.public_key, "alg": "ed25519", "nonce": NONCE, "recipient": RECIPIENT}
    line = serialize_signature_params(names, params)  # type: ignore[arg-type]
    base = build_signature_base(resolve_components(names, "POST", "/api/v1/posts", "limit=5", fields), line)
    signature = base64.b64encode(bytes.fromhex(identity.sign(base))).decode()
    return {**base_headers, **headers, "Signature-Input": f"murmur={line}", "Signature": f"murmur=:{signature}:"}


@pytest.mark.parametrize(("extra", "field"), [("content-type", "Content-Type"), ("@authority", "Host")])
def test_a_covered_field_sent_on_two_lines_is_refused(extra: str, field: str) -> None:
    headers = _sign_covering([extra], {field: "application/json" if field == "Content-Type" else "a.example"})
    verify_request("POST", "/api/v1/posts", "limit=5", headers, BODY, recipient=RECIPIENT, now=NOW)  # one line: fine
    lines = [*headers.items(), (field, "text/plain" if field == "Content-Type" else "b.example")]
    assert_refused("duplicate_field", headers=Lines(lines))


def test_other_labels_on_other_lines_are_still_fine() -> None:
    good = signed()
    lines = [*good.items(), ("Signature-Input", 'proxy=("@method");keyid="p"'), ("Signature", "proxy=:AAAA:")]
    verify_request("POST", "/api/v1/posts", "limit=5", Lines(lines), BODY, recipient=RECIPIENT, now=NOW)


@pytest.mark.parametrize("text", ["a=1, a=2", "a=1, b=2, a=1", "a=1;p;p", "a=(x y);p=1;p=2", "a=(x;q=1;q=2)"])
def test_parse_dictionary_refuses_a_key_named_twice(text: str) -> None:
    with pytest.raises(DuplicateKey):
        parse_dictionary(text)


@given(st.text(alphabet=st.characters(max_codepoint=0x2100), max_size=24))
def test_a_path_or_query_resolves_to_its_escaped_wire_form_whatever_it_holds(text: str) -> None:
    # The printable-ASCII shortcut (every wire form takes it) agrees with escaping every character.
    values = dict(resolve_components(["@path", "@query"], "GET", "/" + text, text, {}))
    assert values["@path"] == urllib.parse.quote("/" + text, safe=_URL_SAFE)
    assert values["@query"] == "?" + urllib.parse.quote(text, safe=_URL_SAFE)
