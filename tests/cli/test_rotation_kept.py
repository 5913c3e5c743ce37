"""The rotation key is never lost to a rotation or a recovery that did not take (docs/cli.md, `murmur key rotate`):
the key in use stays where it was until the home server holds the event committing to the next one; a refused
event drops the next key, an answer that never came keeps both and says where."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from murmur.client.devices import keep_rotation, read_recovery, recovery_text, remember_identity
from murmur.client.profiles import resolve
from murmur.key_events import commitment
from murmur.keys import Identity
from tests.cli.fakehome import FakeHome

IDENTITY = "1d" * 32
HEAD = "4e" * 32
SEED = bytes([7]) * 32
MESSAGES = "/api/v1/messages"


def kept(fake: FakeHome, recovery: Path | None) -> Path:
    """The profile speaks for IDENTITY with the rotation key SEED on the device, or in ``recovery``; answers where."""
    key_path = resolve(fake.home, None).key_path
    remember_identity(key_path, IDENTITY)
    devices = [{"key": fake.identity.public_key, "name": "laptop", "added_at": 1, "removed_at": None,
                "disputed_at": 5}]  # fmt: skip
    fake.answer(f"/api/v1/identities/{IDENTITY}", {"identity": IDENTITY, "devices": devices, "head": HEAD})
    if recovery is None:
        keep_rotation(key_path, SEED)
        return key_path.parent / "rotation.pem"
    recovery.write_text(recovery_text(IDENTITY, SEED, as_words=True))
    return recovery


def rotate(fake: FakeHome, recovery: Path | None) -> tuple[int, str]:
    args = ("key", "rotate", *(("--recovery", str(recovery)) if recovery else ()), "--json")
    ran = fake.run(*args)
    return ran.exit_code, ran.output


def seed_in(path: Path) -> bytes:
    text = path.read_text()
    return read_recovery(text).seed if text.startswith("murmur recovery") else bytes.fromhex(text.strip())


@pytest.fixture(params=["on the device", "in a recovery file"])
def recovery(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    return tmp_path / "recovery.txt" if request.param == "in a recovery file" else None


def test_a_refused_rotation_leaves_the_key_in_use_where_it_was(fake_home: FakeHome, recovery: Path | None) -> None:
    where = kept(fake_home, recovery)
    before = where.read_bytes()
    fake_home.refuse(MESSAGES, "This key is not a member of this server.", code="not_member", status=403)
    code, output = rotate(fake_home, recovery)
    assert code != 0 and "not a member" in output
    assert where.read_bytes() == before
    assert not where.with_name(f"{where.name}.next").exists()


def test_a_rotation_whose_answer_never_came_keeps_both_keys_and_says_where(
    fake_home: FakeHome, recovery: Path | None
) -> None:
    where = kept(fake_home, recovery)
    fake_home.refuse(MESSAGES, "The database failed.", code="internal", status=500)
    code, output = rotate(fake_home, recovery)
    pending = where.with_name(f"{where.name}.next")
    assert code != 0 and str(pending) in output.replace("\n", "")
    assert seed_in(where) == SEED
    sent = [m for m in fake_home.asked if m == MESSAGES]
    assert sent and seed_in(pending) != SEED


def test_a_held_rotation_puts_the_key_it_commits_to_in_place_of_the_used_one(
    fake_home: FakeHome, recovery: Path | None
) -> None:
    where = kept(fake_home, recovery)
    fake_home.answer(MESSAGES, {"status": "stored", "id": "ab" * 32}, status=201)
    published: list[dict[str, object]] = []
    answer = fake_home.handle

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == MESSAGES:
            published.append(json.loads(request.content))
        return answer(request)

    fake_home.handle = handle  # type: ignore[method-assign]
    code, output = rotate(fake_home, recovery)
    assert code == 0, output
    assert json.loads(output)["identity"] == IDENTITY
    [event] = published
    assert event["author"] == Identity.from_seed(SEED).public_key
    assert event["body"] == {"next": commitment(Identity.from_seed(seed_in(where)).public_key)}
    assert not where.with_name(f"{where.name}.next").exists()


def test_recover_on_a_device_of_the_identity_says_to_rotate_and_sends_nothing(
    fake_home: FakeHome, tmp_path: Path
) -> None:
    recovery = tmp_path / "recovery.txt"
    kept(fake_home, recovery)
    before = recovery.read_bytes()
    ran = fake_home.run("recover", str(recovery))
    assert ran.exit_code != 0 and "murmur key rotate --recovery FILE" in ran.output.replace("\n", " ")
    assert recovery.read_bytes() == before and MESSAGES not in fake_home.asked
