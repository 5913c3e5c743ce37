"""Replies and reactions from a poll's or a meetup's own screen: people discuss a poll, "+1" a meetup.

The keys are the timelines' own (reply and react, as the keymap sets them; ``t`` opens the replies). What is
answered is the poll or meetup as signed, fetched and checked here, then handed to the controller as any
timeline entry is (a ``PostAction``): one path for a reply or a reaction, whichever screen it came from.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen

from murmur.client.api import MurmurClient, verified
from murmur.client.tui.bindings import POSTS, bindings
from murmur.client.tui.events import PostAction
from murmur.client.tui.net import attempt, work
from murmur.errors import Refused

KEYS = "r: reply · l: react · t: replies"


async def signed_item(api: MurmurClient, message_id: str) -> dict[str, Any]:
    """The message as a timeline item, its signature checked here; refused when it does not check."""
    message = await api.message(message_id)
    if not verified(message) or not str(message.get("id")).startswith(message_id):
        raise Refused("not_found", "The server's copy of it does not check; nothing was signed.")
    return {"message": message, "verified": True}


class AnsweringScreen(ModalScreen[None]):
    """A screen about one entry (``entry_id``) that takes replies and reactions to it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings(POSTS, only=("reply", "react")),
        Binding("t", "replies", "Replies"),
    ]

    api: MurmurClient

    @property
    def entry_id(self) -> str:
        raise NotImplementedError

    def action_reply(self) -> None:
        self._answer("reply")

    def action_react(self) -> None:
        self._answer("react")

    def action_replies(self) -> None:
        self._answer("thread")

    @work(exclusive=True, group="answer")
    async def _answer(self, action: str) -> None:
        item = await attempt(self, signed_item(self.api, self.entry_id))
        if item is not None:
            self.post_message(PostAction(action, item))
