"""docs/protocol.md is normative: its test vectors and its tables are read here and checked against the code.

The vectors pin the format itself (canonical bytes, ids, signatures, reason codes), so a change to the code that
breaks them is a protocol change, and a change to the document that the code does not follow fails here.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from murmur import validate
from murmur.errors import Refused
from murmur.jcs import canonicalize
from murmur.keys import Identity, verify_signature
from murmur.message import ENVELOPE_FIELDS, envelope_of
from murmur.validate import KINDS

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")


def section(heading: str) -> str:
    """The text of the level-2 (or deeper) section whose heading contains ``heading``, up to the next one as high."""
    match = re.search(rf"^(#+) [^\n]*{re.escape(heading)}[^\n]*$", PROTOCOL, re.MULTILINE)
    assert match, f"docs/protocol.md has no heading containing {heading!r}"
    level = len(match.group(1))
    rest = PROTOCOL[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def table_after(text: str, header_start: str) -> list[list[str]]:
    """Rows (cells stripped, backticks removed) of the markdown table whose header row starts with ``header_start``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip().strip("|").split("|")])
    return rows


def load_vectors() -> list[dict[str, Any]]:
    blocks = re.findall(r"^```json\n(.*?)^```$", section("Test vectors"), re.MULTILINE | re.DOTALL)
    return [json.loads(block) for block in blocks]


VECTORS = load_vectors()
VALID = [v for v in VECTORS if v["expect"] == "valid"]
INVALID = [v for v in VECTORS if v["expect"] != "valid"]


def by_name(vectors: list[dict[str, Any]]) -> Any:
    return pytest.mark.parametrize("vector", vectors, ids=[v["name"] for v in vectors])


def test_the_vectors_cover_the_kinds_and_the_refusals() -> None:
    assert len({v["name"] for v in VECTORS}) == len(VECTORS), "vector names must be unique"
    assert len(VALID) >= 6 and len(INVALID) >= 12
    # Every kind this version knows, and one it does not: a kind from a newer version is carried (§7.3).
    assert {v["message"]["kind"] for v in VALID} - {"survey"} == set(KINDS)
    assert "survey" not in KINDS and any(v["message"]["kind"] == "survey" for v in VALID)
    required = {
        "id_mismatch", "bad_signature", "duplicate_key", "invalid_utf8", "lone_surrogate", "not_integer",
        "out_of_range", "unknown_version", "unknown_kind", "missing_field", "extra_field", "bad_key", "weak_key",
        "from_future", "bad_tag", "too_long",
    }  # fmt: skip
    assert required <= {v["expect"] for v in INVALID}


@by_name(VALID)
def test_valid_vector_recomputes_from_its_seed(vector: dict[str, Any]) -> None:
    identity = Identity.from_seed(bytes.fromhex(vector["seed"]))
    assert identity.public_key == vector["public_key"] == vector["message"]["author"]
    canonical = canonicalize(envelope_of(vector["message"]))
    assert canonical.hex() == vector["canonical_hex"]
    assert canonical == vector["canonical_text"].encode("utf-8")
    assert hashlib.sha256(canonical).hexdigest() == vector["id"] == vector["message"]["id"]
    assert identity.sign(canonical) == vector["sig"] == vector["message"]["sig"]
    assert verify_signature(vector["public_key"], vector["sig"], canonical)


@by_name(VALID)
def test_valid_vector_is_accepted(vector: dict[str, Any]) -> None:
    message = vector["message"]
    assert list(message) == [*ENVELOPE_FIELDS, "id", "sig"]
    for data in (json.dumps(message).encode(), json.dumps(message, ensure_ascii=False, indent=2).encode()):
        accepted = validate.check(data)
        assert accepted.to_dict() == message
        assert accepted.raw == canonicalize(message)


