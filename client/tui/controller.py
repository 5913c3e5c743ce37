"""What happens when the person asks for something: open screens, run dialogs, publish messages.

The app routes every ``PostAction`` and app-wide key here, so ``app.py`` stays a switchboard. Publishing
runs in workers; outcomes are reported with notifications, never exceptions.

Each screen is imported by the method that opens it, not at the top: the app makes its controller before the
first paint, and the screens (the compose screen's text area, a group's private store, a letter's checks) would
add their imports to the start-up every person waits for (docs/performance.md, tui_first_paint_s). A check such as
``isinstance(screen, ThreadScreen)`` can import where it runs too: until the class is imported no screen is one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from murmur.client.audience import held_back_line
from murmur.client.devices import mine_to_act_for
from murmur.client.kinds import not_answerable
from murmur.client.mentions import resolve_draft
from murmur.client.responses import Kind, respond, undo
from murmur.client.tui import edits, present
from murmur.client.tui.drafts import delete_draft, publish
from murmur.client.tui.net import attempt
from murmur.client.versions import shown_body
from murmur.terminal import one_line

if TYPE_CHECKING:
    from murmur.client.tui.app import MurmurApp
    from murmur.client.tui.screens.group import GroupScreen
    from murmur.client.tui.screens.poll import PollScreen

# What a post, a poll or a meetup takes (a reply, a reaction, a boost, and taking those back); the other actions on
# an item (delete, edit, history) are a post's.
ANSWERS = frozenset({"reply", "react", "boost", "unreact", "unboost"})


def thread_id(item: dict[str, Any]) -> str | None:
    """Which thread an item opens: a post's own, or the post a reaction or boost is about."""
    message = item.get("message") or {}
    if message.get("kind") == "post":
        return str(message["id"])
    return item.get("target_id") or present.tag_value(message, "target")


