"""docs/encryption.md §8's vectors are what the code makes and opens: regenerated and compared (all but the
wraps, whose HPKE ephemeral key cannot be injected), and each documented envelope opened by each recipient."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.errors import Refused
from murmur.sealing import open_sealed, public_hex
from tests.sealing_vectors import ENCRYPTION, device, documented, keys_table, region_of, vectors


def _without_wraps(vector: dict[str, Any]) -> dict[str, Any]:
    envelope = vector["envelope"]
    to = [{"device": entry["device"]} for entry in envelope["to"]]
    return {**vector, "envelope": {**envelope, "to": to}}


def test_the_documented_vectors_are_the_generated_ones_but_for_the_wraps() -> None:
    assert region_of(ENCRYPTION.read_text(encoding="utf-8")).startswith(keys_table() + "\n")
    assert [_without_wraps(v) for v in documented()] == [_without_wraps(v) for v in vectors()]


@pytest.mark.parametrize("vector", documented(), ids=lambda v: v["name"])
def test_each_documented_envelope_opens_for_each_recipient_and_nobody_else(vector: dict[str, Any]) -> None:
    for who in vector["recipients"]:
        opened = open_sealed(vector["envelope"], device(who), bound=vector["bound"])
        assert opened.plaintext == vector["plaintext"].encode("utf-8")
        assert opened.sender == public_hex(device(vector["sender"]))
    with pytest.raises(Refused) as caught:
        open_sealed(vector["envelope"], device("stranger"), bound=vector["bound"])
    assert caught.value.code == "not_for_me"
