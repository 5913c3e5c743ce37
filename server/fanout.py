"""Live streams fed by one reader: each new stretch of the log is read once and each event rendered once, however
many streams are open.

While any stream listens, one task (``Fanout``) waits for the hub (or polls, for writes by another process on the
same database), reads the log past its position, renders each message event once and hands the same bytes to
every live subscriber. Members are shown the same messages (those readers are shown, each at the position it
came to be shown: ``murmur.store.live``), so message events have one audience here. Sealed messages are never
message events: the stretch's are read once with the members each is sealed to (a private group's message: the
current devices of the group's members), and each announcement (``event: sealed``) is rendered once and queued to
those members' streams alone. Notifications are each
member's own, and are read for a subscriber only when the stretch derived a notice for its key or its identity
(``murmur.store.notifications.notified``), by the very read a stream catching up makes (``derived``), once per
key however many of its streams are open. A stream reading alone renders its stretch by the same functions.
A peer's notice that it withheld a message is kept at a log position of its own (``murmur.store.receipts.note``):
the stretch holding it carries it (``Stretch.withheld``), to every stream as a message event is, and a stream
resuming from a cursor reads it there.

A stretch's events are joined into bytes once (a ``Batch``), and that one object is queued to every stream with
nothing of its own in the stretch; a stream takes whatever batches wait for it in one write, so what a stream costs
the server is one write per round, however many events the round carries. The fanout makes that write itself,
onto the stream's socket, when the stream's task is idle and the socket takes it at once (``Wire.ready``): no task
is woken per stream and round. Otherwise (a socket pushing back, a server whose writes are not known) it wakes the
stream's task, which writes through the ASGI ``send`` and waits as long as it must, alone.

A subscriber is a bounded queue that the fanout appends to without ever waiting, so a slow reader holds back
neither the other streams nor publishing. One that falls more than ``BEHIND`` events behind is dropped from the
live set, losing nothing: its stream reads the log for itself from its cursor (as a client reconnecting with
``Last-Event-ID`` would be served) until it has caught up, and then joins the live set again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import orjson

from murmur.errors import StoreError
from murmur.server.eventstream import Wire
from murmur.server.hub import Hub
from murmur.server.responses import raw_message
from murmur.server.routes.render import notification_json
from murmur.store import LogEntry, Store
from murmur.store.live import Stretch, stretch
from murmur.store.notifications import NotificationItem, derived, notified
from murmur.store.receipts import Told

POLL_S = 2.0
KEEPALIVE_S = 15.0
PAGE = 200
STREAMS_SHARE = 0.5  # of the event loop's time, at most, spent writing rounds while posts keep coming (see _round)
WAKE_GROUP = 20  # streams written or woken together; the event loop serves requests between groups (see _wake)
BEHIND = 2000  # events a subscriber may have waiting before it reads the log for itself instead

KEEPALIVE = b": keepalive\n\n"

Event = tuple[int, bytes]
"""An event's log position (its SSE ``id``) and its bytes on the wire."""

log = logging.getLogger("murmur.server")


class Behind(Exception):
    """The subscriber fell too far behind the live events; its stream reads the log from its cursor instead."""


class Ended(Exception):
    """The fanout stopped on an unexpected error (logged with its traceback): the stream ends, and its client
    reconnects from its last event after the ``retry`` interval."""


def message_event(at: int, entry: LogEntry) -> Event:
    """A message event; its id is where the message came to be shown: its seq, or the position that showed it late."""
    data = orjson.dumps({"seq": entry.seq, "message": raw_message(entry.raw)})
    return at, b"id: %d\nevent: message\ndata: %s\n\n" % (at, data)


def sealed_event(seq: int, group: str | None = None) -> Event:
    """A sealed message announced, never shown: its members' devices fetch and open it themselves. A private
    group's says which group (its id, which every member knows and the message names in the clear), so that a
    device fetches that group's feed alone."""
    data = orjson.dumps({"seq": seq} if group is None else {"seq": seq, "group": group})
    return seq, b"id: %d\nevent: sealed\ndata: %s\n\n" % (seq, data)


