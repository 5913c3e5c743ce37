"""Private groups from the TUI: the profile's private groups (opened beside its direct messages, with the same
passphrase when their store is sealed), writing into one and reacting to one of its messages with the same compose
screen and picker as posts, and following the live stream's announcements of a group's new messages.

Sending is ``PrivateGroups.post``: sealed here, in the group's newest epoch, for its member devices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.content import Content

from murmur.client.tui import present
from murmur.client.tui.direct import NO_KEYS
from murmur.client.tui.net import attempt
from murmur.errors import MurmurError, StoreLocked
from murmur.terminal import one_line

if TYPE_CHECKING:  # the store and the screens below are imported when first used, not before the first paint
    from murmur.client.private_groups import GroupPost, PrivateGroups
    from murmur.client.tui.app import MurmurApp

SEALED = "Sealed here for the group's member devices: no server can read it."


class Private:
    def __init__(self, app: MurmurApp) -> None:
        self.app = app
        self._groups: PrivateGroups | None = None
        self.closed = ""  # why there are none to show: no keys, a sealed store, a damaged file

    def groups(self) -> PrivateGroups | None:
        """The profile's private groups, opened on first use once its direct messages are open (a sealed store
        is opened with the passphrase typed for them); None while they cannot be (``closed`` says why)."""
        if self._groups is not None:
            return self._groups
        direct, make = self.app.direct, self.app.settings.private_groups
        talks = direct.talks()
        if talks is None or make is None:
            self.closed = direct.closed if talks is None else NO_KEYS
            return None
        if talks.identity is None:
            from murmur.client.conversations import NO_IDENTITY  # imported with the store, when first read

            self.closed = NO_IDENTITY
            return None
        try:
            self._groups = make(talks, direct.passphrase)
        except StoreLocked as locked:
            self.closed = f"{locked.message} Press 8 to type it (your direct messages' passphrase)."
        except MurmurError as exc:  # a damaged store: said on the group's screen, the rest of the TUI goes on
            self.closed = exc.message
        return self._groups

    def close(self) -> None:
        if self._groups is not None:
            self._groups.store.close()  # the direct messages' store is theirs to close

    def _ready(self) -> PrivateGroups | None:
        groups = self.groups()
        if groups is None:
            self.app.notify(self.closed, severity="warning", markup=False)
        return groups

    def write(self, group: dict[str, Any], reply_to: GroupPost | None = None) -> None:
        """The compose screen, sealing for the group's members (a reply to ``reply_to``, read here)."""
        from murmur.client.tui.screens.compose import ComposeScreen

        groups = self._ready()
        if groups is None:
            return
        gid = str(group["id"])
        parts: list[tuple[str, str] | str] = [(SEALED, present.DIM)]
        if reply_to is not None:
            parts += [("\nreplying to ", present.DIM), *present.author_parts(reply_to.sender, self.app.view.names),
                      (": ", present.DIM), one_line(reply_to.text, 100)]  # fmt: skip
        label = Content.assemble(*parts)

        async def send(draft: dict[str, Any]) -> dict[str, Any]:
            post = await groups.post(gid, str(draft["text"]), reply_to=reply_to.id if reply_to else None)
            return {"id": post.id}

        screen = ComposeScreen(send, self.app.view, limit=self.app.max_text_chars, editor=self.app.settings.editor,
                               drafts=self.app.settings.drafts, direct=label, group=group)  # fmt: skip
        self.app.push_screen(screen, lambda result: self.changed(gid) if result is not None else None)

    def react(self, group: dict[str, Any], post: GroupPost) -> None:
        from murmur.client.tui.screens.dialogs import ReactionPicker

        groups = self._ready()
        if groups is None:
            return
        gid = str(group["id"])

        async def send(emoji: str) -> None:
            if await attempt(self.app, groups.post(gid, emoji, react_to=post.id)) is not None:
                self.app.notify(f"Reacted {emoji}.")
                self.changed(gid)

        def picked(emoji: str | None) -> None:
            if emoji:
                self.app.run_worker(send(emoji), group="private-react")

        self.app.push_screen(ReactionPicker(), picked)

    def changed(self, group: str) -> None:
        """Something is new in ``group`` (written here, or announced by the live stream): every pane showing it
        fetches and shows it, and the Groups tab counts again."""
        from murmur.client.tui.widgets.private_group import PrivateMessages

        for screen in self.app.screen_stack:
            for pane in screen.query(PrivateMessages):
                if pane.group_id == group:
                    pane.reload()
        self.app.main.private_changed()
