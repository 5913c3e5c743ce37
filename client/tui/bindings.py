"""Every key binding the TUI has, by action name, so the config, the help screen and the palette agree.

A person rebinds an action in their profile's section of the client config::

    [profiles.default]
    keys = { reply = "R", react = "l,plus" }

Each action is a Textual ``Binding`` whose ``id`` is its name, so the override is applied with Textual's own
keymap (``App.set_keymap``) and the help screen reads the keys in force from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

POSTS = "Posts"
TIMELINES = "Timelines"
EVERYWHERE = "Everywhere"
PROFILE = "Profile"


@dataclass(frozen=True)
class Action:
    name: str
    keys: str
    description: str
    where: str
    show: bool = False
    """Whether the footer shows it (the footer is short; the help screen lists everything)."""
    short: str = ""
    """The footer's label, when the description is too long for it."""


ACTIONS: tuple[Action, ...] = (
    Action("cursor_down", "j,down", "Next post", POSTS),
    Action("cursor_up", "k,up", "Previous post", POSTS),
    Action("page_down", "pagedown,ctrl+d", "Page down", POSTS),
    Action("page_up", "pageup,ctrl+u", "Page up", POSTS),
    Action("first", "g,home", "Newest (top)", POSTS),
    Action("last", "G,end", "Oldest loaded (bottom)", POSTS),
    Action("open", "enter", "Open the thread", POSTS, show=True, short="Thread"),
    Action("reply", "r", "Reply", POSTS, show=True),
    Action("react", "l", "React", POSTS, show=True),
    Action("boost", "b", "Boost", POSTS, show=True),
    Action("delete", "d", "Delete your post", POSTS),
    Action("toggle_cw", "c", "Open or fold a content warning", POSTS),
    Action("expand", "m", "Expand or fold a long post", POSTS),
    Action("author", "p", "The author's profile", POSTS),
    Action("raw", "v", "Raw signed JSON", POSTS),
    Action("links", "o", "Links in the post", POSTS),
    Action("copy", "y", "Copy the post's text", POSTS),
    Action("next_tab", "tab", "Next timeline", TIMELINES),
    Action("previous_tab", "shift+tab", "Previous timeline", TIMELINES),
    Action("tab_1", "1", "Home", TIMELINES),
    Action("tab_2", "2", "Notifications", TIMELINES),
    Action("tab_3", "3", "Local", TIMELINES),
    Action("tab_4", "4", "Federated", TIMELINES),
    Action("tab_5", "5", "The hashtag or person tab", TIMELINES),
    Action("open_tab", "t", "Open a hashtag or person as a tab", TIMELINES),
    Action("follow", "f", "Follow or unfollow", PROFILE, show=True, short="Follow"),
    Action("new_post", "n", "New post", EVERYWHERE, show=True, short="New"),
    Action("search", "slash", "Search posts and people", EVERYWHERE, show=True, short="Search"),
    Action("refresh", "R,ctrl+r", "Refresh", EVERYWHERE),
    Action("help", "question_mark", "Help: every key", EVERYWHERE, show=True, short="Help"),
    Action("back", "escape", "Back / close", EVERYWHERE),
    Action("command_palette", "ctrl+p", "Command palette", EVERYWHERE),
    Action("quit", "q", "Quit", EVERYWHERE, show=True),
)

BY_NAME = {action.name: action for action in ACTIONS}


def bindings(where: str, *, only: tuple[str, ...] | None = None) -> list[Binding]:
    """Textual bindings for the actions of one area (or just the ``only`` ones), ids set for the keymap."""
    return [
        Binding(a.keys, a.name, a.short or a.description, show=a.show, id=a.name)
        for a in ACTIONS
        if a.where == where and (only is None or a.name in only)
    ]


def unknown_actions(keymap: dict[str, str]) -> list[str]:
    return sorted(name for name in keymap if name not in BY_NAME)


def keys_in_force(keymap: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(area, action, keys, description) for every action, with the person's overrides applied."""
    rows = []
    for action in ACTIONS:
        keys = keymap.get(action.name, action.keys)
        rows.append((action.where, action.name, pretty_keys(keys), action.description))
    return rows


_NAMES = {"slash": "/", "question_mark": "?", "plus": "+", "minus": "-", "space": "space"}


def pretty_keys(keys: str) -> str:
    return " ".join(_NAMES.get(k.strip(), k.strip()) for k in keys.split(",") if k.strip())
