"""The timelines as tabs: Home, Notifications (with its unread count, and above it the reminders of meetups I
answered that start soon), Local, Federated, one more (a hashtag or a person) opened on demand, Groups (mine and
the directory, key 6), Meetups (the newest, key 7) and Conversations (direct messages, with their unread count, key
8), which are not timelines: tab and shift+tab move between the timelines."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static, TabbedContent, TabPane
from textual.worker import WorkerCancelled

from murmur.client.api import MurmurClient, PageCursor
from murmur.client.kinds import reminder_line
from murmur.client.tui.bindings import TIMELINES, bindings
from murmur.client.tui.net import attempt, gone, landing, work
from murmur.client.tui.screens.base import MurmurScreen
from murmur.client.tui.widgets.conversations import ConversationsPane, Source
from murmur.client.tui.widgets.entries import View
from murmur.client.tui.widgets.groups import GroupsPane
from murmur.client.tui.widgets.meetups import MeetupList
from murmur.client.tui.widgets.timeline import Fetch, Timeline
from murmur.keys import KEY_HEX, fingerprint
from murmur.validate import HASHTAG_CHARS

if TYPE_CHECKING:  # a group's private messages, with their store, are imported when a group screen opens
    from murmur.client.tui.widgets.private_group import Source as PrivateSource

EMPTY = {
    "home": "Your home timeline shows your posts and those of people you follow. Nothing yet: press 3 for "
    "the Local timeline, / to find people, p on a post to see its author and f there to follow, n to post.",
    "notifications": "No notifications yet: mentions, replies, reactions, boosts and follows will show here.",
    "local": "Nobody on this server has posted yet. Press n to write the first post.",
    "federated": "Nothing has arrived from this server's peers yet.",
}
TABS = (("home", "Home"), ("notifications", "Notifications"), ("local", "Local"), ("federated", "Federated"))
EXTRA = "extra"
GROUPS = "groups"
MEETUPS = "meetups"
CONVERSATIONS = "conversations"
NOT_TIMELINES = (GROUPS, MEETUPS, CONVERSATIONS)
NO_MEETUPS = "No meetups here yet: `murmur meetup create` starts one."
FIRST_DRAWN_WAIT_S = 1.0  # the most the other tabs wait for the first one to be drawn
REMINDER_CHECK_MAX_S = 3600.0  # look again at least hourly: a new answer elsewhere may bring a reminder closer


def fetcher(api: MurmurClient, source: str) -> Fetch:
    """The call that reads one page of ``source`` (a timeline name, ``tag:NAME``, ``@KEY`` or notifications)."""

    async def fetch(before: PageCursor | None, limit: int) -> dict[str, Any]:
        if source == "notifications":
            return await api.notifications(limit=limit, before=before)
        return await api.timeline(source, limit=limit, before=before)

    return fetch


def source_for(text: str) -> str | None:
    """``#topic`` -> ``tag:topic``; a key (with or without ``@``) -> ``@KEY``; anything else -> None."""
    text = text.strip()
    if text.startswith("#") and 0 < len(text) - 1 <= 64 and set(text[1:].lower()) <= HASHTAG_CHARS:
        return f"tag:{text[1:].lower()}"
    key = text.lstrip("@").lower()
    if KEY_HEX.fullmatch(key):
        return f"@{key}"
    return None


def pane_id(source: str) -> str:
    return EXTRA if source not in dict(TABS) else source


