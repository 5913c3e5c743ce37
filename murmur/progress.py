"""Long work says how far it has come, without knowing who shows it (the core imports no terminal library).

A ``Progress`` is called with ``(done, total)`` as the work moves: ``total`` is None while unknown. The command
line shows it as a bar on a terminal (murmur.server.cli.progress); everyone else passes ``nothing``.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int | None], None]


def nothing(done: int, total: int | None) -> None:
    """The progress of work nobody watches."""
