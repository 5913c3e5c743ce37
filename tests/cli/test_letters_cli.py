"""``murmur letter create / sign / withdraw / signers / verify`` against a real server on 127.0.0.1: the exact
JSON shapes of the contract, the text from stdin, a new version that starts again, withdrawals, and a check that
disagrees with a tampered server count, shown beside it."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from murmur.client.cli.letters import render_signers
from murmur.client.cli.main import main
from murmur.keys import fingerprint
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.message import sign_draft
from murmur.validate import check
from tests.cli.test_groups_cli import Someone
from tests.server.test_letters_api import forge_signature
from tests.tui.conftest import ALICE, BOB, ME
from tests.tui.test_snapshots import ThreadedServer
from tests.tui.test_snapshots import snap_server as home_server

__all__ = ["home_server"]


@pytest.fixture
def people(home_server: ThreadedServer, tmp_path: Path) -> tuple[Someone, Someone, Someone]:
    return tuple(Someone(tmp_path / n, who, home_server) for n, who in (("a", ALICE), ("b", BOB), ("m", ME)))  # type: ignore[return-value]


def piped(someone: Someone, text: str, *args: str) -> str:
    """Run a command with ``text`` on stdin; its stdout."""
    with CliRunner().isolation(input=text) as (out, err, _):
        with pytest.raises(SystemExit) as ended:
            main(["--home", str(someone.home), *args])
        assert ended.value.code in (0, None), err.getvalue()
        return out.getvalue().decode("utf-8")


def test_an_open_letter_from_the_command_line(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, me = people
    created = alice.json("letter", "create", "Four-day week", "--to", "the leadership team", "We ask for a trial.")
    assert list(created) == ["id"]
    letter = created["id"]
    bob.ok("letter", "sign", letter[:12], "--note", "first")
    bob.ok("letter", "sign", letter, "--note", "yes, please")  # a new note; Bob still counts once
    me.ok("letter", "sign", letter)
    shown = me.json("letter", "signers", letter)
    assert (shown["count"], shown["title"], shown["to"], shown["previous"], shown["newer"]) == (
        2, "Four-day week", "the leadership team", None, [],
    )  # fmt: skip
    assert {(s["key"], s["fingerprint"], s["note"]) for s in shown["signers"]} == {
        (BOB.public_key, fingerprint(BOB.public_key), "yes, please"),
        (ME.public_key, fingerprint(ME.public_key), ""),
    }
    assert me.json("letter", "verify", letter) == {"count": 2, "valid": 2, "invalid": 0}
    withdrawn = bob.json("letter", "withdraw", letter)["withdrawn"]
    assert len(withdrawn) == 2  # both of Bob's signatures: none of them stands now
    assert me.json("letter", "verify", letter) == {"count": 1, "valid": 1, "invalid": 0}
    again = bob.run("letter", "withdraw", letter)
    assert again.exit_code == 1 and "no signature" in again.stderr
    text = me.ok("letter", "signers", letter).stdout
    assert "1 signature ·" in text and fingerprint(ME.public_key) in text and "open, signing ends" not in text


def test_the_text_from_stdin_and_a_new_version_that_starts_again(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, _ = people
    first = json.loads(piped(alice, "Dear board,\nplease.\n", "letter", "create", "Rooms", "--to", "the board",
                             "--deadline", "7d", "--json"))["id"]  # fmt: skip
    bob.ok("letter", "sign", first)
    second = alice.json("letter", "create", "Rooms", "--to", "the board", "Dear board, please, by June.",
                        "--replaces", first)["id"]  # fmt: skip
    renewed = bob.json("letter", "signers", second)
    assert (renewed["count"], renewed["previous"], renewed["signers"]) == (0, first, [])
    assert bob.json("letter", "signers", first)["newer"] == [second]
    late_sign = bob.ok("letter", "sign", first)
    assert "newer version exists" in late_sign.stderr
    text = "\n".join(render_signers(bob.json("letter", "signers", second)))
    assert "signatures of earlier versions do not carry over" in text
    assert bob.json("letter", "signers", first)["count"] == 1


def test_refusals_that_say_why(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, _ = people
    letter = alice.json("letter", "create", "Mine", "--to", "you", "words")["id"]
    not_mine = bob.run("letter", "create", "Mine", "--to", "you", "other words", "--replaces", letter)
    assert not_mine.exit_code == 1 and "author" in not_mine.stderr
    past = alice.run("letter", "create", "Late", "--to", "you", "words", "--deadline", "2001-01-01")
    assert past.exit_code == 2 and "--deadline" in past.stderr and "in the past" in past.stderr
    blank = alice.run("letter", "create", "Empty", "--to", "you", "   ")
    assert blank.exit_code == 2 and "text" in blank.stderr
    post = alice.json("post", "not a letter")["id"]
    assert alice.run("letter", "sign", post).exit_code == 1


def test_verify_shows_a_tampered_count_beside_the_count_that_holds(
    people: tuple[Someone, Someone, Someone], home_server: ThreadedServer
) -> None:
    alice, bob, me = people
    letter_id = alice.json("letter", "create", "Counted", "--to", "everyone", "Count us.")["id"]
    bob.ok("letter", "sign", letter_id)
    forge_signature(home_server.path, letter_id, ME)  # never signed by me, yet counted by the server
    # Everything is printed, JSON included, and the command fails: a count that does not hold is a failed check.
    as_json = me.run("letter", "verify", letter_id, "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout) == {"count": 2, "valid": 1, "invalid": 1}
    shown = me.run("letter", "verify", letter_id)
    assert shown.exit_code == 1 and "THE CHECK DIFFERS" in shown.stdout and "did not check: 1" in shown.stdout


def test_after_the_deadline_signing_and_withdrawing_say_why(
    people: tuple[Someone, Someone, Someone], home_server: ThreadedServer
) -> None:
    _, bob, _ = people
    now = int(time.time() * 1000)
    letter = sign_draft(ALICE, letter_draft("Closed", "the board", "Too late now.", deadline=now - 1000),
                        created_at=now - 60_000)  # fmt: skip
    signature = sign_draft(BOB, signature_draft(check(letter, now=None)), created_at=now - 30_000)
    held = asyncio.run_coroutine_threadsafe(home_server.store.ingest([letter, signature]), home_server.loop)
    assert [r.status for r in held.result(30)] == ["stored", "stored"]
    late = bob.run("letter", "sign", letter["id"])
    assert late.exit_code == 1 and "deadline" in late.stderr
    withdrawn = bob.run("letter", "withdraw", letter["id"])
    assert withdrawn.exit_code == 1 and "deadline has passed" in withdrawn.stderr
    shown = bob.json("letter", "signers", letter["id"])
    assert (shown["count"], shown["closed"]) == (1, True)
    assert "closed" in "\n".join(render_signers(shown))
