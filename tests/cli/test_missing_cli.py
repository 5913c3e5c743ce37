"""What the CLI says of people's public messages its server lacks: ``murmur profile`` and ``murmur thread`` name
them in a sentence, ``murmur repair`` asks for them; whatever a server sends there is shown inert, and an entry
of the wrong shape is skipped rather than a traceback."""

from __future__ import annotations

import json

from murmur.keys import Identity, fingerprint
from murmur.receipts import signed
from tests.cli.fakehome import FakeHome
from tests.cli.test_reading_output import ALICE, NAMES, item, post

LAPTOP = {"device": ALICE.public_key, "device_name": "laptop", "count": 3, "ranges": [[2, 3], [7, 7]]}


def profile(**extra: object) -> dict[str, object]:
    return {"key": ALICE.public_key, "name": "Alice", "bio": "", "followers": 0, "following_count": 0, **extra}


def test_profile_says_how_many_public_messages_of_which_device_are_missing(fake_home: FakeHome) -> None:
    fake_home.answer(f"/api/v1/profiles/{ALICE.public_key}", profile(missing=[LAPTOP]))
    ran = fake_home.run("profile", ALICE.public_key)
    assert ran.exit_code == 0, ran.output
    assert "3 public messages from Alice's laptop are not on this server" in ran.stdout
    as_json = json.loads(fake_home.run("profile", ALICE.public_key, "--json").stdout)
    assert as_json["missing"] == [LAPTOP]


def test_nothing_is_said_when_nothing_is_missing(fake_home: FakeHome) -> None:
    fake_home.answer(f"/api/v1/profiles/{ALICE.public_key}", profile(missing=[]))
    assert "not on this server" not in fake_home.run("profile", ALICE.public_key).stdout


def test_a_thread_names_the_author_and_device(fake_home: FakeHome) -> None:
    root = post(ALICE, "thoughts?")
    node = {"id": root["id"], "parent": None, "item": item(root), "children": []}
    one = {**LAPTOP, "count": 1, "device_name": ""}
    answer = {"root": node, "size": 0, "truncated": False, "names": NAMES, "missing": [one]}
    fake_home.answer(f"/api/v1/threads/{root['id']}", answer)
    ran = fake_home.run("thread", root["id"])
    assert ran.exit_code == 0, ran.output
    expected = f"1 public message from Alice's device {fingerprint(ALICE.public_key)} is not on this server"
    assert expected in ran.stdout
    assert json.loads(fake_home.run("thread", root["id"], "--json").stdout)["missing"] == [one]


def test_what_a_hostile_server_says_is_shown_inert_or_skipped(fake_home: FakeHome) -> None:
    hostile = [
        {**LAPTOP, "device_name": "lap\x1b[2Jtop\u202e"},
        {**LAPTOP, "device": "not a key"},
        {**LAPTOP, "count": "3"},
        {**LAPTOP, "count": 0},
        "a string",
        {**LAPTOP, "ranges": "everything"},
    ]
    fake_home.answer(f"/api/v1/profiles/{ALICE.public_key}", profile(name="Al\x1b]0;x\x07ice", missing=hostile))
    ran = fake_home.run("profile", ALICE.public_key)
    assert ran.exit_code == 0, ran.output
    assert "\x1b" not in ran.stdout and "\u202e" not in ran.stdout and "\x07" not in ran.stdout
    assert ran.stdout.count("not on this server") == 2  # the escaped name and the one with bad ranges


