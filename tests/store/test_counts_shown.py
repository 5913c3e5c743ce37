"""Every count follows the rule readers are shown by (murmur.kinds.shown_sql): a device's reply, reaction, boost,
ballot, signature, RSVP or follow counts for nothing while its identity's log cannot judge it (waiting) or a fork
disputes its device, and counts once the log arrives or the rotation key settles the fork (docs/protocol.md §13.5).
Counts remembered between requests (a poll's, a letter's) are counted again when that changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from murmur.keys import Identity
from murmur.kinds import letter as letters
from murmur.kinds import meetup as meetups
from murmur.kinds import poll as polls
from murmur.kinds.letter import letter_draft
from murmur.kinds.meetup import meetup_body
from murmur.kinds.poll import poll_draft
from murmur.message import sign_draft
from murmur.store import Store, threads, timelines
from murmur.store.items import post_counts
from tests.identity_logs import LAPTOP, PHONE, ROTATION_0, ROTATION_1, ROTATION_2, STRANGER, T0, TABLET, Log

LATER = T0 + 10**9  # polls close, letters are due and meetups start long after every message here


def signed(by: Identity, kind: str, body: dict[str, str], tags: list[list[str]], at: int) -> dict[str, Any]:
    return sign_draft(by, {"kind": kind, "body": body, "tags": tags}, created_at=at)


@dataclass
class Things:
    """What a stranger (a bare key) made, for a device of an identity to answer."""

    post: dict[str, Any]
    poll: dict[str, Any]
    letter: dict[str, Any]
    meetup: dict[str, Any]

    @classmethod
    def made(cls) -> Things:
        poll = poll_draft("Lunch?", ["noon", "one"], closes_at=LATER, multiple=False, group=None)
        letter = letter_draft("Four-day week", "the board", "Please.", deadline=LATER)
        body = meetup_body("Picnic", start=LATER, end=LATER + 3_600_000, tz="UTC", place="the park")
        return cls(
            signed(STRANGER, "post", {"text": "hello"}, [], T0 + 1),
            signed(STRANGER, "poll", poll["body"], poll["tags"], T0 + 2),
            signed(STRANGER, "letter", letter["body"], letter["tags"], T0 + 3),
            signed(STRANGER, "meetup", body, [], T0 + 4),
        )

    def answers(self, log: Log, device: Identity) -> list[dict[str, Any]]:
        """Every counted thing ``device`` can say of them for the identity, each dated after the log's last event."""
        me = ["identity", log.identity]
        about = [["subject", STRANGER.public_key], me]
        root = self.post["id"]

        def at() -> int:
            log.at += 1000
            return log.at

        return [
            signed(device, "post", {"text": "a reply"}, [["reply", root], ["root", root], me], at()),
            signed(device, "reaction", {"emoji": "+1"}, [["target", root], me], at()),
            signed(device, "boost", {}, [["target", root], me], at()),
            signed(device, "ballot", {"choices": "2"}, [["target", self.poll["id"]], *about], at()),
            signed(device, "signature", {}, [["target", self.letter["id"]], *about], at()),
            signed(device, "rsvp", {"answer": "going"}, [["target", self.meetup["id"]], *about], at()),
            signed(device, "follow", {}, [["subject", STRANGER.public_key], me], at()),
        ]


async def counts(store: Store, things: Things) -> dict[str, int]:
    """Each count a reader can be told of the stranger's things, read through every door that counts."""
    post = (await post_counts(store, [things.post["id"]]))[things.post["id"]]
    # as anyone is shown them (the web pages and the feeds): the stranger's own entries, counted for anyone
    page = await timelines.author(store, STRANGER.public_key, public=True)
    [anyone] = [i for i in page.items if i.id == things.post["id"] and i.boosted_by is None]
    thread = await threads.thread(store, things.post["id"])
    results = await polls.results(store, things.poll["id"])
    ballots = await polls.signed(store, things.poll["id"])
    standing = await letters.standing(store, things.letter["id"])
    signatures = await letters.signed(store, things.letter["id"])
    held = await meetups.held(store, things.meetup["id"])
    assert thread is not None and results and ballots and standing and signatures and held
    return {
        "replies": post.replies,
        "replies for anyone": anyone.replies,
        "reactions for anyone": anyone.reactions,
        "boosts for anyone": anyone.boosts,
        "thread": thread.size,
        "reactions": post.reactions,
        "boosts": post.boosts,
        "voters": results.tally.voters,
        "ballots handed over": len(ballots.ballots),
        "signers": standing.count.count,
        "signatures handed over": len(signatures.signatures),
        "going": len(held.answers.going),
        "followers": len(await store.followers(STRANGER.public_key)),
    }


NONE = dict.fromkeys(
    ("replies", "replies for anyone", "reactions for anyone", "boosts for anyone", "thread", "reactions", "boosts",
     "voters", "ballots handed over", "signers", "signatures handed over", "going", "followers"),
    0,
)  # fmt: skip
ONE = dict.fromkeys(NONE, 1)


async def test_what_a_device_says_while_its_log_is_not_held_counts_once_the_log_comes(store: Store) -> None:
    things, made = Things.made(), Log()
    made.add(LAPTOP, PHONE, "phone")
    await store.ingest([things.post, things.poll, things.letter, things.meetup])
    answers = things.answers(made, PHONE)
    results = await store.ingest(answers)
    assert [r.status for r in results] == ["stored"] * len(answers)
    assert await counts(store, things) == NONE  # waiting: shown nowhere, counted nowhere
    await store.ingest(made.events)
    assert await counts(store, things) == ONE


async def test_what_a_disputed_device_says_counts_once_the_rotation_key_settles_the_fork(store: Store) -> None:
    things, made = Things.made(), Log()
    made.add(LAPTOP, PHONE, "phone")
    rotation = made.rotate(ROTATION_0, ROTATION_1)
    made.add(PHONE, TABLET, "tablet")
    made.remove(TABLET, PHONE)
    kept = made.events[-1]
    await store.ingest([things.post, things.poll, things.letter, things.meetup, *made.events])
    # the thief, holding the phone, removes the laptop where the phone was still current: a fork disputing both
    await store.ingest([made.remove(PHONE, LAPTOP, prior=rotation["id"])])
    answers = things.answers(made, LAPTOP)
    await store.ingest(answers)
    assert await counts(store, things) == NONE  # disputed: held, shown nowhere, counted nowhere
    # the owner settles the place with the rotation key, on the branch that keeps the laptop
    await store.ingest([made.rotate(ROTATION_1, ROTATION_2, prior=kept["id"])])
    assert await counts(store, things) == ONE
