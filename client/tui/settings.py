"""Everything the TUI is configured with, gathered once from the profile and passed into ``MurmurApp``.

The app never reads config files or the clock itself: tests pass a fixed clock, a test server's URL and a
temporary cache path through the same object the CLI builds from the person's profile.
"""

from __future__ import annotations

import os
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from murmur.client.api import MurmurClient
from murmur.client.editor_files import drafts_folder
from murmur.client.profiles import ProfileRef
from murmur.client.tui.bindings import KeymapError, checked_keymap
from murmur.errors import ConfigError
from murmur.message import now_ms

if TYPE_CHECKING:  # the stores of direct messages and private groups are opened, and imported, when first read
    from murmur.client.conversations import Conversations
    from murmur.client.private_groups import PrivateGroups

DEFAULT_THEME = "textual-dark"


def _open_in_browser(url: str) -> None:
    webbrowser.open(url)


@dataclass
class TuiSettings:
    """How one TUI session runs."""

    profile: str = "default"
    """The active profile's name, shown in the status bar."""
    server: str = ""
    """The home server's URL, shown in the status bar."""
    theme: str = DEFAULT_THEME
    """A Textual theme name; changes are saved back through ``save_theme``."""
    keys: dict[str, str] = field(default_factory=dict)
    """Key binding overrides, action name -> keys (``"j,down"``), from the profile's ``keys`` table. Checked
    when the settings are made: an unknown action or key, or a clash, raises ``KeymapError``."""
    cache_path: Path | None = None
    """Where the last home page is kept so start-up can show it at once; None disables the cache."""
    clock: Callable[[], int] = now_ms
    """Milliseconds since the epoch; fixed in snapshot tests so relative times do not drift."""
    page_size: int = 40
    """Posts fetched per page."""
    max_pages: int = 5
    """Pages kept mounted per timeline; older or newer ones are dropped and fetched again on return."""
    live: bool = True
    """Follow the server's event stream (off in snapshot tests, which must not change while drawn)."""
    backoff_max_s: float = 15.0
    """Longest wait between reconnection attempts when the server is unreachable."""
    save_theme: Callable[[str], None] | None = None
    """Called with the theme's name when the person picks another one."""
    open_url: Callable[[str], None] = _open_in_browser
    """Opens a link from a post; tests replace it to record the call."""
    editor: str | None = None
    """The command for an external editor ($VISUAL / $EDITOR), if any."""
    drafts: Path | None = None
    """Where that editor edits a draft: a 0700 folder in the profile's own directory (murmur.client.editor_files)."""
    tick_s: float = 1.0
    """How often relative times ("3m") on screen are brought up to date."""
    conversations: Callable[[MurmurClient], Conversations] | None = None
    """Opens this profile's direct messages for the client (its keys and its own store); None: none here.
    Raises ``StoreLocked`` when the store is sealed under a passphrase (and ``MURMUR_PASSPHRASE`` is unset)."""
    unlock_conversations: Callable[[MurmurClient, str], Conversations] | None = None
    """Opens them with a typed passphrase when ``conversations`` found the store sealed."""
    private_groups: Callable[[Conversations, str | None], PrivateGroups] | None = None
    """Opens this profile's private groups beside its open direct messages, with the passphrase typed for those
    (None: none was typed); None: no private groups here."""

    def __post_init__(self) -> None:
        self.keys = checked_keymap(self.keys)


def from_profile(ref: ProfileRef, *, editor: str | None = None) -> TuiSettings:
    """Settings for ``ref``'s section of the client config."""
    config = ref.config()
    section = config.profiles.get(ref.name, {})
    keys = section.get("keys", {})
    if not isinstance(keys, dict):
        raise ConfigError(
            f'{config.path}: profiles.{ref.name}.keys must be a table of action = "key", e.g. reply = "a".'
        )
    try:
        keymap = checked_keymap({str(k): v for k, v in keys.items()})
    except KeymapError as exc:
        raise ConfigError(f"{config.path}: profiles.{ref.name}.keys: {exc}") from exc
    theme = section.get("theme", DEFAULT_THEME)

    def save_theme(name: str) -> None:
        fresh = ref.config()
        fresh.section(ref.name)["theme"] = name
        fresh.save()

    return TuiSettings(
        profile=ref.name,
        server=str(section.get("server", "")),
        theme=theme if isinstance(theme, str) else DEFAULT_THEME,
        keys=keymap,
        cache_path=ref.home / "profiles" / ref.name / "tui-cache.json",
        save_theme=save_theme,
        editor=editor,
        drafts=drafts_folder(ref.key_path),
        conversations=lambda api: _conversations(api, ref, os.environ.get("MURMUR_PASSPHRASE")),
        unlock_conversations=lambda api, typed: _conversations(api, ref, typed),
        private_groups=lambda talks, typed: _private_groups(
            talks, ref, typed if typed is not None else os.environ.get("MURMUR_PASSPHRASE")
        ),
    )


def _conversations(api: MurmurClient, ref: ProfileRef, passphrase: str | None) -> Conversations:
    from murmur.client.conversations import Conversations

    return Conversations.of_profile(api, ref.key_path, passphrase)


def _private_groups(talks: Conversations, ref: ProfileRef, passphrase: str | None) -> PrivateGroups:
    from murmur.client.private_groups import PrivateGroups

    return PrivateGroups.beside(talks, ref.key_path, ref.identity(), passphrase)
