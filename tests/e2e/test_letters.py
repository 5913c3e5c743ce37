"""Open letters on two real `murmur serve` processes, read with the real CLI: the same signatures and withdrawals
reaching each server in opposite orders (on one, before their letter) give the same count and signers on both,
and an edited text, made and signed live across the two servers, starts a count of its own that both agree on."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Person, ServerProcess, stored_ids, wait_for
from tests.e2e.two_servers import bundle, deliver, signed, two_servers

pytestmark = pytest.mark.timeout(240)


def counted(person: Person, letter_id: str) -> tuple[int, list[tuple[str, str]]]:
    shown = person.json("letter", "signers", letter_id)
    return shown["count"], [(s["key"], s["note"]) for s in shown["signers"]]


def test_withdrawals_and_an_edited_text_give_the_same_count_on_two_servers(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    servers = two_servers(tmp_path, procs, "cy")
    a, b, ada, bea, (cy,) = servers.a, servers.b, servers.ada, servers.bea, servers.others
    now = int(time.time() * 1000)
    deadline = now - 10_000  # signing on the first version has ended
    body = {"title": "Rooms", "to": "the board", "text": "Give us rooms.", "deadline": str(deadline)}
    letter = signed(ada, {"kind": "letter", "body": body, "tags": [], "created_at": now - 60_000})

    def sign(person: Person, at: int, note: str = "") -> dict[str, Any]:
        tags = [["target", letter["id"]], ["subject", letter["author"]]]
        return signed(person, {"kind": "signature", "body": {"note": note} if note else {}, "tags": tags,
                               "created_at": at})  # fmt: skip

    def withdraw(person: Person, signature: dict[str, Any], at: int) -> dict[str, Any]:
        return signed(person, {"kind": "delete", "body": {}, "tags": [["target", signature["id"]]], "created_at": at})

    ada_sig, bea_sig = sign(ada, now - 50_000), sign(bea, now - 45_000)
    cy_first, cy_second = sign(cy, now - 40_000, "first"), sign(cy, now - 30_000, "second")
    messages = [
        ada_sig, bea_sig, cy_first, cy_second,
        withdraw(bea, bea_sig, now - 20_000),  # before the deadline: Bea no longer counts
        withdraw(cy, cy_second, now - 5_000),  # after it: withdraws nothing
        sign(bea, now - 1_000, "too late"),  # after the deadline: never counts
    ]  # fmt: skip
    # a: the letter first, then the rest oldest first; b: the rest newest first, then the letter.
    path = bundle(tmp_path / "a.jsonl", letter, *messages)
    report = ada.run("import", "--data", str(a.data), str(path), "--json", check=False)
    assert report.returncode == 1  # the late signature is refused, seen against its letter; the rest are stored
    assert (json.loads(report.stdout)["stored"], json.loads(report.stdout)["refused"]) == (7, 1)
    assert deliver(bea, b, tmp_path / "b1.jsonl", *reversed(messages))["stored"] == 7  # waiting for their letter
    assert deliver(bea, b, tmp_path / "b2.jsonl", letter)["stored"] == 1

    first = (2, sorted([(ada.key, ""), (cy.key, "second")]))
    assert counted(ada, letter["id"]) == first == counted(bea, letter["id"])
    for person in (ada, bea):
        assert person.json("letter", "verify", letter["id"]) == {"count": 2, "valid": 2, "invalid": 0}

    # Live: the servers trust each other; Ada edits the text on a (a new version), Bea signs it on b.
    servers.trust(tmp_path)
    second = ada.json("letter", "create", "Rooms", "--to", "the board", "Give us rooms by June.",
                      "--replaces", letter["id"])["id"]  # fmt: skip
    wait_for(lambda: second in stored_ids(b, "letter"))
    new_signatures = {
        bea.json("letter", "sign", second, "--note", "yes")["id"],
        ada.json("letter", "sign", second)["id"],
    }
    assert ada.json("letter", "withdraw", second)["withdrawn"]
    wait_for(lambda: new_signatures <= set(stored_ids(a, "signature")) & set(stored_ids(b, "signature")))
    wait_for(lambda: len(stored_ids(a, "delete")) == len(stored_ids(b, "delete")) == 3)

    renewed = (1, [(bea.key, "yes")])
    assert counted(ada, second) == renewed == counted(bea, second)
    assert counted(ada, letter["id"]) == first == counted(bea, letter["id"])  # nothing carried over
    for person in (ada, bea):
        shown = person.json("letter", "signers", second)
        assert (shown["previous"], person.json("letter", "signers", letter["id"])["newer"]) == (letter["id"], [second])
        assert person.json("letter", "verify", second) == {"count": 1, "valid": 1, "invalid": 0}