def test_repair_says_what_each_peer_sent_and_what_is_still_missing(fake_home: FakeHome) -> None:
    beta, gone = Identity.generate().public_key, Identity.generate().public_key
    answer = {
        "key": ALICE.public_key,
        "peers": [
            {"key": beta, "name": "beta", "fetched": 2, "stored": 2, "refused": 0, "error": ""},
            {"key": gone, "name": "", "fetched": 0, "stored": 0, "refused": 0, "error": "cannot reach \x1b[31mgone"},
        ],
        "missing": [{**LAPTOP, "count": 1, "ranges": [[7, 7]]}],
    }
    fake_home.answer("/api/v1/repairs", answer)
    fake_home.answer(f"/api/v1/profiles/{ALICE.public_key}", profile())
    ran = fake_home.run("repair", ALICE.public_key)
    assert ran.exit_code == 0, ran.output
    lines = ran.stdout.splitlines()
    assert lines[0] == "beta: sent 2, stored 2, refused 0"
    assert lines[1].startswith(f"{fingerprint(gone)}: could not be asked: cannot reach ") and "\x1b" not in lines[1]
    assert lines[2] == "1 public message from Alice's laptop is not on this server"
    assert json.loads(fake_home.run("repair", ALICE.public_key, "--json").stdout) == answer


def test_repair_with_nothing_missing_says_so(fake_home: FakeHome) -> None:
    fake_home.answer("/api/v1/repairs", {"key": ALICE.public_key, "peers": [], "missing": []})
    fake_home.answer(f"/api/v1/profiles/{ALICE.public_key}", profile())
    assert fake_home.run("repair", ALICE.public_key).stdout.strip() == "Nothing of theirs is known to be missing here."


def test_repair_of_a_malformed_key_is_a_usage_error_before_asking(fake_home: FakeHome) -> None:
    ran = fake_home.run("repair", "zz")
    assert ran.exit_code == 2 and "/api/v1/repairs" not in fake_home.asked


def answered(by: Identity, delete_id: str, status: str, answer: str, **words: str) -> dict[str, str]:
    """A peer's answer about a delete, signed by its key, as ``GET /api/v1/deletes/{id}`` serves it."""
    line = signed(by, {"id": delete_id, "status": answer, **words})
    return {"key": by.public_key, "status": status, "answer": answer, "sig": line["sig"], **words}


def test_delete_status_is_said_per_peer_inert(fake_home: FakeHome) -> None:
    """``murmur delete ID --status`` and the TUI's delete screen share one renderer (murmur.client.audience)."""
    deleted, delete_id = "cd" * 32, "ef" * 32
    near, far = Identity.generate(), Identity.generate()
    refused = answered(far, delete_id, "refused", "refused", code="policy", reason="no\u202e")
    fake_home.lists({near.public_key: "near", far.public_key: "far\x1b[2J"})
    fake_home.answer(
        f"/api/v1/deletes/{deleted}",
        {
            "delete": delete_id,
            "peers": [
                {**answered(near, delete_id, "confirmed", "stored"), "name": "near"},
                {**refused, "name": "far\x1b[2J"},
            ],
        },
    )
    ran = fake_home.run("delete", deleted, "--status")
    assert ran.exit_code == 0, ran.output
    lines = ran.stdout.splitlines()
    assert lines[0] == f"Delete {delete_id}: 1 of 2 peer(s) confirmed, signed."
    assert lines[1] == f"  confirmed near ({near.public_key[:16]})"
    assert lines[2].startswith("  refused   far") and "policy: no" in lines[2]
    as_json = json.loads(fake_home.run("delete", deleted, "--status", "--json").stdout)
    assert [p["verified"] for p in as_json["peers"]] == [True, True]
    assert "\x1b" not in ran.stdout and "\u202e" not in ran.stdout


