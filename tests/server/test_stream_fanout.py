"""Many live streams share one reader: each stretch of the log is read once and each event rendered once,
however many streams are open; a stream that stops reading holds back neither the others nor publishing, and
loses nothing: it reads the log for itself from its last event once it reads again."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from murmur.errors import StoreError
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server import fanout
from murmur.server.app import create_app
from murmur.server.routes import stream as stream_route
from murmur.store import Store, live
from tests.dm_people import Speaker
from tests.identity_logs import LAPTOP, PHONE, STRANGER, Log
from tests.server.conftest import Harness
from tests.server.streaming import stream_scope
from tests.store.test_sealed_index import T, sealed
from tests.waiting import BOUND_S


class OpenStream:
    """``GET /api/v1/stream`` driven as raw ASGI (httpx's ASGI transport waits for a whole response, and a stream
    never ends); its events as they come, and a way to stop reading as a client with a full socket does."""

    def __init__(self, server: Harness, identity: Identity, query: str = "") -> None:
        self.scope = stream_scope(server, identity, query)
        self.app = create_app(server.state)
        self.events: list[tuple[int, str, dict[str, Any]]] = []  # (id, event, data)
        self.reading = asyncio.Event()  # cleared: every send of the response waits, as on a full socket
        self.reading.set()
        self.held = asyncio.Event()  # set once a send has waited on ``reading``
        self.sends = 0
        self.raw = bytearray()
        self._rest = b""
        self._changed = asyncio.Event()
        self._asked = False
        self._hang_up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OpenStream:
        self._task = asyncio.create_task(self.app(self.scope, self._receive, self._send))
        await self.until(lambda: self.sends > 0)  # the opening comment: its position is fixed from here on
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._hang_up.set()
        self.reading.set()
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._hang_up.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] != "http.response.body":
            return
        if not self.reading.is_set():
            self.held.set()
        await self.reading.wait()
        self.sends += 1
        self.raw.extend(message.get("body", b""))
        *whole, self._rest = (self._rest + message.get("body", b"")).split(b"\n\n")
        for event in whole:
            fields = dict(line.split(": ", 1) for line in event.decode().split("\n") if not line.startswith(":"))
            if "event" in fields:
                self.events.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
        self._changed.set()

    async def until(self, holds: Callable[[], bool]) -> None:
        """Wait, on what the stream sends, until ``holds()``."""
        async with asyncio.timeout(BOUND_S):
            while not holds():
                self._changed.clear()
                await self._changed.wait()

    def messages(self) -> list[str]:
        return [data["message"]["id"] for _, event, data in self.events if event == "message"]


def counted(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[int]:
    """Count the calls of ``owner.name`` from here on (a one-item list, read after the fact)."""
    calls = [0]
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


async def publish_posts(server: Harness, author: Identity, count: int, text: str = "post") -> list[str]:
    api = server.client(author)
    ids = []
    for n in range(count):
        post = sign_draft(author, {"body": {"text": f"{text} {n}"}})
        await api.publish(post)
        ids.append(post["id"])
    return ids


async def test_each_stretch_of_the_log_is_read_and_rendered_once_for_every_stream(
    server: Harness, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    listeners = [Identity.generate() for _ in range(12)]
    author = Identity.generate()
    for identity in [*listeners, author]:
        await server.member(identity)
    async with contextlib.AsyncExitStack() as stack:
        streams = [await stack.enter_async_context(OpenStream(server, who)) for who in listeners]
        read: list[int] = []  # the seq of every message any read returned
        stretch = fanout.stretch

        async def reading(store: Store, after: int, limit: int) -> live.Stretch:
            got = await stretch(store, after, limit)
            read.extend(entry.seq for _, entry in got.shown)
            return got

        monkeypatch.setattr(fanout, "stretch", reading)
        rendered = counted(monkeypatch, fanout, "message_event")
        joined = counted(monkeypatch, fanout, "Batch")
        asked = counted(monkeypatch, fanout, "derived")
        ids = await publish_posts(server, author, 3)
        for opened in streams:
            await opened.until(lambda o=opened: len(o.messages()) == len(ids))
        assert all(opened.messages() == ids for opened in streams)
    assert sorted(read) == sorted(set(read)) and len(read) == len(ids)  # each message read once, for all
    assert rendered[0] == len(ids)  # and rendered once
    assert 1 <= joined[0] <= len(ids)  # its bytes joined once per stretch for every stream, not once per stream
    assert asked[0] == 0  # nobody was notified, so nobody's notifications were read


async def test_notifications_still_reach_only_the_member_they_are_for(
    server: Harness, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    ada, bob, cy = Identity.generate(), Identity.generate(), Identity.generate()
    for identity in (ada, bob, cy):
        await server.member(identity)
    asked: list[str] = []
    derived = fanout.derived

    async def reading(store: Store, key: str, *, after: int, upto: int) -> Any:
        asked.append(key)
        return await derived(store, key, after=after, upto=upto)

    monkeypatch.setattr(fanout, "derived", reading)
    async with OpenStream(server, ada) as for_ada, OpenStream(server, bob) as for_bob:
        mention = sign_draft(cy, {"body": {"text": f"hi @{ada.public_key}"}, "tags": [["mention", ada.public_key]]})
        await server.client(cy).publish(mention)
        after = await publish_posts(server, cy, 1, "later")
        for opened in (for_ada, for_bob):
            await opened.until(lambda o=opened: len(o.messages()) == 2)
    kinds_ada = [(event, data.get("kind")) for _, event, data in for_ada.events]
    assert kinds_ada == [("message", None), ("notification", "mention"), ("message", None)]
    assert [event for _, event, _ in for_bob.events] == ["message", "message"]
    assert for_ada.events[1][2]["message"]["id"] == mention["id"] and for_ada.messages()[1] == after[0]
    assert [i for i, _, _ in for_ada.events] == sorted(i for i, _, _ in for_ada.events)
    assert asked == [ada.public_key]  # read for the one member notified, not for every stream


async def test_a_stream_that_stops_reading_holds_back_nothing_and_loses_nothing(
    server: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.state.fanout.behind = 3  # a queue of three events: the fifth post puts the stuck stream behind
    stuck_one, quick_one, author = Identity.generate(), Identity.generate(), Identity.generate()
    for identity in (stuck_one, quick_one, author):
        await server.member(identity)
    alone = counted(monkeypatch, stream_route, "read_alone")
    async with OpenStream(server, stuck_one) as stuck, OpenStream(server, quick_one) as quick:
        stuck.reading.clear()
        ids = await publish_posts(server, author, 8)  # every publish answered while one stream reads nothing
        await quick.until(lambda: len(quick.messages()) == len(ids))
        assert quick.messages() == ids and alone[0] == 0
        assert stuck.messages() == []
        stuck.reading.set()
        await stuck.until(lambda: len(stuck.messages()) == len(ids))
        assert stuck.messages() == ids  # in order, none twice, none missing
        assert alone[0] >= 1  # it caught up by reading the log for itself
        # Caught up, it is live again: the next post reaches both.
        more = await publish_posts(server, author, 1, "after")
        for opened in (stuck, quick):
            await opened.until(lambda o=opened: len(o.messages()) == len(ids) + 1)
            assert opened.messages() == ids + more
    positions = [i for i, _, _ in stuck.events]
    assert positions == sorted(set(positions))


async def test_events_queued_while_a_stream_writes_go_out_in_one_write_in_order(
    server: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream pays one write per wake-up, however many rounds queued events for it meanwhile."""
    monkeypatch.setattr(fanout, "WAKE_GROUP", 1)  # and streams woken one at a time still get every event
    slow_one, author = Identity.generate(), Identity.generate()
    others = [Identity.generate() for _ in range(3)]
    for identity in (slow_one, author, *others):
        await server.member(identity)
    offered = asyncio.Event()
    offer = fanout.Subscriber.offer

    def noted(subscriber: fanout.Subscriber, batch: fanout.Batch) -> bool:
        offered.set()
        return offer(subscriber, batch)

    async def offered_to_all(count: int) -> None:
        async with asyncio.timeout(BOUND_S):
            while offers[0] < count:
                offered.clear()
                await offered.wait()

    monkeypatch.setattr(fanout.Subscriber, "offer", noted)
    offers = counted(monkeypatch, fanout.Subscriber, "offer")
    async with contextlib.AsyncExitStack() as stack:
        slow = await stack.enter_async_context(OpenStream(server, slow_one))
        rest = [await stack.enter_async_context(OpenStream(server, who)) for who in others]
        slow.reading.clear()
        ids = await publish_posts(server, author, 1, "first")
        await asyncio.wait_for(slow.held.wait(), BOUND_S)  # its write of the first post waits on its socket
        sends = slow.sends
        for n in range(4):  # a round each: every stream is offered each post before the next is published
            ids += await publish_posts(server, author, 1, f"then {n}")
            await offered_to_all((n + 2) * (1 + len(rest)))
        slow.reading.set()
        await slow.until(lambda: len(slow.messages()) == len(ids))
        assert slow.sends == sends + 2  # the waiting write, then the four rounds queued meanwhile, together
        for opened in rest:
            await opened.until(lambda o=opened: len(o.messages()) == len(ids))
            assert opened.messages() == ids
    assert slow.messages() == ids  # in order, none twice, none missing
    positions = [i for i, _, _ in slow.events]
    assert positions == sorted(set(positions))


