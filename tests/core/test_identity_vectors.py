"""docs/protocol.md §13's vectors are what the code makes and reads: regenerated here and compared, and each
log read back from the document resolves to the state it states."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from murmur.kinds.key_log import Event, resolve, verdict
from murmur.validate import check
from tests.identity_vectors import LOGS, MESSAGES, PROTOCOL, region_of, regions

TEXT = PROTOCOL.read_text(encoding="utf-8")


def test_the_documented_vectors_are_the_generated_ones() -> None:
    for markers, body in regions().items():
        assert region_of(TEXT, markers) == body, "run: python -m tests.identity_vectors --write"


def _logs() -> list[dict[str, Any]]:
    blocks = re.findall(r"^```json\n(.*?)^```$", region_of(TEXT, LOGS), re.MULTILINE | re.DOTALL)
    return [json.loads(b) for b in blocks]


@pytest.mark.parametrize("vector", _logs(), ids=lambda v: v["name"])
def test_a_documented_log_resolves_to_its_documented_state(vector: dict[str, Any]) -> None:
    events = [Event.of(check(json.dumps(m).encode())) for m in vector["events"]]
    log = resolve(vector["identity"], reversed(events), vector.get("backdated", ()))
    assert log is not None
    expect = vector["expect"]
    assert list(log.chain) == expect["chain"]
    assert (log.state.next, log.state.home) == (expect["next"], expect["home"])
    assert [d.key for d in log.state.devices.values()] == [d["key"] for d in expect["devices"]]
    assert [d.removed_at for d in log.state.devices.values()] == [d["removed_at"] for d in expect["devices"]]
    assert [d.disputed_at for d in log.state.devices.values()] == [d["disputed_at"] for d in expect["devices"]]
    assert {i: r.code for i, r in log.refused.items()} == expect["refused"]
    assert list(log.superseded) == expect["superseded"]
    assert (log.fork is None) == (expect["fork"] is None)
    for probe in vector["verdicts"]:
        judged = verdict(log, probe["device"], probe["created_at"])
        assert (judged.code or judged.status) == probe["expect"]


def test_the_message_vectors_sit_in_the_valid_vectors() -> None:
    valid = TEXT.split("### Valid", 1)[1].split("### Invalid", 1)[0]
    assert region_of(TEXT, MESSAGES) in valid