def notification_event(at: int, item: NotificationItem) -> Event:
    """A notification event; its id is where it was derived, so resuming after it neither repeats nor skips it."""
    return at, b"id: %d\nevent: notification\ndata: %s\n\n" % (at, orjson.dumps(notification_json(item)))


def withheld_event(told: Told) -> Event:
    """Peers withheld a message readers are shown, and said why, signed: its notices kept up to the event's
    position, as ``GET /api/v1/messages/{id}/withheld`` answers them. Its id is where the newest was kept, so a
    client resuming after it is told of no notice twice, and one resuming before it is told of them all."""
    data = orjson.dumps({"id": told.id, "withheld": [r.as_dict() for r in told.notices]})
    return told.at, b"id: %d\nevent: withheld\ndata: %s\n\n" % (told.at, data)


def merged(messages: Sequence[Event], own: Sequence[Event]) -> list[Event]:
    """Messages and a member's own events (notifications, sealed announcements) in log order; a notification
    follows the message event at its position, and one told late (at a message no longer held) comes where it
    was derived. The sort is stable, messages first."""
    return sorted([*messages, *own], key=lambda event: event[0])


class Batch:
    """Events of a stretch (``after``, ``upto``] for a stream, with their bytes joined once: the shared batch of a
    round is one object queued to every stream that has nothing of its own in the stretch."""

    __slots__ = ("after", "data", "events", "upto")

    def __init__(self, after: int, upto: int, events: list[Event]) -> None:
        self.after, self.upto, self.events = after, upto, events
        self.data = b"".join(data for _, data in events)

    def since(self, cursor: int) -> bytes:
        """Its bytes past ``cursor``: all of them, unless the stream started inside the stretch (it joined the
        fanout from a cursor ahead of the fanout's position)."""
        if cursor <= self.after:
            return self.data
        return b"".join(data for at, data in self.events if at > cursor)


class Rendered:
    """A stretch of the log rendered once for every stream: the message events all members get, and each sealed
    message's announcement, filed under the keys of the members it is for (a private group's: its members' devices
    now)."""

    def __init__(self, read: Stretch) -> None:
        self.after, self.upto, self.full = read.after, read.upto, read.full
        told = [withheld_event(t) for t in read.withheld]
        self.shared = Batch(read.after, read.upto, merged([message_event(at, e) for at, e in read.shown], told))
        self.announced: dict[str, list[Event]] = {}
        for seq, (group, keys) in read.sealed.items():
            event = sealed_event(seq, group)
            for key in keys:
                self.announced.setdefault(key, []).append(event)

    def batch(self, key: str, notes: Sequence[Event]) -> Batch:
        """What the member ``key`` gets of the stretch: the shared batch itself, unless it has notifications or
        sealed announcements in it."""
        announced = self.announced.get(key, ())
        if not notes and not announced:
            return self.shared
        return Batch(self.after, self.upto, merged(self.shared.events, [*notes, *announced]))


async def rendered(store: Store, after: int) -> Rendered:
    return Rendered(await stretch(store, after, PAGE))


async def notes_of(store: Store, key: str, after: int, upto: int) -> list[Event]:
    return [notification_event(at, item) for at, item in await derived(store, key, after=after, upto=upto)]


async def read_alone(store: Store, subscriber: Subscriber) -> bytes:
    """The next stretch of the log past the subscriber's cursor, read for its stream alone (resuming from a cursor,
    or catching up after falling behind), and its cursor moved past it."""
    read = await rendered(store, subscriber.cursor)
    batch = read.batch(subscriber.key, await notes_of(store, subscriber.key, read.after, read.upto))
    subscriber.cursor = read.upto
    return batch.data


