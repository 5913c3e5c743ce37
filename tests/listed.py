"""A peer added as ``murmur peer add`` adds one: into the tables and into the server's signed trust manifest, from
which a reader learns its key (``GET /api/v1/manifest``, ``murmur.receipts.Signers``); a peer only in the tables
(``add_peer`` alone) is unknown to readers."""

from __future__ import annotations

from murmur.keys import Identity
from murmur.store import Store
from murmur.store.peers import add_peer


async def add_listed_peer(
    store: Store, server: Identity, key: str, url: str, *, name: str, mode: str = "serve-only"
) -> None:
    await add_peer(store, key, url, name=name, mode=mode, signer=server)  # signed as `murmur peer add` signs it
