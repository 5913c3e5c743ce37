"""What a device does with hostile sealed messages from its home server: each is refused with a precise reason,
kept with it, and nothing crashes; a refusal that may turn out well (the sender's log had not arrived) is tried
again (murmur.client.conversations)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from murmur import direct
from murmur.client.api import ApiError
from murmur.client.conversations import Conversations
from murmur.keys import Identity
from murmur.kinds.sealed import envelope_text
from murmur.message import now_ms, sign_envelope
from murmur.sealing import public_hex
from murmur.store.inbox import GIVE_UP_AFTER, RETRY_MOST_MS, RETRY_PAGE, Inbox
from tests.cli.test_dm_hostile_home import counting_lookups
from tests.dm_people import Device, Speaker


@dataclass
class HostileHome:
    """A home server answering the sealed messages and the identity logs a test sets."""

    pages: list[list[Any]] = field(default_factory=list)
    logs: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_url: str = "http://home.test"

    async def sealed(self, after: int = 0, *, at: str | None = None, limit: int = 100, group: None = None
                     ) -> dict[str, Any]:  # fmt: skip
        page = self.pages.pop(0) if self.pages else []
        items = [{"seq": after + n + 1, "message": m} for n, m in enumerate(page)]
        return {"sealed": items, "next_cursor": after + len(items), "more": bool(self.pages)}

    async def identity_events(self, name: str) -> dict[str, Any]:
        if name not in self.logs:
            raise ApiError(404, "not_found", "No identity, device or key by that name is held here.")
        return self.logs[name]


def log_of(speaker: Speaker) -> dict[str, Any]:
    """What the home server answers for the speaker's signed key events."""
    return {"identity": speaker.identity, "bare": False, "events": list(speaker.events)}


def message(ada: Speaker, bo: Speaker, text: str, *, sealer: Device | None = None, at: int | None = None,
            signer: Identity | None = None) -> dict[str, Any]:  # fmt: skip
    sealer = sealer or ada.devices[0]
    inner = direct.inner_message([ada.identity, bo.identity], ada.identity, sealer.key.public_key, text,
                                 at or now_ms())  # fmt: skip
    return direct.seal_direct(inner, sealer.x25519, [d.public for d in bo.devices], "public", signer=signer)


def reader(bo: Speaker, home: HostileHome, tmp_path: Path) -> Conversations:
    return bo.devices[0].conversations(home, bo.identity, tmp_path)  # type: ignore[arg-type]


