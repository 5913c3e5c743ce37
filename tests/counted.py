"""Counted public posts (docs/protocol.md §13.8), as a device numbering its public messages signs them."""

from __future__ import annotations

from typing import Any

from murmur.keys import Identity
from murmur.message import sign_draft

T0 = 1_700_000_000_000


def stream(
    author: Identity, count: int, *, identity: str | None = None, reply: str | None = None, start: int = T0
) -> list[dict[str, Any]]:
    """``count`` public posts numbered from 1, each naming the one before, made a millisecond apart after
    ``start``; each for ``identity`` when given, each a reply to ``reply`` when given."""
    out: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        tags = [["counter", str(n)]] + ([["previous", out[-1]["id"]]] if out else [])
        tags += [["identity", identity]] if identity else []
        tags += [["reply", reply], ["root", reply]] if reply else []
        draft = {"kind": "post", "body": {"text": f"number {n}"}, "tags": tags}
        out.append(sign_draft(author, draft, created_at=start + n))
    return out