def test_a_delete_receipt_signed_by_a_key_no_manifest_lists_confirms_nothing_and_names_no_peer(
    fake_home: FakeHome,
) -> None:
    """A home server can sign a confirmation with a key of its own and serve it under a peer's name: its signature
    holds, but the key is not a peer the home server's signed manifest lists, so it is ``unknown``, counted as no
    confirmation, shown without that name."""
    deleted, delete_id = "cd" * 32, "ef" * 32
    near, made_up = Identity.generate(), Identity.generate()
    fake_home.lists({near.public_key: "near"})
    fake_home.answer(
        f"/api/v1/deletes/{deleted}",
        {"delete": delete_id, "peers": [{**answered(made_up, delete_id, "confirmed", "stored"), "name": "near"}]},
    )
    ran = fake_home.run("delete", deleted, "--status")
    assert ran.exit_code == 0, ran.output
    lines = ran.stdout.splitlines()
    assert lines[0] == f"Delete {delete_id}: 0 of 1 peer(s) confirmed, signed."
    assert lines[1].startswith(f"  unknown   - ({made_up.public_key[:16]}): signed by a key that is not")
    assert "near" not in ran.stdout
    [peer] = json.loads(fake_home.run("delete", deleted, "--status", "--json").stdout)["peers"]
    assert (peer["verified"], peer["signer"], peer["name"]) == (True, "unknown", "")


def test_a_delete_receipt_the_home_server_forged_confirms_nothing(fake_home: FakeHome) -> None:
    """Every answer is checked against the key it names: a confirmation the server made up, one moved from
    another delete, a refusal served as a confirmation, or an altered reason says ``unverified`` and counts as no
    confirmation."""
    deleted, delete_id = "cd" * 32, "ef" * 32
    peer = Identity.generate()
    honest = answered(peer, delete_id, "confirmed", "deleted")
    refusal = answered(peer, delete_id, "refused", "refused", code="policy", reason="no")
    forged = [
        {**honest, "sig": ""},
        answered(peer, "ab" * 32, "confirmed", "deleted"),
        {**refusal, "status": "confirmed", "answer": "stored"},
        {**refusal, "status": "confirmed", "answer": "refused"},
        {**refusal, "reason": "it was spam"},
        {**honest, "key": Identity.generate().public_key},
    ]
    fake_home.answer(
        f"/api/v1/deletes/{deleted}",
        {"delete": delete_id, "peers": [{**f, "name": f"p{n}"} for n, f in enumerate(forged)]},
    )
    ran = fake_home.run("delete", deleted, "--status")
    assert ran.exit_code == 0, ran.output
    lines = ran.stdout.splitlines()
    assert lines[0] == f"Delete {delete_id}: 0 of {len(forged)} peer(s) confirmed, signed."
    assert all(line.startswith("  unverified") for line in lines[1:]) and len(lines) == len(forged) + 1
    assert "spam" not in ran.stdout
    as_json = json.loads(fake_home.run("delete", deleted, "--status", "--json").stdout)
    assert [p["verified"] for p in as_json["peers"]] == [False] * len(forged)


def test_a_thread_says_what_it_names_but_lacks_and_repair_asks_for_it(fake_home: FakeHome) -> None:
    """A reply whose root this server never received: ``murmur thread`` says so, ``--repair`` asks the peers
    (by id: nothing of the root's author is counted missing) and shows the thread again."""
    reply = post(ALICE, "this")
    absent = "ab" * 32
    node = {"id": absent, "parent": None, "item": None, "children": [
        {"id": reply["id"], "parent": absent, "item": item(reply), "children": []}
    ]}  # fmt: skip
    fake_home.answer(f"/api/v1/threads/{reply['id']}", {"root": node, "size": 1, "truncated": False, "names": NAMES})
    ran = fake_home.run("thread", reply["id"])
    assert ran.exit_code == 0, ran.output
    assert "1 message this thread names is not on this server" in ran.stdout
    assert "/api/v1/repairs" not in fake_home.asked
    beta = Identity.generate().public_key
    peers = [{"key": beta, "name": "beta", "fetched": 0, "stored": 0, "refused": 0, "error": ""}]
    fake_home.answer("/api/v1/repairs", {"key": None, "peers": peers, "missing": [], "absent": [absent]})
    ran = fake_home.run("thread", reply["id"], "--repair")
    assert ran.exit_code == 0, ran.output
    assert fake_home.asked.count("/api/v1/repairs") == 1 and "beta: sent 0, stored 0, refused 0" in ran.stderr
    assert "1 message this thread names is not on this server" in ran.stdout