class Subscriber:
    """One stream's queue of live batches, filled by the fanout and drained by the stream."""

    def __init__(self, key: str, cursor: int, *, limit: int, wire: Wire | None = None) -> None:
        self.key = key
        self.wire = wire  # where the fanout writes for the stream's task when it is idle (see wake)
        self.cursor = cursor  # every event of the stream up to this log position has been handed to it
        self.limit = limit
        self.idle_since = 0.0  # loop time of the last bytes handed out
        self._pending: list[Batch] = []
        self._events = 0  # how many events _pending holds
        self._keepalive = False
        self._behind = False
        self._failed: StoreError | Ended | None = None
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, batch: Batch) -> bool:
        """Queue a batch without waiting (the fanout wakes the stream after, see ``wake``); False when that would
        put the subscriber too far behind (then it holds nothing more, and its stream is told so by ``take``)."""
        if self._events + len(batch.events) > self.limit:
            self._behind, self._pending, self._events = True, [], 0
            return False
        self._pending.append(batch)
        self._events += len(batch.events)
        return True

    def keepalive(self) -> None:
        self._keepalive = True
        self.wake()

    def fail(self, exc: StoreError | Ended) -> None:
        self._failed = exc
        self.wake()

    def rejoined(self) -> None:
        self._behind = False

    async def take(self) -> bytes:
        """The bytes of every batch queued, past the cursor, in one piece, waiting for some; raises ``Behind`` when
        the subscriber fell behind, the fanout's ``StoreError`` when its read failed, and ``Ended`` when it failed
        otherwise."""
        if not (self._pending or self._keepalive or self._behind or self._failed):
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._failed is not None:
            raise self._failed
        if self._behind:
            raise Behind
        return self._taken()

    def _taken(self) -> bytes:
        batches, self._pending, self._events = self._pending, [], 0
        if len(batches) == 1:  # most often: its own bytes, the same object for every stream (not a copy)
            data = batches[0].since(self.cursor)
            self.cursor = max(self.cursor, batches[0].upto)
        else:
            data = b"".join([batch.since(self.cursor) for batch in batches])
            if batches:
                self.cursor = max(self.cursor, *(batch.upto for batch in batches))  # never back, whatever came queued
        if self._keepalive and not data:
            data = KEEPALIVE
        self._keepalive = False
        if data:
            self.idle_since = asyncio.get_running_loop().time()
        return data

    def wake(self) -> None:
        """Have what waits for the stream written. Its task, idle in ``take``, is woken to write it, unless the
        stream's socket takes it at once: then it is written here, and the task sleeps on. Between ``take`` and its
        write returning (the task busy, or its send waiting on the socket) nothing is written here: the task takes
        what came meanwhile when it is done, so bytes go out in order, one writer at a time."""
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self.wire is not None and self._failed is None and not self._behind and self.wire.ready():
            if data := self._taken():
                self.wire.write_now(data)
            return
        waiter.set_result(None)


