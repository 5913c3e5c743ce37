"""Progress of long admin work on stderr (rich's progress bars): done/total, rate and time left.

Shown only when stderr is a terminal and the command was not asked for ``--json``: piped, logged or scripted runs
get nothing extra. Every long command uses this one module: ``murmur export`` and ``import`` of a data directory,
``murmur sync --repair``, ``murmur admin backup`` (and any later one, such as a database migration)::

    with progress_bars(quiet=as_json) as bars:
        await export_bundle(store, out, chosen, progress=bars.track("Exporting", unit="messages"))

The work reports through ``murmur.progress.Progress`` (``done, total``), so the core never imports rich.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from murmur.progress import Progress, nothing
from murmur.terminal import inert


class RateColumn(ProgressColumn):
    """``1,234 messages/s``: the task's recent rate in its own unit."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "")
        if task.speed is None:
            return Text(f"- {unit}/s", style="progress.data.speed")
        return Text(f"{task.speed:,.0f} {unit}/s", style="progress.data.speed")


class Bars:
    """Hands out one bar per piece of work (``track``); with no terminal, progress that shows nothing."""

    def __init__(self, shown: RichProgress | None) -> None:
        self._shown = shown

    def track(self, what: str, *, unit: str = "") -> Progress:
        shown = self._shown
        if shown is None:
            return nothing
        task = shown.add_task(inert(what, keep_newlines=False), total=None, unit=unit)

        def update(done: int, total: int | None) -> None:
            shown.update(task, completed=done, total=total)

        return update


def showing(quiet: bool) -> bool:
    """Whether progress is shown: stderr is a terminal and the output is not for a program (``--json``)."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bars(*, quiet: bool = False) -> Iterator[Bars]:
    if not showing(quiet):
        yield Bars(None)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        RateColumn(),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, console=Console(stderr=True)) as shown:
        yield Bars(shown)
