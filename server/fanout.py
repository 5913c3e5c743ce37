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

A subscriber is a bounded queue that the fanout appends to without ever waiting, so a slow reader holds back
neither the other streams nor publishing. One that falls more than ``BEHIND`` events behind is dropped from the
live set, losing nothing: its stream reads the log for itself from its last event (as a client reconnecting with
``Last-Event-ID`` would be served) until it has caught up, and then joins the live set again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import orjson

from murmur.errors import StoreError
from murmur.server.hub import Hub
from murmur.server.responses import raw_message
from murmur.server.routes.render import notification_json
from murmur.store import LogEntry, Store
from murmur.store.live import Stretch, stretch
from murmur.store.notifications import NotificationItem, derived, notified

POLL_S = 2.0
KEEPALIVE_S = 15.0
PAGE = 200
ROUND_SPACING_S = 40e-6  # per live stream: 40 ms between rounds for 1,000 streams (see _round)
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


def merged(messages: Sequence[Event], own: Sequence[Event]) -> list[Event]:
    """Messages and a member's own events (notifications, sealed announcements) in log order; a notification
    follows the message event at its position, and one told late (at a message no longer held) comes where it
    was derived. The sort is stable, messages first."""
    return sorted([*messages, *own], key=lambda event: event[0])


class Rendered:
    """A stretch of the log rendered once for every stream: the message events all members get, and each sealed
    message's announcement with the keys of the members it is for (a private group's: its members' devices now)."""

    def __init__(self, read: Stretch) -> None:
        self.after, self.upto, self.full = read.after, read.upto, read.full
        self.shared = [message_event(at, entry) for at, entry in read.shown]
        self.sealed = [(sealed_event(seq, group), keys) for seq, (group, keys) in read.sealed.items()]

    def own(self, key: str, notes: Sequence[Event]) -> list[Event]:
        """What the member ``key`` gets of the stretch beyond the shared events."""
        announced = [event for event, keys in self.sealed if key in keys]
        return [*notes, *announced] if announced else list(notes)

    def events(self, key: str, notes: Sequence[Event]) -> list[Event]:
        own = self.own(key, notes)
        return merged(self.shared, own) if own else self.shared


async def rendered(store: Store, after: int) -> Rendered:
    return Rendered(await stretch(store, after, PAGE))


async def notes_of(store: Store, key: str, after: int, upto: int) -> list[Event]:
    return [notification_event(at, item) for at, item in await derived(store, key, after=after, upto=upto)]


async def read_alone(store: Store, subscriber: Subscriber) -> bytes:
    """The next stretch of the log past the subscriber's cursor, read for its stream alone (resuming from a cursor,
    or catching up after falling behind), and its cursor moved past it."""
    read = await rendered(store, subscriber.cursor)
    events = read.events(subscriber.key, await notes_of(store, subscriber.key, read.after, read.upto))
    subscriber.cursor = read.upto
    return b"".join(data for _, data in events)


class Subscriber:
    """One stream's queue of live events, filled by the fanout and drained by the stream."""

    def __init__(self, key: str, cursor: int, *, limit: int) -> None:
        self.key = key
        self.cursor = cursor  # the position of the last event handed to the stream (or where it started)
        self.limit = limit
        self.idle_since = 0.0  # loop time of the last bytes handed out
        self._pending: list[Event] = []
        self._keepalive = False
        self._behind = False
        self._failed: StoreError | Ended | None = None
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, events: Sequence[Event]) -> bool:
        """Queue events without waiting; False when that would put the subscriber too far behind (then it holds
        nothing more, and its stream is told so by ``take``)."""
        if len(self._pending) + len(events) > self.limit:
            self._behind, self._pending = True, []
            self._wake()
            return False
        self._pending.extend(events)
        self._wake()
        return True

    def keepalive(self) -> None:
        self._keepalive = True
        self._wake()

    def fail(self, exc: StoreError | Ended) -> None:
        self._failed = exc
        self._wake()

    def rejoined(self) -> None:
        self._behind = False

    async def take(self) -> bytes:
        """The bytes of the events queued past the cursor, waiting for some; raises ``Behind`` when the subscriber
        fell behind, the fanout's ``StoreError`` when its read failed, and ``Ended`` when it failed otherwise."""
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
        events, self._pending = self._pending, []
        data = b"".join(event for at, event in events if at > self.cursor)
        if events:
            self.cursor = max(self.cursor, events[-1][0])
        if self._keepalive and not data:
            data = KEEPALIVE
        self._keepalive = False
        if data:
            self.idle_since = asyncio.get_running_loop().time()
        return data

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class Fanout:
    """The one reader behind every live stream of a server (see the module docstring)."""

    def __init__(self, store: Store, hub: Hub, *, behind: int = BEHIND) -> None:
        self.store = store
        self.hub = hub
        self.behind = behind  # the bound of every subscriber's queue, in events
        self.position = 0  # every event up to here has been offered to every live subscriber
        self._live: dict[Subscriber, None] = {}  # insertion-ordered set
        self._task: asyncio.Task[None] | None = None

    def subscriber(self, key: str, cursor: int) -> Subscriber:
        return Subscriber(key, cursor, limit=self.behind)

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
        # No await from here to the end: every live subscriber is offered the same stretch, whole.
        for subscriber in list(self._live):
            events = read.events(subscriber.key, notes.get(subscriber.key, ()))
            if events and not subscriber.offer(events):
                del self._live[subscriber]
        self.position = upto
        if read.shared:
            # A round's writes cost each stream about the same whatever they carry (a socket write through
            # uvicorn and Starlette): spacing rounds by the number of streams bounds the event loop's share spent
            # on them whatever the post rate, so publishing keeps its share, and posts that come meanwhile go out
            # together in the next round.
            await asyncio.sleep(ROUND_SPACING_S * len(self._live))
        return read.full

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
