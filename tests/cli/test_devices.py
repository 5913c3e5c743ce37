"""The pairing request and the recovery file read back exactly, and refuse what was altered or mistyped
(murmur.client.devices)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from murmur.client.cli.devices import device_state
from murmur.client.devices import device_request, read_recovery, read_request, recovery_text, short_code
from murmur.client.render import identity_lines
from murmur.errors import ConfigError
from murmur.keys import Identity, sealing_public
from tests.identity_logs import PHONE

IDENTITY = "ab" * 32
SEED = bytes(range(32))


@pytest.mark.parametrize("as_words", [False, True])
def test_the_recovery_file_reads_back_either_form(as_words: bool) -> None:
    recovery = read_recovery(recovery_text(IDENTITY, SEED, as_words=as_words))
    assert recovery.identity == IDENTITY and recovery.seed == SEED
    assert recovery.rotation.public_key == Identity.from_seed(SEED).public_key


def test_a_mistyped_group_is_caught_by_the_check_group() -> None:
    text = recovery_text(IDENTITY, SEED, as_words=True)
    groups = text.splitlines()[2].split()
    groups[3] = "ffff" if groups[3] != "ffff" else "eeee"
    with pytest.raises(ConfigError, match="mistyped"):
        read_recovery("\n".join([*text.splitlines()[:2], " ".join(groups)]))


@pytest.mark.parametrize("text", ["", "hello", "murmur recovery v1\nidentity zz\nrotation 00"])
def test_what_is_not_a_recovery_file_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ConfigError):
        read_recovery(text)


def test_a_request_reads_back_and_its_code_is_the_same_on_both_sides() -> None:
    request = device_request(PHONE, IDENTITY, "phone", None)
    text = json.dumps(request)
    assert read_request(text) == request and short_code(read_request(text)) == short_code(request)
    assert request["x25519"] == sealing_public(PHONE.public_key)  # its key's X25519 form: no key file of its own


def test_a_request_listing_an_x25519_its_key_does_not_hold_is_refused() -> None:
    request = device_request(PHONE, IDENTITY, "phone", None)
    claimed = {**request, "x25519": sealing_public(Identity.generate().public_key)}
    with pytest.raises(ConfigError, match="X25519 form"):
        read_request(json.dumps(claimed))


@pytest.mark.parametrize("member", ["identity", "key", "name"])
def test_an_altered_request_is_refused(member: str) -> None:
    request = device_request(PHONE, IDENTITY, "phone", None)
    altered = {**request, member: "cd" * 32}
    if member == "name":
        altered = {**request, "name": "laptop"}
        assert short_code(altered) != short_code(request)  # the name is not proven: the code shows a swap
        return
    with pytest.raises(ConfigError, match="proof"):
        read_request(json.dumps(altered))


def test_a_device_counts_its_public_messages_and_never_a_narrower_one(tmp_path: Path) -> None:
    from murmur.client.devices import count_published, counted
    from murmur.message import complete_draft, sign_envelope
    from murmur.validate import check

    path = tmp_path / "counter.json"
    made = []
    for n, visibility in enumerate(["public", "local", "public", "public"]):
        draft = {"kind": "post", "body": {"text": f"n{n}", "visibility": visibility}}
        message = sign_envelope(PHONE, counted(complete_draft(draft, PHONE.public_key), path))
        check(json.dumps(message).encode())
        count_published(message, path)
        made.append(message)
    counts = [dict(map(tuple, m["tags"])).get("counter") for m in made]  # type: ignore[arg-type]
    assert counts == ["1", None, "2", "3"]
    assert ["previous", made[2]["id"]] in made[3]["tags"] and ["previous", made[0]["id"]] in made[2]["tags"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_device_signed_post_shows_the_identitys_fingerprint_and_the_raw_view_the_device() -> None:
    from murmur.client.render import Context, render_message
    from murmur.keys import fingerprint
    from murmur.message import sign_draft

    message = sign_draft(PHONE, {"kind": "post", "body": {"text": "hi"}, "tags": [["identity", IDENTITY]]})
    short = render_message(message, Context(names={PHONE.public_key: "Ada"}))
    assert f"Ada ({fingerprint(IDENTITY)})" in short[0] and fingerprint(PHONE.public_key) not in "".join(short)
    full = render_message(message, Context(names={}, full=True))
    assert any(f"signed by device {fingerprint(PHONE.public_key)}" in line for line in full)


def test_device_list_names_a_disputed_device_disputed_not_removed() -> None:
    disputed = {"current": False, "removed_at": None, "disputed_at": 1767225601000}
    assert device_state(disputed) == "disputed since 1767225601000 (a fork)"
    removed = {"current": False, "removed_at": 1767225602000, "disputed_at": 1767225601000}
    assert device_state(removed) == "removed at 1767225602000"
    assert device_state({"current": True, "removed_at": None, "disputed_at": None}) == "current"


def test_a_profile_names_the_devices_a_fork_disputes() -> None:
    device = {"key": "ab" * 32, "x25519": "cd" * 32, "added_at": 1, "removed_at": None}
    identity = {
        "fork": {"place": "ef" * 32, "branches": ["01" * 32, "02" * 32]},
        "devices": [
            {**device, "name": "laptop", "disputed_at": 5},
            {**device, "name": "phone", "disputed_at": None},
            {**device, "name": "old", "removed_at": 3, "disputed_at": 2},
        ],
    }
    lines = identity_lines(identity)
    assert "identity with 1 device" in lines
    assert any(line.startswith("disputed by the fork: laptop (") for line in lines)


def test_a_device_may_delete_what_another_device_of_its_identity_wrote() -> None:
    """`murmur delete` and the TUI let through what this device signed or what names its identity (the servers
    judge each against the identity's log), and stop anyone else's before anything is sent."""
    from types import SimpleNamespace
    from typing import Any

    from murmur.client.devices import mine_to_act_for
    from tests.identity_logs import LAPTOP, STRANGER

    ours, theirs = "ab" * 32, "cd" * 32
    api: Any = SimpleNamespace(identity=PHONE, speaks_for=ours)
    assert mine_to_act_for(api, {"author": PHONE.public_key, "tags": []})
    assert mine_to_act_for(api, {"author": LAPTOP.public_key, "tags": [["identity", ours]]})
    assert not mine_to_act_for(api, {"author": STRANGER.public_key, "tags": [["identity", theirs]]})
    assert not mine_to_act_for(api, {"author": STRANGER.public_key, "tags": []})
    alone: Any = SimpleNamespace(identity=PHONE, speaks_for=None)  # a bare key: its own messages only
    assert not mine_to_act_for(alone, {"author": LAPTOP.public_key, "tags": [["identity", ours]]})


def test_a_file_of_another_kind_handed_to_recover_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    from tests.cli.fakehome import run_main

    home, odd = tmp_path / "home", tmp_path / "photo.jpg"
    odd.write_bytes(b"\xff\xd8\xff\xe0 not text")
    assert run_main("--home", str(home), "init", "--name", "ada").exit_code == 0
    ran = run_main("--home", str(home), "recover", str(odd))
    assert ran.exit_code == 2 and "Traceback" not in ran.output
    assert ran.stderr.strip() == f"murmur: {odd} is not UTF-8 text, so it is not a recovery file."