class Fanout:
    """The one reader behind every live stream of a server (see the module docstring)."""

    def __init__(self, store: Store, hub: Hub, *, behind: int = BEHIND) -> None:
        self.store = store
        self.hub = hub
        self.behind = behind  # the bound of every subscriber's queue, in events
        self.position = 0  # every event up to here has been offered to every live subscriber
        self._live: dict[Subscriber, None] = {}  # insertion-ordered set
        self._task: asyncio.Task[None] | None = None

    @property
    def live(self) -> int:
        """How many streams the fanout feeds now (those reading the log alone are not among them)."""
        return len(self._live)

    def subscriber(self, key: str, cursor: int, wire: Wire | None = None) -> Subscriber:
        return Subscriber(key, cursor, limit=self.behind, wire=wire)

    def join(self, subscriber: Subscriber) -> bool:
        """Take a subscriber into the live set if it has read the log up to the fanout's position (nothing between
        would reach it otherwise); False: its stream must read on by itself first."""
        if self._task is None:
            self.position = subscriber.cursor
            self._task = asyncio.get_running_loop().create_task(self._run(), name="murmur stream fanout")
        elif subscriber.cursor < self.position:
            return False
        subscriber.rejoined()
        subscriber.idle_since = asyncio.get_running_loop().time()
        self._live[subscriber] = None
        return True

    def leave(self, subscriber: Subscriber) -> None:
        self._live.pop(subscriber, None)
        if not self._live and self._task is not None:
            # Nobody listens: stop reading. Only reads are in flight, so cancelling one loses nothing.
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        try:
            while self._live:
                seen = self.hub.last_seq
                full = await self._round()
                # What this process stored during the round is not waited for: the hub's wake for it has already
                # gone by. Another round follows only such a store, so this can never spin.
                if full or self.hub.last_seq != seen:
                    continue
                await self.hub.wait(POLL_S)
                self._tick()
        except StoreError as exc:
            log.error("storage error on the live streams, which end here: %s", exc)
            self._fail_all(exc)
        except Exception:
            # Not to die silently: every stream ends (its client reconnects, which starts a new reader).
            log.exception("the live streams' reader failed; the streams end here")
            self._fail_all(Ended())
        finally:
            if self._task is asyncio.current_task():
                self._task = None

    async def _round(self) -> bool:
        """Offer every live subscriber the next stretch of the log; True when there is more to read at once."""
        after = self.position
        read = await rendered(self.store, after)
        upto = read.upto
        if upto <= after:
            return False
        told = await notified(self.store, after=after, upto=upto)
        notes: dict[str, list[Event]] = {}
        asked: set[Subscriber] = set()
        # Subscribers may join while a read is awaited: ask for theirs too, until none is new.
        while fresh := [s for s in self._live if s not in asked]:
            asked.update(fresh)
            for key in {s.key for s in fresh if s.key in told and s.key not in notes}:
                notes[key] = await notes_of(self.store, key, after, upto)
        # No await from here until every live subscriber holds the stretch; one that joins after has read it itself.
        self.position = upto
        offered: list[Subscriber] = []
        for subscriber in list(self._live):
            batch = read.batch(subscriber.key, notes.get(subscriber.key, ()))
            if batch.events:
                if not subscriber.offer(batch):
                    del self._live[subscriber]
                offered.append(subscriber)
        writing = time.perf_counter()
        busy = await self._wake(offered)
        if read.shared.events:
            # A round's writes cost each stream about the same whatever they carry (a socket write). The next round
            # waits until these took no more than their share of the time since they began, so publishes keep the
            # rest whatever the post rate, the number of streams and the machine's load, and posts that come
            # meanwhile go out together; on an idle loop that is as long as the writes took, and no longer.
            await asyncio.sleep(writing + busy / STREAMS_SHARE - time.perf_counter())
        return read.full

    @staticmethod
    async def _wake(subscribers: Sequence[Subscriber]) -> float:
        """Have the streams written a group at a time; the seconds spent writing here. A write, here or by a woken
        stream, is made at once, on the event loop: a thousand in one go would hold every request behind them for
        the whole round, while between groups the loop reads the sockets and serves what came (a publish waits for
        one group at most, and each of its calls to the database's threads resumes before the next group). Only the
        reader's own writing is counted, not the turns between groups: counting what else the loop ran meanwhile
        spaced rounds twice as far apart under load, for worse delivery and no better publishing
        (docs/performance.md). A woken stream's write is not counted either: where the reader cannot
        write (a server whose writes are not known), rounds follow more closely, each still in groups."""
        busy = 0.0
        for start in range(0, len(subscribers), WAKE_GROUP):
            began = time.perf_counter()
            for subscriber in subscribers[start : start + WAKE_GROUP]:
                subscriber.wake()
            busy += time.perf_counter() - began
            # Twice: a database call that came back during the group resumes its caller by a callback that only
            # schedules the caller's task, behind the reader's own next turn; yielding once more lets that task run
            # before the next group rather than after it. A publish makes some twenty such calls (validation, the
            # writer's statements), each of which waited for one to two groups of writes.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        return busy

    def _fail_all(self, exc: StoreError | Ended) -> None:
        for subscriber in self._live:
            subscriber.fail(exc)
        self._live.clear()

    def _tick(self) -> None:
        """Say the stream is alive to subscribers that had nothing for ``KEEPALIVE_S``."""
        now = asyncio.get_running_loop().time()
        for subscriber in self._live:
            if now - subscriber.idle_since >= KEEPALIVE_S:
                subscriber.keepalive()

    async def aclose(self) -> None:
        """Stop the reader (a server shutting down with streams still open)."""
        task, self._task = self._task, None
        self._live.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