async def test_garbage_and_forgeries_are_each_refused_with_a_reason(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    good = message(ada, bo, "genuine")
    signer = Identity.generate()
    tampered = message(ada, bo, "x", signer=signer)
    envelope = json.loads(tampered["body"]["envelope"])
    envelope["body"] = ("B" if envelope["body"][0] != "B" else "C") + envelope["body"][1:]
    draft = {k: tampered[k] for k in ("v", "kind", "author", "created_at", "tags")}
    tampered = sign_envelope(signer, {**draft, "body": {**tampered["body"], "envelope": envelope_text(envelope)}})
    stranger = Speaker.new()
    not_mine = message(ada, stranger, "for someone else")
    body = {"text": "[bold red]hi[/] \x1b[31m", "visibility": "public"}
    a_post = sign_envelope(signer, {"v": 1, "kind": "post", "author": signer.public_key, "created_at": 0,
                                    "body": body, "tags": []})  # fmt: skip
    thief = Device.new()  # a device that is no device of Ada's claims to be hers
    forged = message(ada, bo, "from the thief", sealer=thief)
    bad_sig = {**good, "sig": "00" * 64}
    home = HostileHome([["not a message", 7, {"kind": "sealed"}, bad_sig, tampered, not_mine, a_post, forged, good]],
                       {ada.identity: log_of(ada)})  # fmt: skip
    report = await reader(bo, home, tmp_path).sync()
    codes = [r.code for r in report.refused]
    assert codes == ["not_object", "not_object", "missing_field", "bad_signature", "tampered", "not_for_me",
                     "bad_envelope", "forged_sender"]  # fmt: skip
    assert report.opened == 1
    assert all(r.reason for r in report.refused)


async def test_a_replay_is_opened_once_and_the_same_text_under_another_envelope_is_refused(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    inner = direct.inner_message([ada.identity, bo.identity], ada.identity, ada.devices[0].key.public_key, "once",
                                 now_ms())  # fmt: skip
    first = direct.seal_direct(inner, ada.devices[0].x25519, [bo.devices[0].public], "public")
    again = direct.seal_direct(inner, ada.devices[0].x25519, [bo.devices[0].public], "public")
    home = HostileHome([[first, first], [again]], {ada.identity: log_of(ada)})
    talks = reader(bo, home, tmp_path)
    report = await talks.sync()
    assert report.opened == 1 and [r.code for r in report.refused] == ["replayed"]
    assert [m.text for c in talks.conversations() for m in talks.messages(c.id)] == ["once"]


async def test_a_sender_whose_log_had_not_arrived_is_read_once_it_does(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    home = HostileHome([[message(ada, bo, "early")]])
    talks = reader(bo, home, tmp_path)
    assert [r.code for r in (await talks.sync()).refused] == ["forged_sender"]
    assert talks.conversations() == []
    home.logs[ada.identity] = log_of(ada)
    assert (await talks.sync()).opened == 1
    assert talks.refusals() == []


async def test_a_removed_devices_message_sealed_after_its_removal_is_refused(tmp_path: Path) -> None:
    at = now_ms() - 60_000
    ada, bo = Speaker.new(at=at - 10_000), Speaker.new()
    phone = ada.add(at=at - 5000)
    ada.remove(phone, at=at)
    before = message(ada, bo, "before", sealer=phone, at=at - 1000)
    after = message(ada, bo, "after", sealer=phone, at=at + 1000)
    home = HostileHome([[before, after]], {ada.identity: log_of(ada)})
    talks = reader(bo, home, tmp_path)
    report = await talks.sync()
    assert report.opened == 1 and [r.code for r in report.refused] == ["device_removed"]
    assert [m.text for c in talks.conversations() for m in talks.messages(c.id)] == ["before"]


async def test_the_store_is_private_and_search_takes_words_as_typed(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    texts = ['quote " and star *', "NEAR(a b) OR c", "plain words"]
    home = HostileHome([[message(ada, bo, t) for t in texts]], {ada.identity: log_of(ada)})
    talks = reader(bo, home, tmp_path)
    await talks.sync()
    assert (talks.inbox.path.stat().st_mode & 0o777) == 0o600
    assert talks.search('"') == []  # punctuation is no word: nothing, and no FTS5 syntax error
    assert [m.text for m in talks.search("star*")] == [texts[0]]
    assert [m.text for m in talks.search("OR")] == [texts[1]]
    assert [m.text for m in talks.search("NEAR(a")] == [texts[1]]
    assert talks.search("missing") == [] and talks.search("   ") == []
    assert public_hex(bo.devices[0].x25519) == bo.devices[0].public


async def test_junk_that_keeps_failing_never_holds_back_a_real_message(tmp_path: Path) -> None:
    ada, bo, mallory = Speaker.new(), Speaker.new(), Speaker.new()
    junk = [message(mallory, bo, f"junk {n}", sealer=Device.new()) for n in range(RETRY_PAGE + 50)]
    home = HostileHome([[*junk, message(ada, bo, "real, delayed")]], {mallory.identity: log_of(mallory)})
    clock = Clock(now_ms())
    talks = Conversations(home, bo.devices[0].x25519, bo.identity, Inbox.open(tmp_path / "bo.db"),  # type: ignore[arg-type]
                          clock=clock)  # fmt: skip
    assert len((await talks.sync()).refused) == RETRY_PAGE + 51
    home.logs[ada.identity] = log_of(ada)  # Ada's log arrives
    assert (await talks.sync()).opened == 1
    assert [m.text for c in talks.conversations() for m in talks.messages(c.id)] == ["real, delayed"]


async def test_a_refusal_backs_off_and_is_given_up_on(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    home = HostileHome([[message(ada, bo, "early")]])
    asked = counting_lookups(home)
    clock = Clock(now_ms())
    talks = Conversations(home, bo.devices[0].x25519, bo.identity, Inbox.open(tmp_path / "bo.db"),  # type: ignore[arg-type]
                          clock=clock)  # fmt: skip
    await talks.sync()
    for _ in range(GIVE_UP_AFTER + 3):
        before = len(asked)
        await talks.sync()
        await talks.sync()  # at once again: not due yet, not asked
        assert len(asked) - before <= 1
        clock.now += RETRY_MOST_MS
    [refusal] = talks.refusals()
    assert "stopped trying" in refusal.reason and asked.count(ada.identity) == GIVE_UP_AFTER
    home.logs[ada.identity] = log_of(ada)  # too late: refused for good
    assert (await talks.sync()).opened == 0


@dataclass
class Clock:
    now: int

    def __call__(self) -> int:
        return self.now


@dataclass
class StampingHome(HostileHome):
    """A home server that says when each sealed message reached it."""

    arrived: list[int] = field(default_factory=list)

    async def sealed(self, after: int = 0, *, at: str | None = None, limit: int = 100, group: None = None
                     ) -> dict[str, Any]:  # fmt: skip
        page = await super().sealed(after, limit=limit)
        return {**page, "sealed": [{**i, "received_at": self.arrived[i["seq"] - 1]} for i in page["sealed"]]}


async def test_a_removed_device_cannot_date_its_message_back_before_its_removal(tmp_path: Path) -> None:
    removed_at = now_ms() - 3_600_000  # the stolen laptop was removed an hour ago
    ada, bo = Speaker.new(at=removed_at - 60_000), Speaker.new()
    laptop = ada.add(at=removed_at - 30_000)
    ada.remove(laptop, at=removed_at)
    backdated = [message(ada, bo, f"wire 50k, {n}", sealer=laptop, at=removed_at - 1) for n in range(2)]
    # the first reached Bo's server before the removal (it was genuine then), the second after
    home = StampingHome([backdated], {ada.identity: log_of(ada)}, arrived=[removed_at - 10, removed_at + 60_000])
    report = await reader(bo, home, tmp_path).sync()
    assert report.opened == 1 and [r.code for r in report.refused] == ["device_removed"]
    assert "reached your server" in report.refused[0].reason
