"""docs/encryption.md §15's private-group vectors are what the code derives and writes, byte for byte, and every
documented message reads on every device of its epoch but the writer, and on no device of another epoch."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.errors import Refused
from murmur.group_epoch import open_epoch
from murmur.group_sealing import decrypt_group
from tests.group_vectors import ENCRYPTION, GROUP, MARKERS, documented, epochs, keys_for, keys_table, vectors
from tests.sealing_vectors import region_of


def test_the_documented_vectors_are_the_generated_ones() -> None:
    assert region_of(ENCRYPTION.read_text(encoding="utf-8"), MARKERS).startswith(keys_table() + "\n")
    assert documented() == vectors()


def test_each_documented_epoch_plaintext_opens_to_its_epoch() -> None:
    for vector, epoch in zip(documented()["epochs"], epochs(), strict=True):
        assert open_epoch(vector["plaintext"].encode("utf-8"), group=GROUP) == epoch


def _readers(message: dict[str, Any]) -> list[str]:
    epoch = documented()["epochs"][message["message"]["epoch"]]
    return [name for name in epoch["devices"] if name != message["sender"]]


@pytest.mark.parametrize("vector", documented()["messages"], ids=lambda v: f"{v['sender']}-{v['plaintext']}")
def test_each_documented_message_reads_on_every_other_device_of_its_epoch(vector: dict[str, Any]) -> None:
    number = vector["message"]["epoch"]
    epoch = epochs()[number]
    for name in _readers(vector):
        keys = keys_for(epoch, documented()["epochs"][number]["devices"])
        opened = decrypt_group(keys, vector["message"], bound=vector["bound"])
        assert opened.plaintext == vector["plaintext"].encode("utf-8"), name
        assert opened.header.index == vector["index"]
    other = epochs()[1 - number]
    with pytest.raises(Refused) as caught:
        decrypt_group(keys_for(other, documented()["epochs"][1 - number]["devices"]), vector["message"])
    assert caught.value.code == "wrong_epoch"
