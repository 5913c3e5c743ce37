"""A timeline that pages on demand and keeps a bounded window of entries mounted.

Pages are cut by the server's ``before`` cursors, so a page is named by the cursor that fetched it. The list
keeps at most ``max_pages`` pages mounted: scrolling down appends an older page and drops the newest one,
remembering its cursor; scrolling back up fetches that cursor again. Memory stays flat however far back a
person reads. Live arrivals are inserted at the top only while the top is mounted; otherwise they are counted
and ``g`` brings them in.

Whatever the list does by itself (an arrival mounted above, a page swapped, a post deleted) holds the entry being
read where it sits on screen, through every layout that follows, until the reader moves (a key, the mouse, the
wheel or the scrollbar). Heights settle late: a new entry is laid out a refresh after it is mounted, and an
author's name arriving can wrap a header onto a second line; putting the place back once is not enough.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from textual import events, on
from textual.message import Message
from textual.screen import Screen
from textual.scrollbar import ScrollDown, ScrollTo, ScrollUp

from murmur.client.api import PageCursor
from murmur.client.render import page_items
from murmur.client.tui.events import NamesWanted
from murmur.client.tui.net import attempt, gone, work
from murmur.client.tui.widgets.entries import Entry, Placeholder, View, item_authors
from murmur.client.tui.widgets.postlist import PostList

Fetch = Callable[[PageCursor | None, int], Awaitable[dict[str, Any]]]
NEAR_END = 3


@dataclass
class Page:
    before: PageCursor | None
    items: list[dict[str, Any]]
    next_cursor: PageCursor | None = None


@dataclass
class _Window:
    pages: list[Page] = field(default_factory=list)
    above: list[PageCursor | None] = field(default_factory=list)
    """Cursors of pages dropped from the top, the nearest last."""
    pending: int = 0
    """Live arrivals not mounted because the top of the timeline is not."""
    newest: int = 0
    """The highest seq seen, mounted or pending."""


@dataclass(frozen=True)
class _Place:
    """Where the reader is: the entry they were reading and how far from the top of the view it sat."""

    entry: Entry
    offset: float


class Timeline(PostList):
    """One named timeline (``home``, ``tag:x``, ``@key``, ``notifications``...), fed by ``fetch``."""

    @dataclass
    class Unread(Message):
        timeline: Timeline
        count: int

    @dataclass
    class FirstPage(Message):
        timeline: Timeline
        page: dict[str, Any]

    def __init__(
        self, view: View, source: str, fetch: Fetch, *, page_size: int = 40, max_pages: int = 5, id: str | None = None
    ) -> None:
        super().__init__(view, id=id)
        self.source = source
        self.fetch = fetch
        self.page_size = page_size
        self.max_pages = max(2, max_pages)
        self.window = _Window()
        self.loading = False
        self._held: _Place | None = None

    def on_mount(self) -> None:
        self.screen.screen_layout_refresh_signal.subscribe(self, self._keep_place)

    # -- loading -----------------------------------------------------------------------------------------------
    def show_page(self, page: dict[str, Any]) -> None:
        """Start over from this newest page (the cache at start-up, a refresh, ``g`` after reading far back)."""
        items = page_items(page)
        keep = self.current.item.get("seq") if self.current else None
        seen = self.window.newest
        self.window = _Window(pages=[Page(None, items, page.get("next_cursor"))])
        self.window.newest = max((int(i.get("seq") or 0) for i in items), default=0)
        if seen > self.window.newest:
            # A live update saw something newer while this page was on the way: ask again, or it is never shown.
            self.check_newer()
        seqs = [i.get("seq") for i in items]
        self.show(items)
        self._want_names(items)
        if keep in seqs:
            self.highlight(seqs.index(keep))
        self._announce()
        if "unread" in page:
            # The server's count comes with the page it counts: the tab may have opened before the page arrived,
            # and only now is there something on screen to mark read.
            self.post_message(self.Unread(self, int(page["unread"])))

    @work(exclusive=True, group="top")
    async def refresh_top(self) -> None:
        page = await attempt(self, self.fetch(None, self.page_size))
        if page is None:
            return
        self.show_page(page)
        self.post_message(self.FirstPage(self, page))

    def load_older(self) -> None:
        last = self.window.pages[-1] if self.window.pages else None
        if last is None or last.next_cursor is None or self.loading:
            return
        self.loading = True  # set before the worker starts, so a burst of key presses fetches once
        self._fetch_older(last)

    @work(group="page")
    async def _fetch_older(self, last: Page) -> None:
        try:
            page = await attempt(self, self.fetch(last.next_cursor, self.page_size))
        finally:
            self.loading = False
        if page is not None and self.window.pages and self.window.pages[-1] is last:
            self._append(Page(last.next_cursor, page_items(page), page.get("next_cursor")))

    def load_newer(self) -> None:
        if not self.window.above or self.loading:
            return
        self.loading = True
        self._fetch_newer(self.window.above[-1])

    @work(group="page")
    async def _fetch_newer(self, before: PageCursor | None) -> None:
        try:
            page = await attempt(self, self.fetch(before, self.page_size))
        finally:
            self.loading = False
        if page is not None and self.window.above and self.window.above[-1] == before:
            self.window.above.pop()
            self._prepend(Page(before, page_items(page), page.get("next_cursor")))

    @work(exclusive=True, group="live")
    async def check_newer(self) -> None:
        """Fetch the newest page and take in what is newer than anything seen (a live update)."""
        page = await attempt(self, self.fetch(None, self.page_size))
        if page is None:
            return
        fresh = [i for i in page_items(page) if int(i.get("seq") or 0) > self.window.newest]
        if "unread" in page:
            self.post_message(self.Unread(self, int(page["unread"])))
        if not fresh:
            return
        self.window.newest = max(int(i.get("seq") or 0) for i in fresh)
        if self.window.above or not self.window.pages:
            self.window.pending += len(fresh)
        else:
            self._mount_fresh(page_items(page), fresh)
        self._announce()

    def _mount_fresh(self, newest: list[dict[str, Any]], fresh: list[dict[str, Any]]) -> None:
        """Put live arrivals where the newest page puts them: pages are in time order, not arrival order, so
        a post that arrived late with an older time goes before the mounted entry it precedes, not on top."""
        fresh_seqs = {int(i.get("seq") or 0) for i in fresh}
        top = 0
        while top < len(newest) and int(newest[top].get("seq") or 0) in fresh_seqs:
            top += 1
        if top:
            self.window.pages[0].items[:0] = newest[:top]
            self._mount_at_top(newest[:top], unread=True)
        for position in range(top, len(newest)):
            item = newest[position]
            if int(item.get("seq") or 0) not in fresh_seqs:
                continue
            following = next((int(i.get("seq") or 0) for i in newest[position + 1 :]
                              if int(i.get("seq") or 0) not in fresh_seqs), None)  # fmt: skip
            self._mount_before(item, following)

    def _mount_before(self, item: dict[str, Any], seq: int | None) -> None:
        """Mount ``item`` just above the mounted entry with ``seq``; left for paging when that is not mounted."""
        entries = self.entries
        at = next((n for n, entry in enumerate(entries) if entry.seq == seq), None)
        holder = next((p for p in self.window.pages if any(int(i.get("seq") or 0) == seq for i in p.items)), None)
        if at is None or holder is None:
            return
        holder.items.insert(next(n for n, i in enumerate(holder.items) if int(i.get("seq") or 0) == seq), item)
        self._hold_place()
        entry = self.make_entry(item)
        entry.unread = (item.get("message") or {}).get("author") != self.view.me
        self.mount(entry, before=entries[at])
        if at <= self.index:
            self.index += 1
        self._want_names([item])

    # -- the reader's place ------------------------------------------------------------------------------------
    def _hold_place(self) -> None:
        """Hold the highlighted entry where it sits on screen until the reader moves. A place already held stays:
        the layouts after the last change may not have settled, and the screen they left is not the reader's."""
        if self._held is not None and not gone(self._held.entry):
            return
        entry = self.current
        # An entry not laid out yet (just mounted, or on a hidden tab) has no place on screen to keep.
        self._held = _Place(entry, entry.virtual_region.y - self.scroll_y) if entry and entry.virtual_region else None

    def _keep_place(self, _: Screen) -> None:
        """After every layout of the screen: put the held entry back where the reader saw it."""
        held = self._held
        if held is None:
            return
        if gone(held.entry):
            self._held = None
            return
        region = held.entry.virtual_region
        if region:  # a hidden tab's entries have no region: the place waits for the tab to show again
            y = max(0, region.y - held.offset)
            self.scroll_to(y=y, animate=False, immediate=True)

    @on(events.Key)
    @on(events.MouseDown)  # on an entry: the scrollbar stops its own, and posts the three messages below instead
    @on(events.MouseScrollDown)
    @on(events.MouseScrollUp)
    @on(ScrollDown)
    @on(ScrollUp)
    @on(ScrollTo)
    def _let_go(self) -> None:
        """The reader moves by themselves: the place is theirs again."""
        self._held = None

    # -- the mounted window ------------------------------------------------------------------------------------
    def _mount_at_top(self, items: list[dict[str, Any]], *, unread: bool = False) -> None:
        self._hold_place()
        for placeholder in self.query(Placeholder):
            placeholder.remove()
        new = [self.make_entry(item) for item in items]
        for entry in new:
            # What I wrote myself is not news to me.
            entry.unread = unread and (entry.item.get("message") or {}).get("author") != self.view.me
        entries = self.entries
        if entries:
            self.mount_all(new, before=entries[0])
            self.index += len(new)
        else:
            self.mount_all(new)
            self.highlight(0)
        self._want_names(items)

    def _append(self, page: Page) -> None:
        self.window.pages.append(page)
        self._hold_place()
        self.mount_all([self.make_entry(item) for item in page.items])
        if len(self.window.pages) > self.max_pages:
            dropped = self.window.pages.pop(0)
            self.window.above.append(dropped.before)
            count = len(dropped.items)
            for entry in self.entries[:count]:
                entry.remove()
            self.index = max(0, self.index - count)
        self._want_names(page.items)

    def _prepend(self, page: Page) -> None:
        # Pages are in time order, not log order: leave out what is mounted already (a post that arrived late
        # with an older time can push an entry of this page onto the next one).
        mounted = {i.get("seq") for p in self.window.pages for i in p.items}
        page.items = [i for i in page.items if i.get("seq") not in mounted]
        self.window.pages.insert(0, page)
        self._mount_at_top(page.items)
        if len(self.window.pages) > self.max_pages:
            dropped = self.window.pages.pop()
            for entry in self.entries[-len(dropped.items) :] if dropped.items else []:
                entry.remove()
        if not self.window.above and self.window.pending:
            self.window.pending = 0  # the newest page was fetched again: it holds what was pending
        self._announce()

    def _want_names(self, items: list[dict[str, Any]]) -> None:
        wanted = {k for item in items for k in item_authors(item)} - set(self.view.names)
        if wanted:
            self.post_message(NamesWanted(wanted))

    def _announce(self) -> None:
        unread = sum(1 for entry in self.entries if entry.unread) + self.window.pending
        if self.source != "notifications":
            self.post_message(self.Unread(self, unread))

    # -- paging triggers ---------------------------------------------------------------------------------------
    def after_move(self, index: int, count: int) -> None:
        if index >= count - NEAR_END:
            self.load_older()
        elif index < NEAR_END and self.window.above:
            self.load_newer()
        self._announce()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new >= self.max_scroll_y - 2 and new > old:
            self.load_older()
        elif new <= 1 and new < old and self.window.above:
            self.load_newer()

    def action_first(self) -> None:
        if self.window.above or self.window.pending:
            self.refresh_top()  # reading far back: the top is no longer mounted, fetch it fresh
        else:
            super().action_first()

    def forget(self, msg_id: str) -> None:
        self._hold_place()  # a post going above the one being read must not pull it up
        super().forget(msg_id)
        self._announce()  # a deleted arrival is no longer unread