async def test_a_stream_resumed_from_a_cursor_gets_the_past_then_the_live_events(server: Harness) -> None:
    early, later, author = Identity.generate(), Identity.generate(), Identity.generate()
    for identity in (early, later, author):
        await server.member(identity)
    async with OpenStream(server, early) as live:  # keeps the shared reader busy ahead of the resumed stream
        past = await publish_posts(server, author, 4, "past")
        await live.until(lambda: len(live.messages()) == 4)
        async with OpenStream(server, later, "cursor=0") as resumed:
            await resumed.until(lambda: len(resumed.messages()) == 4)
            now = await publish_posts(server, author, 2, "now")
            await resumed.until(lambda: len(resumed.messages()) == 6)
    assert resumed.messages() == past + now
    assert [i for i, _, _ in resumed.events] == sorted({i for i, _, _ in resumed.events})


async def test_a_failed_read_ends_every_live_stream_with_a_word(
    server: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two, author = Identity.generate(), Identity.generate(), Identity.generate()
    for identity in (one, two, author):
        await server.member(identity)
    async with OpenStream(server, one) as first, OpenStream(server, two) as second:

        async def failing(store: Store, after: int, limit: int) -> live.Stretch:
            raise StoreError("The database could not be read: disk I/O error.")

        monkeypatch.setattr(fanout, "stretch", failing)
        await publish_posts(server, author, 1)
        for opened in (first, second):
            await opened.until(lambda o=opened: o.raw.endswith(stream_route.STORE_FAILED))
            assert opened.events == []


async def test_a_post_stored_while_the_reader_reads_is_not_left_for_the_next_poll(
    server: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub's wake for a post stored during a read has gone by when the reader next waits: it must see that
    the log moved on, or the post would wait for the poll (an hour here)."""
    monkeypatch.setattr(fanout, "POLL_S", 3600.0)
    listener, author = Identity.generate(), Identity.generate()
    for identity in (listener, author):
        await server.member(identity)
    reading, go_on = asyncio.Event(), asyncio.Event()
    select = live.select

    async def held_up(conn: Any, sql: str, params: Any) -> list[Any]:
        # The stretch's first query past the log's end it read first: its page of messages.
        if not go_on.is_set():
            reading.set()
            await go_on.wait()
        return await select(conn, sql, params)

    async with OpenStream(server, listener) as opened:
        monkeypatch.setattr(live, "select", held_up)
        first = asyncio.create_task(publish_posts(server, author, 1, "first"))
        await asyncio.wait_for(reading.wait(), BOUND_S)  # the reader has read the log's end, and waits here
        second = await publish_posts(server, author, 1, "second")
        go_on.set()
        await opened.until(lambda: len(opened.messages()) == 2)
        assert opened.messages() == [*await first, *second]


async def test_a_mention_of_an_identity_reaches_the_streams_of_its_devices(server: Harness, engine: str) -> None:
    """Notices derived for an identity are its devices' notifications: the reader asks for theirs too."""
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    bystander = Identity.generate()
    for identity in (LAPTOP, PHONE, bystander):
        await server.member(identity)
    await server.state.store.ingest(made.events)
    draft = {"body": {"text": "hello"}, "tags": [["mention", made.identity]]}
    mention = sign_draft(STRANGER, draft, created_at=made.at + 1)
    laptop, phone, other = OpenStream(server, LAPTOP), OpenStream(server, PHONE), OpenStream(server, bystander)
    async with laptop, phone, other:
        [stored] = await server.state.store.ingest([mention])
        assert stored.seq is not None
        server.state.hub.stored(stored.seq)
        for opened in (laptop, phone, other):
            await opened.until(lambda o=opened: mention["id"] in o.messages())
    for opened in (laptop, phone):
        notes = [data for _, event, data in opened.events if event == "notification"]
        assert [(n["kind"], n["message"]["id"]) for n in notes] == [("mention", mention["id"])]
    assert [event for _, event, _ in other.events] == ["message"]


async def test_a_quiet_stream_still_hears_a_keepalive(server: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxies and clients tell a quiet stream from a dead one by its keepalives (every poll here, not 15 s)."""
    monkeypatch.setattr(fanout, "KEEPALIVE_S", 0.0)
    monkeypatch.setattr(fanout, "POLL_S", 0.01)
    listener = Identity.generate()
    await server.member(listener)
    async with OpenStream(server, listener) as opened:
        await opened.until(lambda: opened.raw.endswith(fanout.KEEPALIVE))
    assert opened.events == []


def message_ids(opened: OpenStream) -> dict[str, int]:
    """Each message the stream sent, by id, with the event id it went out at."""
    return {data["message"]["id"]: at for at, event, data in opened.events if event == "message"}


async def test_a_device_message_waiting_for_its_identitys_log_is_streamed_when_the_log_comes(
    server: Harness, engine: str
) -> None:
    """Timelines hold back a device's post while the event adding the device is not held (``Kind.withheld``), and
    so does the stream, by the same rule: the post goes out when that event arrives, at its position (the stream
    is past the post's own seq by then), live and to a stream resuming from before either."""
    store, made = server.state.store, Log()
    await server.member(LAPTOP)
    [inception] = await store.ingest(made.events[:1])
    marker = made.post(LAPTOP, "marker")
    added = made.add(LAPTOP, PHONE, "phone")
    early = made.post(PHONE, "from the phone", at=made.at + 1)
    async with OpenStream(server, LAPTOP) as live_stream:
        [waiting] = await store.ingest([early], origin="peer")
        [shown_first] = await store.ingest([marker])
        assert waiting.seq is not None and shown_first.seq is not None
        server.state.hub.stored(shown_first.seq)
        await live_stream.until(lambda: marker["id"] in live_stream.messages())
        assert early["id"] not in live_stream.messages()  # held back, as timelines hold it

        [log_came] = await store.ingest([added])
        assert log_came.seq is not None
        server.state.hub.stored(log_came.seq)
        await live_stream.until(lambda: early["id"] in live_stream.messages())
    assert message_ids(live_stream) == {marker["id"]: shown_first.seq, added["id"]: log_came.seq,
                                        early["id"]: log_came.seq}  # fmt: skip

    for cursor in (inception.seq, waiting.seq):  # resuming: read alone, by the same rule
        async with OpenStream(server, LAPTOP, f"cursor={cursor}") as resumed:
            await resumed.until(lambda o=resumed: early["id"] in o.messages())
        assert message_ids(resumed)[early["id"]] == log_came.seq
        assert [i for i, _, _ in resumed.events] == sorted(i for i, _, _ in resumed.events)


async def test_a_sealed_message_is_read_once_and_announced_to_its_members_streams_alone(
    server: Harness, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    """Read once for every live stream, the sealed messages of a stretch go, as ``event: sealed`` rendered once,
    to the streams of the members they are sealed to (every device of the identity), never as a message, and to
    nobody else."""
    ada, bo, cy = Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000)
    phone = bo.add(at=T - 5000)
    bare = Identity.generate()
    await server.state.store.ingest([*ada.events, *bo.events, *cy.events])
    for key in (bo.devices[0].key, phone.key, cy.devices[0].key, bare):
        await server.member(key)
    to_bo = sealed(ada, bo.devices[0].public)
    marker = sign_draft(bare, {"body": {"text": "marker"}})
    to_laptop, to_phone, to_cy, to_bare = (
        OpenStream(server, key) for key in (bo.devices[0].key, phone.key, cy.devices[0].key, bare)
    )
    async with to_laptop, to_phone, to_cy, to_bare:
        stretches = counted(monkeypatch, fanout, "stretch")
        read = counted(monkeypatch, live, "members_between")
        rendered = counted(monkeypatch, fanout, "sealed_event")
        results = await server.state.store.ingest([to_bo, marker])
        seq = results[0].seq
        assert seq is not None and results[1].seq is not None
        server.state.hub.stored(results[1].seq)
        for opened in (to_laptop, to_phone, to_cy, to_bare):
            await opened.until(lambda o=opened: marker["id"] in o.messages())
    for opened, told in ((to_laptop, True), (to_phone, True), (to_cy, False), (to_bare, False)):
        assert opened.messages() == [marker["id"]]
        announced = [(at, data) for at, event, data in opened.events if event == "sealed"]
        assert announced == ([(seq, {"seq": seq})] if told else [])
    assert rendered[0] == 1 and 1 <= read[0] <= stretches[0]  # per stretch, not per stream


async def test_a_round_waits_for_as_long_as_its_own_writing_took_not_a_time_per_stream(
    server: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While posts keep coming, the streams' writes take at most their share of the loop (``STREAMS_SHARE``): the
    next round waits, from the start of this one's writing, until they took no more than that; on an idle loop
    with cheap writes that is at once, whatever the number of streams."""
    clock = [1000.0]
    monkeypatch.setattr(fanout, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    wake = fanout.Subscriber.wake

    def writing_a_millisecond(subscriber: fanout.Subscriber) -> None:
        clock[0] += 0.001  # each stream's write takes 1 ms of the reader's time
        wake(subscriber)

    monkeypatch.setattr(fanout.Subscriber, "wake", writing_a_millisecond)
    spacings: list[float] = []
    spaced = asyncio.Event()
    sleep = asyncio.sleep

    async def noted(delay: float, result: Any = None) -> Any:
        task = asyncio.current_task()
        if delay > 0 and task is not None and task.get_name() == "murmur stream fanout":
            spacings.append(delay)
            spaced.set()
        return await sleep(delay, result)

    monkeypatch.setattr(asyncio, "sleep", noted)
    listeners, author = [Identity.generate() for _ in range(3)], Identity.generate()
    for identity in (*listeners, author):
        await server.member(identity)
    async with contextlib.AsyncExitStack() as stack:
        opened = [await stack.enter_async_context(OpenStream(server, who)) for who in listeners]
        ids = await publish_posts(server, author, 1)
        for stream in opened:
            await stream.until(lambda s=stream: s.messages() == ids)
        await asyncio.wait_for(spaced.wait(), BOUND_S)
    share = fanout.STREAMS_SHARE
    assert spacings == [pytest.approx(len(listeners) * 0.001 * (1 / share - 1))]