@by_name(INVALID)
def test_invalid_vector_is_refused_with_its_code(vector: dict[str, Any]) -> None:
    # Text inputs are encoded as they are written; bytes that are not UTF-8 come as hex.
    data = vector["input"].encode("utf-8") if "input" in vector else bytes.fromhex(vector["input_hex"])
    with pytest.raises(Refused) as info:
        validate.check(data)
    assert info.value.code == vector["expect"], info.value.message


def test_invalid_utf8_vectors_are_really_not_utf8() -> None:
    for vector in INVALID:
        if "input_hex" in vector:
            with pytest.raises(UnicodeDecodeError):
                bytes.fromhex(vector["input_hex"]).decode("utf-8")


# The tables of the document against the code.
def codes_raised_in(*paths: Path) -> set[str]:
    pattern = re.compile(r'(?:_refuse|Refused)\(\s*"(\w+)"|code="(\w+)"')
    found: set[str] = set()
    for path in paths:
        for match in pattern.finditer(path.read_text()):
            found.add(match.group(1) or match.group(2))
    return found


def test_reason_code_table_lists_exactly_the_codes_the_core_raises() -> None:
    documented = {row[0] for row in table_after(section("Reason codes"), "| Code")}
    core = codes_raised_in(*(ROOT / "murmur" / name for name in ("jcs.py", "validate.py", "message.py")))
    # Only ingest speaks the protocol; the store's other codes (membership, invites) are server policy.
    store = codes_raised_in(ROOT / "murmur" / "store" / "ingest.py", *sorted((ROOT / "murmur" / "kinds").glob("*.py")))
    assert core - documented == set(), "document these codes in docs/protocol.md (Reason codes)"
    assert store - documented == set(), "document these store codes in docs/protocol.md (Reason codes)"
    assert documented - core - store == set(), "these documented codes are raised nowhere"


def test_validation_order_names_every_validation_code() -> None:
    order = section("Validation order and reason codes").split("### Reason codes")[0]
    named = set(re.findall(r"`([a-z0-9_]+)`", order))
    raised = codes_raised_in(ROOT / "murmur" / "validate.py") | {"lone_surrogate"}
    assert raised - named == set()


def test_body_table_matches_the_code() -> None:
    rows = table_after(section("Bodies"), "| kind | member")
    documented: dict[str, dict[str, tuple[bool, int, tuple[str, ...] | None]]] = {}
    for kind, member, required, longest, allowed in rows:
        members = documented.setdefault(kind, {})
        if member:
            values = tuple(a.strip() for a in allowed.split(",")) if allowed else None
            members[member] = (required == "yes", int(longest), values)
    assert documented == validate.BODIES
    assert list(documented) == list(KINDS)


def test_tag_table_matches_the_code() -> None:
    rows = table_after(section("Tags"), "| kind | tag")
    documented: dict[str, dict[str, tuple[int, int]]] = {kind: {} for kind in KINDS}
    for kind, name, fewest, most in rows:
        documented[kind][name] = (int(fewest), int(most))
    assert documented == validate.TAGS


def test_limits_table_matches_the_code() -> None:
    rows = table_after(section("Limits"), "| Limit")
    documented = {row[0]: int(row[1]) for row in rows}
    assert documented == {
        name: getattr(validate, name)
        for name in ("MAX_MESSAGE_BYTES", "MAX_TAGS", "MAX_FUTURE_SKEW_MS", "MAX_INT_DIGITS")
    }


def test_small_order_list_matches_the_code() -> None:
    listed = set(re.findall(r"^([0-9a-f]{64})\s", section("Keys"), re.MULTILINE))
    assert listed == validate.SMALL_ORDER_KEYS


def test_the_worked_example_is_the_first_vector() -> None:
    example = re.search(r"^```text\n(.*?)\n```$", section("Canonical bytes"), re.MULTILINE | re.DOTALL)
    assert example, "the canonical-bytes section lost its example"
    first = next(v for v in VALID if v["name"] == "post-first")
    assert example.group(1) == first["canonical_text"]
