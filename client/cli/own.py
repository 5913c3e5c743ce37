"""A person's own messages, fetched from their home server for ``murmur export --mine`` (moving elsewhere), and
brought to their new home server for ``murmur import --mine`` (the one way a local post moves with its author).

Every message is verified here: a bundle never carries a forgery, whatever the home server sent.
"""

from __future__ import annotations

from typing import IO, Any

import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import complain
from murmur.client.cli.session import with_api
from murmur.errors import Refused
from murmur.keys import Identity
from murmur.progress import Progress, nothing
from murmur.sync.transfer import ExportFilter, import_own
from murmur.validate import check


def own_messages(ctx: typer.Context, chosen: ExportFilter) -> list[bytes]:
    """The raw signed messages of this profile's key on its home server that pass ``chosen``."""

    forged = 0

    async def work(api: MurmurClient, identity: Identity) -> list[bytes]:
        nonlocal forged
        kept: list[bytes] = []
        after, more = 0, True
        while more:
            lines, after, more = await api.own_messages(after, local=chosen.include_local)
            for line in lines:
                try:
                    message = check(line, now=2**53 - 1)
                except Refused:
                    forged += 1
                    continue
                if message.author != identity.public_key:
                    continue
                if chosen.since is not None and message.created_at < chosen.since:
                    continue
                if chosen.tag and chosen.tag not in message.tag_values("hashtag"):
                    continue
                kept.append(message.raw)
        return kept

    raws = with_api(ctx, work)
    if forged:
        complain(
            f"left out {forged} message{'' if forged == 1 else 's'} that failed verification on this machine "
            "(the server may have altered them); a bundle never carries what does not verify."
        )
    return raws


def import_mine(ctx: typer.Context, stream: IO[bytes], progress: Progress = nothing) -> dict[str, Any]:
    """Send the bundle in ``stream`` to this profile's home server, which stores only what this key signed."""

    async def work(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return (await import_own(stream, api.import_own, progress)).as_dict()

    return with_api(ctx, work)
