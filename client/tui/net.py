"""Calling the server from a worker without ever letting an exception reach the screen.

Every expected failure becomes a message: unreachable (the status bar says offline and the stream worker
reconnects) or refused (the server's own reason, shown to the person). Unexpected errors are bugs and are
left to surface in tests.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

import httpx
from textual.dom import DOMNode
from textual.message_pump import MessagePump
from textual.widget import Widget

from murmur.client.api import ServerUnreachable
from murmur.client.tui.events import NetworkOk, NetworkTrouble
from murmur.errors import MurmurError

log = logging.getLogger("murmur.client.tui")
T = TypeVar("T")
W = TypeVar("W", bound=Widget)


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