class Controller:
    def __init__(self, app: MurmurApp) -> None:
        self.app = app
        self.api = app.api
        self.view = app.view

    # -- screens -----------------------------------------------------------------------------------------------
    def show(self, found: Callable[[Screen[Any]], bool], make: Callable[[], Screen[Any]]) -> Screen[Any] | None:
        """Go back to the open screen ``found`` picks out (closing those above it), else push ``make()``.

        The same search, thread, profile or help screen is never stacked twice, however often it is asked
        for: the stack stays as deep as the distinct places visited. Returns the screen gone back to, if any.
        A post being written is never closed on the way (the command palette can ask from the compose screen).
        """
        from murmur.client.tui.screens.compose import ComposeScreen

        stack = self.app.screen_stack
        for depth in range(len(stack) - 1, -1, -1):
            screen = stack[depth]
            if found(screen):
                if any(isinstance(above, ComposeScreen) for above in stack[depth + 1 :]):
                    self.app.notify("Send or cancel the post you are writing first.", severity="warning")
                    return None
                while self.app.screen is not screen:
                    self.app.pop_screen()
                return screen
        self.app.push_screen(make())
        return None

    def open_thread(self, msg_id: str) -> None:
        from murmur.client.tui.screens.thread import ThreadScreen

        shown = self.show(
            lambda s: isinstance(s, ThreadScreen) and s.holds(msg_id), lambda: ThreadScreen(self.api, self.view, msg_id)
        )
        if isinstance(shown, ThreadScreen):
            shown.focus_post(msg_id)

    def open_profile(self, key: str) -> None:
        from murmur.client.tui.screens.profile import ProfileScreen

        settings = self.app.settings
        self.show(
            lambda s: isinstance(s, ProfileScreen) and s.key == key,
            lambda: ProfileScreen(self.api, self.view, key, server=self.app.server_name, page_size=settings.page_size),
        )

    def open_group(self, group_id: str) -> None:
        from murmur.client.tui.screens.group import GroupScreen

        self.show(
            lambda s: isinstance(s, GroupScreen) and s.group_id == group_id,
            lambda: GroupScreen(
                self.api, self.view, group_id, page_size=self.app.settings.page_size, private=self.app.private
            ),
        )

    def open_letter(self, letter_id: str) -> None:
        from murmur.client.tui.screens.letter import LetterScreen

        self.show(
            lambda s: isinstance(s, LetterScreen) and s.letter_id == letter_id,
            lambda: LetterScreen(self.api, self.view, letter_id),
        )

    def open_poll(self, poll_id: str) -> None:
        from murmur.client.tui.screens.poll import PollScreen

        self.show(lambda s: isinstance(s, PollScreen) and s.poll_id == poll_id, lambda: self._poll_screen(poll_id))

    def _poll_screen(self, poll_id: str) -> PollScreen:
        from murmur.client.tui.screens.poll import PollScreen

        return PollScreen(self.api, self.view, poll_id)

    def open_meetup(self, meetup_id: str) -> None:
        from murmur.client.tui.screens.meetup import MeetupScreen

        self.show(
            lambda s: isinstance(s, MeetupScreen) and s.meetup_id == meetup_id,
            lambda: MeetupScreen(self.api, self.view, meetup_id),
        )

    def _ask_id(self, what: str, open_it: Callable[[str], None]) -> None:
        from murmur.client.tui.screens.dialogs import PromptScreen

        def chosen(found: str | None) -> None:
            if found and found.strip():
                open_it(found.strip())

        self.app.push_screen(PromptScreen(f"Open {what}: its id (or 8+ hex digits of it)"), chosen)

    def ask_letter(self) -> None:
        """Ask for a letter's id (letters are not timeline entries), then open it."""
        self._ask_id("letter", self.open_letter)

    def ask_poll(self) -> None:
        self._ask_id("poll", self.open_poll)

    def ask_meetup(self) -> None:
        self._ask_id("meetup", self.open_meetup)

    def new_poll(self) -> None:
        """Write a poll: in the group whose screen is open, if any (only its members' ballots count)."""
        from murmur.client.tui.screens.poll_compose import PollComposeScreen

        on_group = self._group_screen()
        screen = PollComposeScreen(self._publish, self.view.clock, group=on_group.group if on_group else None)

        def created(result: dict[str, Any] | None) -> None:
            if result is not None:
                self.app.notify("Poll created. " + "Ballots are open: anyone can see who voted what.")
                self.app.refresh_live()

        self.app.push_screen(screen, created)

    def open_about(self, item: dict[str, Any]) -> bool:
        """Open the poll, meetup or letter an item is (or is about: a ballot, an RSVP, an update, a signature);
        False when it is about none."""
        message = item.get("message") or {}
        kind = message.get("kind")
        about = item.get("target_id") or present.tag_value(message, "target")
        if kind == "poll":
            self.open_poll(str(message["id"]))
        elif kind == "meetup":
            self.open_meetup(str(message["id"]))
        elif kind == "ballot" and about:
            self.open_poll(str(about))
        elif kind in ("rsvp", "meetup_update") and about:
            self.open_meetup(str(about))
        elif kind == "signature" and about:
            self.open_letter(str(about))
        else:
            return False
        return True

    def search(self) -> None:
        from murmur.client.tui.screens.search import SearchScreen

        shown = self.show(lambda s: isinstance(s, SearchScreen), lambda: SearchScreen(self.api, self.view))
        if isinstance(shown, SearchScreen):
            shown.focus_query()

    def help(self) -> None:
        from murmur.client.tui.screens.help import HelpScreen

        self.show(lambda s: isinstance(s, HelpScreen), lambda: HelpScreen(self.app.settings.keys))

    def compose(self, parent: dict[str, Any] | None = None, *, editing: dict[str, Any] | None = None) -> None:
        """Write a post: a reply to ``parent``, an edit of ``editing``, or a new post (in the group whose screen is
        open, if any; else the person may choose one of their groups)."""
        from murmur.client.tui.screens.compose import ComposeScreen

        new = parent is None and editing is None
        on_group = self._group_screen()
        group = on_group.group if on_group is not None and new else None
        screen = ComposeScreen(
            self._publish,
            self.view,
            limit=self.app.max_text_chars,
            parent=parent,
            editor=self.app.settings.editor,
            drafts=self.app.settings.drafts,
            suggest=lambda prefix: self.api.people(prefix=prefix),
            editing=editing,
            group=group,
            my_groups=self._my_groups if new else None,
            audience=self.api.audience,
        )
        replying_to = {str(parent["message"]["id"])} if parent else set()
        self.app.push_screen(screen, lambda result: self._posted(result, replying_to, edited=editing))

    def _group_screen(self) -> GroupScreen | None:
        """The group screen in front, if that is what is in front."""
        from murmur.client.tui.screens.group import GroupScreen

        return self.app.screen if isinstance(self.app.screen, GroupScreen) else None

    def edit(self, item: dict[str, Any]) -> None:
        """Open the compose screen on the newest version of one of the person's own posts."""
        if not mine_to_act_for(self.api, item["message"]):
            self.app.notify("That post is someone else's; you can only edit your own.", severity="warning")
            return
        self.compose(editing=item)

    async def _my_groups(self) -> list[dict[str, Any]]:
        """The groups I may post in (a member of), for compose's group choice; never one its server calls private,
        whose posts are sealed for its members (written from its screen), never published plain. One it calls open
        is checked by its signed creation message when a post is sent to it (``_publish``)."""
        found = await self.api.groups(mine=True, limit=100)
        return [g for g in found["groups"]
                if (g.get("you") or {}).get("status") == "member" and g.get("join") != "invite"]  # fmt: skip

    async def _publish(self, draft: dict[str, Any]) -> dict[str, Any]:
        from murmur.client.group_authority import refuse_plain  # it reads the identity logs' store

        await refuse_plain(self.api, draft)  # a private group's, by its signed creation, whatever the server says
        return await publish(self.api, self.api.identity, await resolve_draft(self.api, draft))

    def _posted(
        self, result: dict[str, Any] | None, replying_to: set[str], *, edited: dict[str, Any] | None = None
    ) -> None:
        if result is not None:
            done = "Edited." if edited else "Posted."
            self.app.notify(done if result.get("status") != "duplicate" else "That was already stored.")
            self._held_back(result)
            if edited is not None:
                self._show_edited(str(edited["message"]["id"]))
            self.app.refresh_live()
            self.app.recount(replying_to)  # the stream says so too, but it may be off or reconnecting

    def _held_back(self, result: dict[str, Any]) -> None:
        """Say when what was published goes to fewer peers than it signs (``held_back``), and why."""
        held = held_back_line(result)
        if held is not None:
            self.app.notify(held, severity="warning", markup=False, timeout=20)

    def _show_edited(self, post_id: str) -> None:
        """Show the post's newest version wherever it is on screen (the stream says so too, but may be off)."""

        async def go() -> None:
            found = await attempt(self.app, self.api.shown(post_id))
            if found is not None and found[1] is not None:
                edits.show_newest(self.app.post_lists(), found[1])

        self.app.run_worker(go(), group="edited")

    # -- actions on an item ------------------------------------------------------------------------------------
    def act(self, action: str, item: dict[str, Any]) -> None:
        if "message" not in item and "key" in item:  # a person found by search
            if action in ("open", "author"):
                self.open_profile(str(item["key"]))
            return
        if "missing" in item:
            self.app.notify("That post is not on this server.", severity="warning")
            return
        message = item["message"]
        if action == "open":
            if item.get("kind") == "follow":
                self.open_profile(str(item.get("identity") or item["actor"]))
            elif self.open_about(item):
                return  # a poll, a meetup or a letter has its own screen
            elif message.get("kind") != "post" and (group := present.tag_value(message, "group")):
                self.open_group(group)  # a notice of a join request, an approval, a removal
            elif (target := thread_id(item)) is not None:
                self.open_thread(target)
        elif action == "author":
            # whom the post speaks for: an identity (every device's posts), else the signing key
            self.open_profile(str(item.get("identity") or item.get("actor") or message["author"]))
        elif action == "raw":
            from murmur.client.tui.screens.dialogs import RawScreen

            self.app.push_screen(RawScreen(item))
        elif action == "links":
            self._links(item)
        elif action == "thread":  # the replies to a poll or a meetup, from its own screen
            self.open_thread(str(message["id"]))
        elif action in ANSWERS and (why := not_answerable(message)) is not None:
            self.app.notify(why, severity="warning")
        elif action not in ANSWERS and message.get("kind") != "post":
            self.app.notify(f"That is a {one_line(str(message.get('kind')), 32)}, not a post.", severity="warning")
        elif action == "reply":
            self.compose(parent=item)
        elif action in ("react", "unreact"):
            self._pick_reaction(action, message)
        elif action == "boost":
            self._run(respond(self.api, message, "boost"), "Boosted.", recount=message["id"])
        elif action == "unboost":
            self._run(self._undo(message["id"], "boost"), "Took back your boost.", recount=message["id"])
        elif action == "delete":
            self._delete(item)
        elif action == "edit":
            self.edit(item)
        elif action == "history":
            from murmur.client.tui.screens.history import HistoryScreen

            self.show(
                lambda s: isinstance(s, HistoryScreen) and s.post_id == message["id"],
                lambda: HistoryScreen(self.api, self.view, message["id"]),
            )

    def _pick_reaction(self, action: str, message: dict[str, Any]) -> None:
        from murmur.client.tui.screens.dialogs import ReactionPicker

        then = self._react if action == "react" else self._unreact
        self.app.push_screen(ReactionPicker(), lambda emoji: then(message, emoji))

    def _links(self, item: dict[str, Any]) -> None:
        from murmur.client.tui.screens.dialogs import LinksScreen

        links = present.links_in(item)
        if not links:
            self.app.notify("No links in that post.")
            return

        def chosen(url: str | None) -> None:
            if url:
                self.app.settings.open_url(url)

        self.app.push_screen(LinksScreen(links), chosen)

    def _react(self, message: dict[str, Any], emoji: str | None) -> None:
        if emoji:
            self._run(respond(self.api, message, "reaction", emoji), f"Reacted {emoji}.", recount=message["id"])

    def _unreact(self, message: dict[str, Any], emoji: str | None) -> None:
        if emoji:
            undone = self._undo(message["id"], "reaction", emoji)
            self._run(undone, f"Took back your {emoji}.", recount=message["id"])

    async def _undo(self, target_id: str, kind: Kind, emoji: str | None = None) -> dict[str, Any]:
        return {"deletes": await undo(self.api, target_id, kind, emoji)}

    def _delete(self, item: dict[str, Any]) -> None:
        from murmur.client.tui.screens.deletes import DeleteStatusScreen
        from murmur.client.tui.screens.dialogs import ConfirmScreen

        message = item["message"]
        if not mine_to_act_for(self.api, message):
            self.app.notify("That post is someone else's; you can only delete your own.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                draft = delete_draft(message)
                parent = present.tag_value(message, "reply")

                def status() -> None:  # which peers confirmed it: they answer as the delete reaches them
                    self.app.push_screen(DeleteStatusScreen(self.api, message["id"]))

                self._run(
                    publish(self.api, self.api.identity, draft), "Deleted.", forget=message["id"], recount=parent,
                    then=status,
                )  # fmt: skip

        text = str(shown_body(item).get("text", ""))  # as its author last wrote it, not as first posted
        self.app.push_screen(ConfirmScreen("Delete this post everywhere it has reached?", text), answered)

    def _run(
        self,
        call: Awaitable[dict[str, Any]],
        done: str,
        *,
        forget: str | None = None,
        recount: str | None = None,
        then: Callable[[], object] | None = None,
    ) -> None:
        """Publish in a worker; then take a deleted post away, ask again for the counts it changed, and do
        ``then`` (a delete shows which peers confirmed it)."""

        async def go() -> None:
            result = await attempt(self.app, call)
            if result is None:
                return
            self.app.notify(done if result.get("status") != "already" else "Already done; nothing new was sent.")
            self._held_back(result)
            if forget:
                self.app.forget(forget)
            if recount:
                self.app.recount({recount})
            self.app.refresh_live()
            if then is not None:
                then()

        self.app.run_worker(go(), group="publish")