class MainScreen(MurmurScreen):
    BINDINGS = bindings(TIMELINES)

    def __init__(
        self,
        api: MurmurClient,
        view: View,
        *,
        page_size: int = 40,
        max_pages: int = 5,
        direct: Source,
        private: PrivateSource | None = None,
    ) -> None:
        """``direct``: where the Conversations tab's conversations come from; ``private``: the private groups (the
        Groups tab counts their new messages)."""
        super().__init__()
        self.api = api
        self.view = view
        self.page_size = page_size
        self.max_pages = max_pages
        self.direct = direct
        self.private = private
        self.titles = {**dict(TABS), GROUPS: "Groups", CONVERSATIONS: "Conversations"}
        self.unread: dict[str, int] = {}
        self.reminded: set[str] = set()  # meetups whose reminder was shown as a toast already
        self.reminder_timer: Timer | None = None

    def timeline(self, source: str) -> Timeline:
        fetch = fetcher(self.api, source)
        if source == "notifications":
            fetch = self._with_reminders(fetch)
        timeline = Timeline(
            self.view,
            source,
            fetch,
            page_size=self.page_size,
            max_pages=self.max_pages,
            id=f"tl-{pane_id(source)}",
        )
        timeline.empty_text = EMPTY.get(source, "Nothing here yet.")
        return timeline

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            for source, title in TABS:
                with TabPane(title, id=source):
                    if source == "notifications":
                        yield Static("", id="reminders")
                    yield self.timeline(source)
            with TabPane("Groups", id=GROUPS):
                yield GroupsPane(self.api, self.view, private=self.private)
            with TabPane("Meetups", id=MEETUPS):
                yield MeetupList(self.view, empty=NO_MEETUPS, id="meetups-list")
            with TabPane("Conversations", id=CONVERSATIONS):
                yield ConversationsPane(self.direct, self.view)
        yield from self.chrome()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#reminders", Static).display = False
        self.focus_timeline()

    def first_reads(self) -> None:
        """Read every timeline's newest page and the conversations (whose unread count belongs on the tab from
        the start). The app calls this once the live stream knows where the log ended before these reads, so that
        what is stored while they are on the way comes over the stream."""
        self._first_reads()

    @work(exclusive=True, group="first-reads")
    async def _first_reads(self) -> None:
        # The tab in view first; the rest once its page is drawn (or its read failed). Read together, the other
        # pages' answers, and the names they ask for, were checked and laid out on this same event loop before
        # the page the person waits for was drawn: a second of the first paint on a loaded machine.
        first = self.current_timeline()
        if first is not None:
            with suppress(WorkerCancelled):  # a newer read of that tab took its place: the rest need not wait
                await first.refresh_top().wait()
            if gone(first):  # the app closed while the page was asked for: nothing is drawn again, nor waited for
                return
            # Textual runs a call-after-refresh on the screen in front, and drops it if that screen closes first (a
            # dialog opened and shut at once): then the rest are read at the bound, not never.
            with suppress(TimeoutError):
                await asyncio.wait_for(first.wait_for_refresh(), FIRST_DRAWN_WAIT_S)
        for timeline in self.timelines:
            if timeline is not first:
                timeline.refresh_top()
        self.conversations_changed()
        self.private_changed()

    # -- tabs --------------------------------------------------------------------------------------------------
    @property
    def timelines(self) -> list[Timeline]:
        return list(self.query(Timeline))

    def current_timeline(self) -> Timeline | None:
        active = self.query_one(TabbedContent).active
        found = self.query(f"#tl-{active}")
        return found.first(Timeline) if found else None

    def focus_timeline(self) -> None:
        timeline = self.current_timeline()
        if timeline is not None:
            timeline.focus()
        elif self.query_one(TabbedContent).active == GROUPS:
            self.query_one(GroupsPane).list.focus()
        elif self.query_one(TabbedContent).active == MEETUPS:
            self.query_one(MeetupList).focus()
        elif self.query_one(TabbedContent).active == CONVERSATIONS:
            self.query_one(ConversationsPane).list.focus()

    def _pane_ids(self) -> list[str]:
        return [pane.id or "" for pane in self.query_one(TabbedContent).query(TabPane)]

    def switch_to(self, pane: str) -> None:
        if pane in self._pane_ids():
            self.query_one(TabbedContent).active = pane
            self.focus_timeline()

    def action_tab_1(self) -> None:
        self.switch_to("home")

    def action_tab_2(self) -> None:
        self.switch_to("notifications")

    def action_tab_3(self) -> None:
        self.switch_to("local")

    def action_tab_4(self) -> None:
        self.switch_to("federated")

    def action_tab_5(self) -> None:
        self.switch_to(EXTRA)

    def action_tab_groups(self) -> None:
        self.switch_to(GROUPS)

    def action_tab_meetups(self) -> None:
        self.switch_to(MEETUPS)

    def action_tab_conversations(self) -> None:
        if self.query_one(TabbedContent).active == CONVERSATIONS:
            self.post_message(self.ConversationsShown())  # asked again: a sealed store's passphrase, say
        else:
            self.switch_to(CONVERSATIONS)

    def action_new_conversation(self) -> None:
        self.post_message(self.NewConversation())

    def _step(self, delta: int) -> None:
        ids = [pane for pane in self._pane_ids() if pane not in NOT_TIMELINES]
        active = self.query_one(TabbedContent).active
        self.switch_to(ids[(ids.index(active) + delta) % len(ids)] if active in ids else ids[0])

    def action_next_tab(self) -> None:
        self._step(1)

    def action_previous_tab(self) -> None:
        self._step(-1)

    async def open_source(self, source: str, title: str) -> None:
        """Open a hashtag (``tag:NAME``) or a person (``@KEY``) as the fifth tab, replacing the previous one."""
        tabs = self.query_one(TabbedContent)
        if EXTRA in self._pane_ids():
            await tabs.remove_pane(EXTRA)
        self.titles[EXTRA] = title
        timeline = self.timeline(source)
        await tabs.add_pane(TabPane(title, timeline, id=EXTRA), before=GROUPS)
        self.switch_to(EXTRA)
        timeline.refresh_top()

    def action_open_tab(self) -> None:
        from murmur.client.tui.screens.dialogs import PromptScreen  # its text area is not needed before this

        def opened(answer: str | None) -> None:
            source = source_for(answer or "")
            if source is None:
                if answer:
                    self.notify("Give a #hashtag or a person's 64-hex-digit key.", severity="warning")
                return
            title = f"#{source[4:]}" if source.startswith("tag:") else f"@{fingerprint(source[1:])}"
            self.run_worker(self.open_source(source, title), group="open-tab")

        self.app.push_screen(PromptScreen("Open a #hashtag or a person (key) as a tab", "#murmur"), opened)

    @on(TabbedContent.TabActivated)
    def _activated(self, event: TabbedContent.TabActivated) -> None:
        self.focus_timeline()
        if event.pane.id == "notifications":
            self.mark_read()
        elif event.pane.id == GROUPS:
            self.query_one(GroupsPane).reload()  # asked for when looked at: groups are made and joined elsewhere
        elif event.pane.id == MEETUPS:
            self.load_meetups()
        elif event.pane.id == CONVERSATIONS:
            self.conversations_changed()
            self.post_message(self.ConversationsShown())

    # -- unread counts -----------------------------------------------------------------------------------------
    @on(Timeline.Unread)
    def _unread(self, event: Timeline.Unread) -> None:
        pane = pane_id(event.timeline.source)
        self.set_unread(pane, event.count)
        if pane == "notifications" and event.count and self.query_one(TabbedContent).active == "notifications":
            self.mark_read()

    def set_unread(self, pane: str, count: int) -> None:
        self.unread[pane] = count
        title = self.titles.get(pane, pane)
        label = f"{title} ({count})" if count else title
        try:
            self.query_one(TabbedContent).get_tab(pane).label = label
        except ValueError:  # the extra tab was replaced while its count was on the way: nothing to label
            return

    @work(exclusive=True, group="mark-read")
    async def mark_read(self) -> None:
        timeline = self.query_one("#tl-notifications", Timeline)
        newest = max((entry.seq for entry in timeline.entries), default=0)
        if newest:
            result = await attempt(self, self.api.mark_read(newest))
            if result is not None:
                self.set_unread("notifications", int(result.get("unread", 0)))

    def reload(self) -> None:
        timeline = self.current_timeline()
        if timeline is not None:
            timeline.refresh_top()
        elif self.query_one(TabbedContent).active == GROUPS:
            self.query_one(GroupsPane).reload()
        elif self.query_one(TabbedContent).active == MEETUPS:
            self.load_meetups()
        elif self.query_one(TabbedContent).active == CONVERSATIONS:
            self.conversations_changed()

    # -- conversations -----------------------------------------------------------------------------------------
    class ConversationsShown(Message):
        """The person went to the Conversations tab (a sealed store asks for its passphrase then)."""

    class NewConversation(Message):
        """The person asked to write a direct message to people not yet picked."""

    def conversations_changed(self) -> None:
        """A sealed message came or went out: fetch, open and list again (the tab's count follows)."""
        pane = landing(self, "ConversationsPane", ConversationsPane)
        if pane is not None:  # the stream can say so while the app closes, the pane already gone
            pane.reload()

    def on_screen_resume(self) -> None:
        self.query_one(ConversationsPane).show()  # back from a conversation: what was read there is counted so
        self.query_one(GroupsPane).show_fresh()  # and from a private group

    def private_changed(self) -> None:
        """A private group's message came or went out: fetch and read them, and count again."""
        pane = landing(self, "GroupsPane", GroupsPane)
        if pane is not None:
            pane.count_fresh()

    @on(GroupsPane.Unread)
    def _groups_unread(self, event: GroupsPane.Unread) -> None:
        self.set_unread(GROUPS, event.count)

    @on(ConversationsPane.Unread)
    def _conversations_unread(self, event: ConversationsPane.Unread) -> None:
        self.set_unread(CONVERSATIONS, event.count)

    # -- meetups and their reminders ---------------------------------------------------------------------------
    def meetups_changed(self) -> None:
        """A meetup or an answer to one arrived: the Meetups tab (when shown) and the reminders are read again."""
        if self.query_one(TabbedContent).active == MEETUPS:
            self.load_meetups()
        self.query_one("#tl-notifications", Timeline).check_newer()

    @work(exclusive=True, group="meetups")
    async def load_meetups(self) -> None:
        found = await attempt(self, self.api.meetups())
        if found is not None:
            self.query_one(MeetupList).show(found)

    def _with_reminders(self, fetch: Fetch) -> Fetch:
        """The notifications' fetch, showing the reminders each first page carries above the list."""

        async def fetch_and_remind(before: PageCursor | None, limit: int) -> dict[str, Any]:
            page = await fetch(before, limit)
            if before is None:
                self.show_reminders(page)
            return page

        return fetch_and_remind

    def show_reminders(self, page: dict[str, Any]) -> None:
        """Reminders of the meetups I answered that start soon: above the notifications, and once each as a toast;
        the notifications are looked at again when the next one becomes due."""
        strip = landing(self, "#reminders", Static)
        if strip is None:  # the page came while the app closes: nobody is there to remind
            return
        due = [m for m in page.get("reminders") or [] if isinstance(m, dict)]
        lines = [reminder_line(m, self.view.me, self.view.clock()) for m in due]
        strip.update(Content("\n".join(lines)))
        strip.display = bool(lines)
        for meetup, line in zip(due, lines, strict=True):
            if meetup.get("id") not in self.reminded:
                self.reminded.add(str(meetup.get("id")))
                self.notify(line, title="Meetup soon", markup=False)
        next_at = page.get("next_reminder_at")
        if self.reminder_timer is not None:
            self.reminder_timer.stop()
        if isinstance(next_at, int):
            wait = min(max(1.0, (next_at - self.view.clock()) / 1000), REMINDER_CHECK_MAX_S)
            notices = self.query_one("#tl-notifications", Timeline)
            self.reminder_timer = self.set_timer(wait, notices.check_newer)
