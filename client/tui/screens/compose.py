"""Writing a post: text, content warning, visibility, the reply's context, an optional external editor. The same
screen edits one of the person's posts (``editing``): it opens on the newest version, and sends an edit.

The screen only collects the draft and shows the outcome; ``publish`` (passed in) signs on this machine and
sends. A refusal stays on screen with the server's reason, and the text is kept so it can be fixed.

Typing ``@`` and the start of a name lists the people the server knows by that name (``suggest``, passed in);
tab puts the first one in. Mentions are resolved to keys when the post is sent (``murmur.client.mentions``).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from murmur.client.api import ServerUnreachable
from murmur.client.audience import narrowed, preview_lines, signed_preview
from murmur.client.editor_files import edited
from murmur.client.mentions import MentionRefused, completion
from murmur.client.tui import present
from murmur.client.tui.drafts import edit_draft, post_draft
from murmur.client.tui.net import work
from murmur.client.tui.widgets.entries import View
from murmur.client.versions import shown_body
from murmur.errors import MurmurError
from murmur.message import SCOPE_PREFIX
from murmur.terminal import one_line

Publish = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
Suggest = Callable[[str], Awaitable[list[dict[str, Any]]]]
"""People whose handle starts with the text given: ``[{"key", "name"}]``."""
Preview = Callable[[str, list[str]], Awaitable[dict[str, Any]]]
"""Who a post of this visibility naming these ids would reach (``MurmurClient.audience``)."""
MyGroups = Callable[[], Awaitable[list[dict[str, Any]]]]
"""The groups the person may post in: ``[{"id", "name", ...}]``."""
NO_GROUP = ""
VISIBILITY_OPTIONS = [("public: every trusted server", "public"), ("local: this server only", "local")]

# The mention being typed: "@" and what follows it, up to the cursor.
TYPING_MENTION = re.compile(r"(?<![\w@])@([\w.-]{1,64})$")


class ComposeScreen(ModalScreen[dict[str, Any] | None]):
    """Dismissed with the server's answer once a post is stored, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Post", priority=True),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+e", "editor", "$EDITOR", priority=True),
        Binding("tab", "complete", "Complete a mention", show=False, priority=True),
    ]

    def __init__(
        self,
        publish: Publish,
        view: View,
        *,
        limit: int = 5000,
        parent: dict[str, Any] | None = None,
        editor: str | None = None,
        drafts: Path | None = None,
        suggest: Suggest | None = None,
        editing: dict[str, Any] | None = None,
        group: dict[str, Any] | None = None,
        my_groups: MyGroups | None = None,
        audience: Preview | None = None,
        direct: Content | None = None,
    ) -> None:
        """``group``: the group this post is written in (from its screen); otherwise ``my_groups`` offers a
        choice of the person's groups when they are in any. ``direct``: a direct message, sealed to the people
        this line names (with ``group``: a private group's post, sealed for its members); ``publish`` gets
        ``{"text": ...}`` and there is no warning, visibility or group to pick."""
        super().__init__()
        self.direct = direct
        self.editing = editing  # the item of the post being edited
        self.publish = publish
        self.group = group
        self.my_groups = my_groups
        self.groups_offered: list[dict[str, Any]] | None = None  # once asked: the groups offered (maybe none)
        self.suggest = suggest
        self.suggestions: list[dict[str, Any]] = []
        self.view = view
        self.limit = limit
        self.parent_item = parent
        self.editor = editor
        self.drafts = drafts  # where $EDITOR edits the text (murmur.client.editor_files); None: no editor
        self.audience = audience
        self.thread_audience = "public"  # the server's answer for a reply: what the thread narrows it to
        self.labels_offered: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="compose"):
            title = "Edit your post" if self.editing else "Reply" if self.parent_item else "New post"
            if self.direct is not None:  # sealed: to people, or for a private group's members
                title = "Private post" if self.group is not None else "Direct message"
            if self.group is not None:
                title += f" in {one_line(str(self.group.get('name', '')), 60)}"
            yield Label(Content.styled(title, "bold"), id="compose-title")
            if self.parent_item:
                yield Static(
                    present.post_content(self.parent_item, self.view.names, self.view.clock(), cw_open=True),
                    id="reply-context",
                )
            if self.direct is not None:
                yield Static(self.direct, id="dm-to")
            current = shown_body(self.editing) if self.editing else {}
            cw = Input(str(current.get("cw", "")), placeholder="Content warning (optional)", id="cw")
            cw.display = self.direct is None
            yield cw
            yield TextArea(str(current.get("text", "")), id="text", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="mention-suggestions")
            with Horizontal(id="compose-bar"):
                if not self.editing and self.direct is None:  # an edit keeps the post's visibility (and its group)
                    yield Select(
                        VISIBILITY_OPTIONS,
                        value="public",
                        allow_blank=False,
                        id="visibility",
                    )
                    yield Select([], prompt="no group", id="compose-group")
                yield Label("", id="counter")
                send = "Save" if self.editing else "Send" if self.direct is not None else "Post"
                yield Button(f"{send}  ctrl+s", id="send", variant="primary")
                yield Button("Cancel  esc", id="cancel")
            yield Static("", id="audience-preview")
            yield Static("", id="compose-error")
            hint = "ctrl+e: write in $EDITOR" if self.editor else "set $EDITOR to write in your editor"
            yield Label(Content.styled(hint, "$text-muted"), id="compose-hint")

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()
        for choice in self.query("#compose-group"):  # shown once there are groups to offer (none when editing)
            choice.display = False
        self._count()
        if self.group is None and self.my_groups is not None:
            self._load_groups()
        preview = self.query_one("#audience-preview", Static)
        preview.display = self.audience is not None and not self.editing
        if preview.display:
            self._preview(self._visibility())

    @work(exclusive=True, group="compose-groups")
    async def _load_groups(self) -> None:
        assert self.my_groups is not None
        try:
            groups = await self.my_groups()
        except MurmurError:
            groups = []  # the choice is a help: without it the post goes out as an ordinary post
        self.groups_offered = groups
        if groups and self.is_attached:
            choice = self.query_one("#compose-group", Select)
            choice.set_options([(f"in {one_line(str(g['name']), 40)}", str(g["id"])) for g in groups])
            choice.display = True

    # -- who will receive it -----------------------------------------------------------------------------------
    def _names(self) -> list[str]:
        """The ids a reply names (its parent and thread root), which narrow its audience."""
        if not self.parent_item:
            return []
        parent = self.parent_item["message"]
        root = next((v for n, v in parent.get("tags", []) if n == "root"), parent["id"])
        return sorted({str(parent["id"]), str(root)})

    def _visibility(self) -> str:
        chosen = self.query_one("#visibility", Select).value
        return chosen if isinstance(chosen, str) else "public"

    @on(Select.Changed, "#visibility")
    def _visibility_changed(self) -> None:
        if self.audience is not None and self.is_mounted:
            self._preview(self._visibility())

    @work(exclusive=True, group="compose-audience")
    async def _preview(self, visibility: str) -> None:
        assert self.audience is not None
        widget = self.query_one("#audience-preview", Static)
        try:
            _, answer = await signed_preview(self.audience, visibility, self._names())
        except MurmurError as exc:
            widget.update(Content.styled(f"Who will receive it is unknown: {one_line(exc.message, 200)}", "$warning"))
            return
        if not self.is_attached:
            return
        self.thread_audience = str(answer["audience"])
        lines, warning = preview_lines(answer)
        parts: list[tuple[str, str] | str] = [("\n".join(lines), "$text-muted")]
        if warning:
            parts += ["\n", (warning, "bold $error")]
        widget.update(Content.assemble(*parts))
        self._offer_labels([str(label) for label in answer.get("labels", [])])

    def _offer_labels(self, labels: list[str]) -> None:
        """Offer each label the peers carry as an audience, once the server named them."""
        if labels == self.labels_offered:
            return
        self.labels_offered = labels
        choice = self.query_one("#visibility", Select)
        kept = choice.value
        options = [*VISIBILITY_OPTIONS, *((f"{x}: peers labelled {x}", f"{SCOPE_PREFIX}{x}") for x in labels)]
        with choice.prevent(Select.Changed):
            choice.set_options(options)
            choice.value = kept if any(value == kept for _, value in options) else "public"

    def _group_id(self) -> str | None:
        if self.group is not None:
            return str(self.group["id"])
        value = self.query_one("#compose-group", Select).value
        return value if isinstance(value, str) and value else None

    # -- mention completion ------------------------------------------------------------------------------------
    def _typing(self) -> re.Match[str] | None:
        area = self.query_one("#text", TextArea)
        row, column = area.selection.end
        return TYPING_MENTION.search(area.document.get_line(row)[:column])

    @on(TextArea.Changed, "#text")
    def _mention_typed(self) -> None:
        typing = self._typing() if self.suggest is not None else None
        if typing is None:
            self._show_suggestions([])
        else:
            self._fetch_suggestions(typing.group(1))

    @work(exclusive=True, group="suggest")
    async def _fetch_suggestions(self, prefix: str) -> None:
        assert self.suggest is not None
        try:
            found = await self.suggest(prefix)
        except MurmurError:
            found = []  # completion is a help, never an obstacle: the post is still checked when sent
        if self.is_attached:
            self._show_suggestions(found)

    def _show_suggestions(self, people: list[dict[str, Any]]) -> None:
        self.suggestions = people
        parts: list[tuple[str, str] | str] = [("tab: ", "$text-muted")]
        for index, person in enumerate(people):
            parts += [("  ·  ", "$text-muted")] if index else []
            parts += present.author_parts(str(person["key"]), {str(person["key"]): str(person["name"])})
        widget = self.query_one("#mention-suggestions", Static)
        widget.update(Content.assemble(*parts) if people else Content(""))
        widget.display = bool(people)

    def action_complete(self) -> None:
        """Put the first suggestion in place of the ``@...`` being typed; without one, tab moves on as usual."""
        typing = self._typing()
        if not self.suggestions or typing is None:
            self.focus_next()
            return
        area = self.query_one("#text", TextArea)
        row, column = area.selection.end
        area.replace(completion(self.suggestions[0], self.suggestions) + " ", (row, typing.start()), (row, column))
        self._show_suggestions([])

    @on(TextArea.Changed, "#text")
    def _count(self) -> None:
        used = len(self.query_one("#text", TextArea).text)
        counter = self.query_one("#counter", Label)
        counter.update(f"{used}/{self.limit}")
        counter.set_class(used > self.limit, "-over")

    def _error(self, text: str) -> None:
        # Often the server's own reason: inert, like anything else that came from elsewhere.
        shown = Content.styled(one_line(text, 500), "bold $error") if text else ""
        self.query_one("#compose-error", Static).update(shown)

    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        text = self.query_one("#text", TextArea).text.strip()
        if not text:
            self._error("The post is empty.")
            return
        if len(text) > self.limit:
            self._error(f"Too long: {len(text)} characters; this server takes {self.limit}.")
            return
        if self.direct is not None:
            self._send({"text": text})
            return
        if self.editing:
            self._send(edit_draft(self.editing["message"], text, cw=self.query_one("#cw", Input).value))
            return
        parent = self.parent_item["message"] if self.parent_item else None
        visibility = narrowed(self._visibility(), self.thread_audience) if parent else self._visibility()
        group = self._group_id()
        if group is not None and visibility != "public":
            self._error("A group's posts are public: choose public, or no group.")
            return
        draft = post_draft(
            text, cw=self.query_one("#cw", Input).value, visibility=visibility, parent=parent, group=group
        )
        self._send(draft)

    @work(exclusive=True, group="send")
    async def _send(self, draft: dict[str, Any]) -> None:
        self.query_one("#send", Button).disabled = True
        self._error("")
        try:
            result = await self.publish(draft)
        except (ServerUnreachable, MentionRefused) as exc:
            self._error(f"Not sent: {exc.message}")
        except MurmurError as exc:
            # A direct message is refused here as often as by the server (a recipient without an identity).
            said = "Not sent" if self.direct is not None else "The server refused the post"
            self._error(f"{said}: {exc.message}")
        else:
            self.dismiss(result)
            return
        finally:
            if self.is_attached:
                self.query_one("#send", Button).disabled = False

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_editor(self) -> None:
        """Suspend the TUI, edit the text in $EDITOR, and take back what was saved."""
        if not self.editor:
            self._error("No editor: set $VISUAL or $EDITOR.")
            return
        if self.drafts is None:
            self._error("No folder for drafts: this profile has none (its key's directory).")
            return
        area = self.query_one("#text", TextArea)
        editor = shlex.split(self.editor)

        def edit(path: Path) -> None:
            with self.app.suspend():
                subprocess.run([*editor, str(path)], check=False)

        try:
            area.text = edited(self.drafts, area.text, edit).rstrip("\n")
        except SuspendNotSupported:
            self._error("This terminal cannot hand over to an editor.")
        except (OSError, UnicodeDecodeError) as exc:
            self._error(f"The editor failed: {exc}")
