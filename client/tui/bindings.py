"""Every key binding the TUI has, by action name, so the config, the help screen and the palette agree.

A person rebinds an action in their profile's section of the client config::

    [profiles.default]
    keys = { reply = "a", react = "l,plus" }

Each action is a Textual ``Binding`` whose ``id`` is its name, so the override is applied with Textual's own
keymap (``App.set_keymap``) and the help screen reads the keys in force from the same table. Textual takes a
keymap as it comes: an unknown action, a key it has no name for, or two actions on one key would just leave a
binding dead. ``checked_keymap`` refuses those before the app starts.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from textual.binding import Binding
from textual.keys import KEY_ALIASES, REPLACED_KEYS, Keys, key_to_character

POSTS = "Posts"
TIMELINES = "Timelines"
EVERYWHERE = "Everywhere"
PROFILE = "Profile"
GROUP = "Group"


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
    Action("unreact", "L", "Take back a reaction", POSTS),
    Action("unboost", "B", "Take back your boost", POSTS),
    Action("delete", "d", "Delete your post", POSTS),
    Action("edit", "e", "Edit your post", POSTS),
    Action("history", "H", "Every version of an edited post", POSTS),
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
    Action("tab_groups", "6", "Groups: yours and the directory", TIMELINES),
    Action("tab_meetups", "7", "Meetups: the newest here", TIMELINES),
    Action("tab_conversations", "8", "Conversations: direct messages", TIMELINES),
    Action("new_conversation", "D", "Write a direct message (pick people first)", TIMELINES),
    Action("follow", "f", "Follow or unfollow", PROFILE, show=True, short="Follow"),
    Action("repair", "A", "Ask the server's peers for public messages it lacks (profile, thread)", PROFILE),
    Action("find_group", "F", "Find a group (in the Groups tab)", GROUP),
    Action("join_group", "J", "Join the group (or ask to)", GROUP, show=True, short="Join"),
    Action("leave_group", "X", "Leave the group", GROUP, show=True, short="Leave"),
    Action("members", "M", "Show or hide the group's members", GROUP, show=True, short="Members"),
    Action("hide_post", "h", "Hide a post, saying why (moderators)", GROUP),
    Action("pin_post", "P", "Pin or unpin a post (moderators)", GROUP),
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


# Areas never in force together: the timelines' keys and a profile's may be the same.
APART = frozenset({frozenset({TIMELINES, PROFILE}), frozenset({TIMELINES, GROUP}), frozenset({PROFILE, GROUP})})
# Keys the app keeps for itself whatever the keymap says (priority bindings that would win over any action).
FIXED = {"ctrl+c": "quit", "ctrl+q": "quit"}
MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
NAMED_KEYS = frozenset(k.value.rsplit("+", 1)[-1] for k in Keys if not k.value.startswith("<"))
_CANONICAL = {alias: key for key, aliases in KEY_ALIASES.items() for alias in aliases}


class KeymapError(ValueError):
    """A keymap that cannot be applied as written; the message names each action, key and clash."""


def _textual_name(key: str) -> str:
    """The name Textual gives a key as written in a binding: a lone character becomes its name ("/" -> "slash")."""
    [binding] = Binding.make_bindings([Binding(key, "_")])
    return binding.key


def normal_key(key: str) -> str | None:
    """Textual's name for ``key`` ("/" -> "slash", "ctrl+m" -> "enter"), or None when no key press would ever
    carry that name ("Enter", "esc", "digit_one"), so a binding to it could never fire."""
    name = _textual_name(key.strip())
    *modifiers, last = name.split("+")
    if not last or any(m not in MODIFIERS for m in modifiers):
        return None
    if len(last) == 1:
        last = _textual_name(last)  # "ctrl+/" is pressed as "ctrl+slash"
        name = "+".join([*modifiers, last])
    elif last not in NAMED_KEYS:
        # A character's name ("question_mark") is only a key if the character is named so when pressed.
        character = key_to_character(REPLACED_KEYS.get(last, last))
        if character is None or _textual_name(character) != last:
            return None
    return _CANONICAL.get(name, name)


def checked_keymap(keymap: Mapping[str, object]) -> dict[str, str]:
    """The keymap with Textual's key names, or ``KeymapError`` saying every action, key and clash it gets wrong."""
    problems: list[str] = []
    keymap_out: dict[str, str] = {}
    for name, value in keymap.items():
        if name not in BY_NAME:
            near = difflib.get_close_matches(name, BY_NAME, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else " (press ? in the TUI for every action's name)"
            problems.append(f"unknown action {name[:40]!r}{hint}")
            continue
        keys = [k.strip() for k in value.split(",")] if isinstance(value, str) else []
        if not keys or not all(keys):
            problems.append(f'{name} = {str(value)[:40]!r} must list keys separated by commas, e.g. "r" or "j,down"')
            continue
        unknown = [k for k in keys if normal_key(k) is None]
        if unknown:
            problems.append(f"{name}: {unknown[0][:40]!r} is not a key name (e.g. r, R, ctrl+r, pagedown, slash)")
            continue
        keymap_out[name] = ",".join(dict.fromkeys(str(normal_key(k)) for k in keys))
    if not problems:
        problems = clashes(keymap_out)
    if problems:
        raise KeymapError("; ".join(problems))
    return keymap_out


def clashes(keymap: dict[str, str]) -> list[str]:
    """Each key that two actions in force at the same time would share, or that the app keeps for itself."""
    owners: dict[str, list[Action]] = {}
    for action in ACTIONS:
        for key in keymap.get(action.name, action.keys).split(","):
            owners.setdefault(_CANONICAL.get(key, key), []).append(action)
    problems = []
    for key, actions in owners.items():
        shown = pretty_keys(key)
        if key in FIXED:
            problems += [
                f"{a.name}: {shown!r} is kept by the app for {FIXED[key]}" for a in actions if a.name != FIXED[key]
            ]
        for a, b in combinations(actions, 2):
            if frozenset({a.where, b.where}) not in APART:
                problems.append(f"{shown!r} is bound to both {_whose(a, keymap)} and {_whose(b, keymap)}")
    return problems


def _whose(action: Action, keymap: dict[str, str]) -> str:
    return f"{action.name} ({'yours' if action.name in keymap else 'default'})"


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
