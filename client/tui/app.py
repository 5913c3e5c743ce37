"""``MurmurApp``: wires the client, the settings, the screens and the live stream together.

The app holds no logic of its own beyond routing: screens and widgets draw and fetch, ``Controller`` acts,
``live.follow_stream`` listens. Dependencies come in through the constructor, so tests hand it a client
bound to a test server and settings with a fixed clock.

Only what the first screen draws is imported at the top. The screens opened later (a thread, a group, a poll, a
conversation) are imported where the app looks for them: importing them all (a group's private store, the compose
screen's text area) was a third of the time to the first paint (docs/performance.md, tui_first_paint_s), and
until its module is imported no screen can be one of them. tests/tui/test_first_paint_imports.py keeps it so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from murmur.client.api import MurmurClient, StreamEvent
from murmur.client.kinds import is_entry
from murmur.client.tui import cache, counts, edits, live
from murmur.client.tui.bindings import ACTIONS, BY_NAME, EVERYWHERE, POSTS, bindings, pretty_keys
from murmur.client.tui.controller import Controller
from murmur.client.tui.counts import Referrals, refers_to
from murmur.client.tui.direct import Direct
from murmur.client.tui.events import NamesWanted, NetworkOk, NetworkTrouble, PostAction
from murmur.client.tui.net import attempt, gone, work
from murmur.client.tui.present import tag_value
from murmur.client.tui.private import Private
from murmur.client.tui.screens.main import FIRST_DRAWN_WAIT_S, MainScreen
from murmur.client.tui.settings import TuiSettings
from murmur.client.tui.widgets.conversations import ConversationsPane
from murmur.client.tui.widgets.entries import Entry, View
from murmur.client.tui.widgets.groups import GroupList
from murmur.client.tui.widgets.meetups import MeetupList
from murmur.client.tui.widgets.postlist import PostList
from murmur.client.tui.widgets.status import StatusBar
from murmur.client.tui.widgets.timeline import Timeline
from murmur.client.tui.withheld import show_withheld
from murmur.terminal import one_line

if TYPE_CHECKING:
    from murmur.client.tui.screens.conversations import ConversationScreen
    from murmur.client.tui.widgets.private_group import PrivateMessages

LIVE_DEBOUNCE_S = 0.25
ANSWERS_MEETUP = ("rsvp", "meetup_update")
APP_ACTIONS = ("new_post", "search", "refresh", "help", "quit")


class MurmurApp(App[None]):
    CSS_PATH = "murmur.tcss"
    TITLE = "murmur"
    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings(EVERYWHERE, only=APP_ACTIONS),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        # Textual adds its own palette binding only when the app has none; this one has an id, so the
        # person's keymap can move it like any other action.
        Binding(
            BY_NAME["command_palette"].keys,
            "command_palette",
            "palette",
            show=False,
            priority=True,
            id="command_palette",
        ),
    ]

    def __init__(self, api: MurmurClient, settings: TuiSettings) -> None:
        super().__init__()
        self.api = api
        self.settings = settings
        self.view = View(me=api.identity.public_key, clock=settings.clock)
        self.connection: tuple[bool | None, str] = (None, "")
        self.server_name = settings.server
        self.max_text_chars = 5000
        self.controller = Controller(self)
        self.direct = Direct(self)
        self.private = Private(self)
        self.main = MainScreen(api, self.view, page_size=settings.page_size, max_pages=settings.max_pages,
                               direct=self.direct, private=self.private)  # fmt: skip
        self._live_pending = False
        self.referrals = Referrals()
        self._recount: set[str] = set()
        self._recount_all = False

    async def on_mount(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.set_keymap(self.settings.keys)  # checked when the settings were made
        await self.push_screen(self.main)
        cached = cache.load(self.settings.cache_path, "home")
        if cached is None:
            self.start_reading()  # the request is on its way while the empty screen is laid out
        else:
            self.main.query_one("#tl-home", Timeline).show_page(cached)
            # The page kept from last time is drawn before anything is asked: the answers (the fresh page, every
            # author's name) were otherwise checked and laid out on this same loop first, and a start with the
            # page on disk drew later than one without.
            self.call_after_refresh(self.start_reading)
        self.set_interval(self.settings.tick_s, self.tick_times)

    def start_reading(self) -> None:
        """Ask the server for its name and limits, the first pages and (when live) the stream."""
        if gone(self):
            return  # closed before its first paint
        self.load_info()
        if self.settings.live:
            self.follow_stream()  # which reads the first pages once it knows where the log ends
        else:
            self.main.first_reads()

    def tick_times(self) -> None:
        """Relative times ("3m") move on: only the rows in view of the screen on top are looked at."""
        if gone(self):
            return  # closing: the screens are taken down before the timers stop, and a tick can fall between
        now = self.view.clock()
        for posts in self.screen.query(PostList):
            posts.tick(now)
        # Only a group screen has private messages: found by their type's name, the first tick (which can come
        # before the first paint) does not import a group's private store.
        for private in self.screen.query("PrivateMessages"):
            cast("PrivateMessages", private).tick(now)

    def watch_theme(self, theme: str) -> None:
        if self.settings.save_theme is not None and theme != self.settings.theme:
            self.settings.theme = theme
            self.settings.save_theme(theme)

    # -- the server ----------------------------------------------------------------------------------------------
    @work(exclusive=True, group="info")
    async def load_info(self) -> None:
        info = await attempt(self, self.api.info())
        if info is not None:
            self.server_name = str(info.get("name") or self.settings.server)
            self.max_text_chars = int((info.get("limits") or {}).get("max_text_chars", self.max_text_chars))
        self.want_names({self.view.me})

    @work(exclusive=True, group="stream")
    async def follow_stream(self) -> None:
        await live.follow_stream(
            self.api,
            self.on_stream_event,
            self.set_connection,
            first_reads=self.main.first_reads,
            backoff_max_s=self.settings.backoff_max_s,
        )

    def on_stream_event(self, event: StreamEvent) -> None:
        from murmur.client.tui.screens.conversations import ConversationScreen
        from murmur.client.tui.screens.group import GroupScreen
        from murmur.client.tui.screens.thread import ThreadScreen

        if event.event == "sealed" and isinstance(event.data.get("group"), str):  # a private group's message
            self.private.changed(event.data["group"])
            return
        if event.event == "sealed":  # a direct message came: fetched and opened, listed, and shown if its screen is up
            self.main.conversations_changed()
            # or a private group's epoch key sealed to this device (an invitation): its groups are synced too, and
            # a group new here is listed in the Groups tab at once
            self.main.private_changed()
            if isinstance(self.screen, ConversationScreen):
                self.screen.reload()
            return
        if event.event == "notification":
            self.main.query_one("#tl-notifications", Timeline).check_newer()
            return
        if event.event == "withheld":  # a peer said, signed, that it withheld a post: its rows say so now
            show_withheld(self.post_lists(), event.data)
            for screen in self.screen_stack:  # a thread says it above its posts, from its own answer
                if isinstance(screen, ThreadScreen) and screen.shows(str(event.data.get("id"))):
                    screen.reload()
            return
        message = event.data.get("message") or {}
        if not event.data.get("verified"):
            return
        kind = message.get("kind")
        target = tag_value(message, "target")
        if kind == "delete" and target:
            # Asked before the rows go: a deleted reply or boost on screen says which post it counted on.
            self.recount(self.referrals.of_delete(target, (e.item for lst in self.post_lists() for e in lst.entries)))
            self.forget(target)
        elif kind == "edit":
            edits.show_newest(self.post_lists(), message)
        elif (post := refers_to(message)) is not None:
            self.recount({post})
        self.referrals.learn(message)
        if tag_value(message, "group") and isinstance(self.screen, GroupScreen):
            self.screen.reload()  # a join, a removal, a hide or a pin: the head and the timeline change
        self.reload_answered(kind, target)
        if kind == "boost" or is_entry(kind):
            self.refresh_live()
        elif kind == "profile":
            self.view.names.pop(message.get("author", ""), None)
            self.want_names({message.get("author", "")})

    def reload_answered(self, kind: object, target: str | None) -> None:
        """A ballot, an RSVP or an update arrived: the poll or meetup it answers, if open, shows the new figures;
        the meetup lists and the reminders (an answer or a new time changes them) are read again."""
        from murmur.client.tui.screens.group import GroupScreen
        from murmur.client.tui.screens.meetup import MeetupScreen
        from murmur.client.tui.screens.poll import PollScreen

        if kind in (*ANSWERS_MEETUP, "meetup"):
            self.main.meetups_changed()
            if isinstance(self.screen, GroupScreen):
                self.screen.load_meetups()
        for screen in self.screen_stack:
            polled = isinstance(screen, PollScreen) and kind == "ballot" and target == screen.poll_id
            answered = isinstance(screen, MeetupScreen) and kind in ANSWERS_MEETUP and target == screen.meetup_id
            if isinstance(screen, PollScreen | MeetupScreen) and (polled or answered):
                screen.load()

    def post_lists(self) -> list[PostList]:
        return [posts for screen in self.screen_stack for posts in screen.query(PostList)]

    def forget(self, msg_id: str) -> None:
        """A post was deleted: no screen shows it any more."""
        for posts in self.post_lists():
            posts.forget(msg_id)

    def recount(self, posts: set[str] | None) -> None:
        """Ask again for these posts' counts (None: every shown post with a count to lose), once per burst."""
        if posts is not None and not posts:
            return
        first = not self._recount and not self._recount_all  # a recount is already waiting otherwise
        if posts is None:
            self._recount_all = True
        else:
            self._recount |= posts
        if first:
            self.set_timer(LIVE_DEBOUNCE_S, self._run_recount)

    @work(group="counts")
    async def _run_recount(self) -> None:
        wanted: set[str] | None = None if self._recount_all else set(self._recount)
        self._recount, self._recount_all = set(), False
        await counts.recount(self.api, self.post_lists(), wanted)

    def refresh_live(self) -> None:
        """Ask every timeline for what is new, once per burst of events."""
        if self._live_pending:
            return
        self._live_pending = True

        def run() -> None:
            from murmur.client.tui.screens.thread import ThreadScreen

            self._live_pending = False
            stack = self.screen_stack
            for screen in stack:
                for timeline in screen.query(Timeline):
                    timeline.check_newer()
            # The timer can fire while the app closes, its screens already gone: then there is nothing to reload.
            if stack and isinstance(stack[-1], ThreadScreen):
                stack[-1].reload()

        self.set_timer(LIVE_DEBOUNCE_S, run)

    def set_connection(self, online: bool, detail: str) -> None:
        was_offline = self.connection[0] is False
        self.connection = (online, detail)
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.online, bar.detail = online, detail
        if online and was_offline:
            self.refresh_live()  # catch up on what arrived while we were away
            # The stream resumes after the last position it saw; a server restored from a backup hands those
            # positions out again, and a sealed message there is never announced. The fetch's cursor notices.
            self.main.conversations_changed()

    @on(NetworkTrouble)
    def _trouble(self, event: NetworkTrouble) -> None:
        if event.offline:
            self.set_connection(False, event.reason)
        else:
            # The server's own words: inert and never read as markup.
            self.notify(one_line(event.reason, 500), title="The server said no", severity="error", markup=False)

    @on(NetworkOk)
    def _ok(self, event: NetworkOk) -> None:
        if self.connection[0] is not True:
            self.set_connection(True, "")

    @on(Timeline.FirstPage)
    def _first_page(self, event: Timeline.FirstPage) -> None:
        # The newest home page is what start-up shows next time; one small file, written as pages arrive.
        if event.timeline.source == "home":
            cache.save(self.settings.cache_path, "home", event.page)

    # -- names ---------------------------------------------------------------------------------------------------
    @on(NamesWanted)
    def _names(self, event: NamesWanted) -> None:
        self.want_names(event.keys)

    def want_names(self, keys: set[str]) -> None:
        missing = {k for k in keys if k and k not in self.view.names}
        if missing:
            self.fetch_names(missing)
        else:
            self.redraw_entries()

    @work(group="names")
    async def fetch_names(self, keys: set[str]) -> None:
        for key in keys:
            self.view.names.setdefault(key, "")  # asked once; an empty name shows the fingerprint alone
        # Asked once the page that wants them is drawn: forty answers checked and laid out on this loop first put
        # the first page behind them. Bounded: Textual drops the wait when the screen in front closes first.
        if gone(self):
            return  # closing: no screen is drawn again
        with suppress(TimeoutError):
            await asyncio.wait_for(self.screen.wait_for_refresh(), FIRST_DRAWN_WAIT_S)
        found = await asyncio.gather(*(attempt(self, self.api.profile(k)) for k in sorted(keys)))
        for profile in found:
            if profile and profile.get("name"):
                self.view.names[str(profile["key"])] = str(profile["name"])
            if profile and profile.get("name_shared"):
                self.view.shared.add(str(profile["key"]))
            elif profile:
                self.view.shared.discard(str(profile["key"]))
        self.redraw_entries()

    def redraw_entries(self) -> None:
        from murmur.client.tui.screens.conversations import ConversationScreen
        from murmur.client.tui.screens.meetup import MeetupScreen
        from murmur.client.tui.widgets.private_group import PrivateMessages

        for screen in self.screen_stack:
            for entry in screen.query(Entry):
                entry.refresh(layout=True)  # a name can wrap a header onto a second line
            if isinstance(screen, MeetupScreen | ConversationScreen):
                screen.redraw()
            for pane in screen.query(ConversationsPane):
                pane.show()
            for private in screen.query(PrivateMessages):
                private.show()

    # -- actions -------------------------------------------------------------------------------------------------
    @on(PostAction)
    def _post_action(self, event: PostAction) -> None:
        self.controller.act(event.action, event.item)

    @on(GroupList.Chosen)
    def _group_chosen(self, event: GroupList.Chosen) -> None:
        self.controller.open_group(str(event.group["id"]))

    @on(ConversationsPane.Chosen)
    def _conversation_chosen(self, event: ConversationsPane.Chosen) -> None:
        self.direct.open(event.conversation)

    @on(MainScreen.ConversationsShown)
    def _conversations_shown(self) -> None:
        self.direct.unlock()

    @on(MainScreen.NewConversation)
    def _new_conversation(self) -> None:
        self.direct.new()

    # Handlers named for their message (Textual's ``on_<namespace>_<name>``), not ``@on(Class.Message)``: that would
    # import the screen or widget sending it, which the first screen does not have.
    def on_conversation_screen_write(self, event: ConversationScreen.Write) -> None:
        self.direct.write(event.others, event.conversation)

    def on_private_messages_write(self, event: PrivateMessages.Write) -> None:
        self.private.write(event.group, event.reply_to)

    def on_private_messages_react(self, event: PrivateMessages.React) -> None:
        self.private.react(event.group, event.post)

    @on(MeetupList.Chosen)
    def _meetup_chosen(self, event: MeetupList.Chosen) -> None:
        self.controller.open_meetup(event.meetup_id)

    def action_new_post(self) -> None:
        from murmur.client.tui.screens.conversations import ConversationScreen
        from murmur.client.tui.screens.group import GroupScreen

        if isinstance(self.screen, ConversationScreen):  # n in a conversation writes in it, never a public post
            self.screen.action_write()
        elif isinstance(self.screen, GroupScreen) and self.screen.is_private:  # sealed, never a public post
            self.private.write(self.screen.group or {})
        else:
            self.controller.compose()

    def action_search(self) -> None:
        self.controller.search()

    def action_help(self) -> None:
        self.controller.help()

    def action_refresh(self) -> None:
        screen = self.screen
        reload = getattr(screen, "reload", None)
        if callable(reload):
            reload()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette offers every action in the binding table, with its keys."""
        yield from super().get_system_commands(screen)
        controller = self.controller
        yield SystemCommand("Open an open letter", "its count and signers, by its id", controller.ask_letter)
        yield SystemCommand("Open a poll", "its bars, your vote and the time left, by its id", controller.ask_poll)
        yield SystemCommand("Open a meetup", "who is coming and the waiting list, by its id", controller.ask_meetup)
        yield SystemCommand("New poll", "ballots are open: anyone can see who voted what", controller.new_poll)
        yield SystemCommand("Direct messages", "sealed on your devices, no server can read them", self.open_direct)
        yield SystemCommand("New direct message", "pick people, then write", self.direct.new)
        for action in ACTIONS:
            if action.name in ("command_palette", "quit"):
                continue
            keys = pretty_keys(self.settings.keys.get(action.name, action.keys))
            yield SystemCommand(
                f"{action.description}", f"{action.name} ({keys})", partial(self.run_named, action.name)
            )

    def open_direct(self) -> None:
        """The Conversations tab, from wherever the person is (a sealed store asks for its passphrase)."""
        self.controller.show(lambda s: s is self.main, lambda: self.main)
        self.main.switch_to("conversations")
        self.direct.unlock()

    def on_unmount(self) -> None:
        self.private.close()
        self.direct.close()

    def run_named(self, name: str) -> None:
        """Run an action on whatever holds it: the focused widget or its parents, a post list, the screen."""
        candidates: list[Any] = []
        node = self.screen.focused
        while node is not None:
            candidates.append(node)
            node = node.parent
        if any(a.name == name and a.where == POSTS for a in ACTIONS):
            candidates.extend(self.screen.query(PostList))
        candidates += [self.screen, self]
        for candidate in candidates:
            method = getattr(candidate, f"action_{name}", None)
            if callable(method):
                self.call_later(method)
                return
        self.notify(f"{name} does nothing here.", severity="warning")
