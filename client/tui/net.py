"""Calling the server from a worker without ever letting an exception reach the screen.

Every expected failure becomes a message: unreachable (the status bar says offline and the stream worker
reconnects) or refused (the server's own reason, shown to the person). Unexpected errors are bugs and are
left to surface in tests.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx
from textual import work as textual_work
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.message_pump import MessagePump
from textual.widget import Widget

from murmur.client.api import ServerUnreachable
from murmur.client.tui.events import NetworkOk, NetworkTrouble
from murmur.errors import MurmurError

log = logging.getLogger("murmur.client.tui")
T = TypeVar("T")
W = TypeVar("W", bound=Widget)
Method = Callable[..., Coroutine[Any, Any, Any]]


async def attempt(node: MessagePump, call: Awaitable[T]) -> T | None:
    """``await call``; on failure post a ``NetworkTrouble`` from ``node`` and return None."""
    try:
        result = await call
    except ServerUnreachable as exc:
        node.post_message(NetworkTrouble(exc.message, offline=True))
        return None
    except httpx.HTTPError as exc:
        log.info("request failed: %r", exc)
        node.post_message(NetworkTrouble(f"The connection failed ({exc.__class__.__name__}).", offline=True))
        return None
    except MurmurError as exc:
        node.post_message(NetworkTrouble(exc.message, offline=False))
        return None
    node.post_message(NetworkOk())
    return result


def landing(node: DOMNode, selector: str, kind: type[W]) -> W | None:
    """Where a worker's answer is to be shown, or None when it is gone: an answer can land after its screen was
    closed or while the app closes (the widgets pruned before the worker is cancelled), and is then dropped."""
    return next(node.query(selector).results(kind), None)


def leaving(node: MessagePump) -> bool:
    """Whether ``node`` is on its way out of the DOM: ``remove()`` marks it at once, but it stays among its
    parent's children until the removal lands. These are the flags Textual itself reads for a node on its way
    out (``display``, signals)."""
    return any(getattr(node, flag, False) for flag in ("_pruning", "_closing", "_closed"))


def gone(node: MessagePump) -> bool:
    """Whether ``node`` can no longer show anything: its screen is being closed, or the app is closing. Textual
    takes the widgets down before it cancels their workers, so a worker can resume in between."""
    app_running = getattr(node.app, "_running", True)  # cleared first thing when the app shuts down
    return leaving(node) or not node.is_attached or not app_running


def work(*, exclusive: bool = False, group: str = "default") -> Callable[[Method], Method]:
    """Textual's ``work`` for the TUI's async workers, with one difference: an answer landing where its widgets
    are gone (a screen closed, or the app closing, while the server was being asked) is dropped, not raised.
    Every worker of the TUI is declared with this, so that class of failure has one answer; a missing widget on
    a screen still shown remains a bug and is raised."""

    def decorate(method: Method) -> Method:
        @functools.wraps(method)
        async def run(node: MessagePump, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(node, *args, **kwargs)
            except NoMatches:
                if gone(node):
                    log.debug("dropped an answer for %r: its screen is gone", node)
                    return None
                raise

        return textual_work(run, exclusive=exclusive, group=group)  # type: ignore[no-any-return]

    return decorate
