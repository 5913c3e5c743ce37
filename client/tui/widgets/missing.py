"""What the server lacks of people's public messages (a profile's or a thread's ``missing``), and asking its
peers for them (``POST /api/v1/repairs``).

The screen sets what to show (``show``); the note asks when told to (``ask``), and posts ``Repaired`` when the
server has answered, so the screen reloads what may have come in. Names pass through ``murmur.client.missing``,
which shows them inert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from murmur.client.api import MurmurClient
from murmur.client.missing import absent_line, missing_lines, missing_of
from murmur.client.tui.net import attempt, work

HINT = "A: ask this server's peers for them"


class MissingNote(Static):
    """Hidden while nothing is missing."""

    @dataclass
    class Repaired(Message):
        stored: int
        """How many messages the peers sent that the server stored."""

    def __init__(self, hint: str = HINT, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.hint = hint
        self.keys: list[str] = []
        """Whose missing messages to ask for: the devices shown (a device key asks for that device alone)."""
        self.ids: list[str] = []
        """The messages known by id to ask for: those a thread names that the server does not hold."""

    def on_mount(self) -> None:
        self.display = False

    def show(
        self, answer: Mapping[str, Any], names: Mapping[str, str], person: str = "", absent: Sequence[str] = ()
    ) -> None:
        """Say what ``answer`` (a profile or a thread) says is missing, and the messages ``absent`` (a thread's
        ids the server does not hold)."""
        lines = missing_lines(answer, names, person) + ([absent_line(len(absent))] if absent else [])
        self.keys = [m.device for m in missing_of(answer)]
        self.ids = list(absent)
        self.update(Content.styled("\n".join([*lines, self.hint]), "$warning") if lines else Content(""))
        self.display = bool(lines)

    @work(exclusive=True, group="repair")
    async def ask(self, api: MurmurClient) -> None:
        if not self.keys and not self.ids:
            self.notify("Nothing is known to be missing here.")
            return
        self.notify("Asking this server's peers for the missing messages…")
        stored = failed = 0
        # The ids go with the first request: one ask of each peer for them, whoever wrote them.
        asks = [(key, self.ids if n == 0 else []) for n, key in enumerate(self.keys)] or [(None, self.ids)]
        for key, ids in asks:
            answer = await attempt(self, api.repair(key, ids))
            if answer is None:
                return
            peers = [p for p in answer["peers"] if isinstance(p, dict)]
            stored += sum(p["stored"] for p in peers if type(p.get("stored")) is int)
            failed += sum(bool(p.get("error")) for p in peers)
        unreachable = f"; {failed} could not be asked" if failed else ""
        self.notify(f"The peers sent {stored} missing message{'' if stored == 1 else 's'}{unreachable}.", markup=False)
        self.post_message(self.Repaired(stored))
