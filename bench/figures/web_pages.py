"""web_thread_ms, web_letter_ms: the read-only web view's page render time, beside the JSON API's for the same data.

A real ``murmur serve`` holds a thread of 200 replies (by 50 authors, with names) and an open letter with 10,000
signatures (each by its own key, a third with a note); quick mode has the same data, tiny mode a little. One
client sends, one at a time on one kept-alive connection, in turn: the thread's page (``GET /m/{id}``, HTML, no
signature), the thread from the API (``GET /api/v1/threads/{id}``, signed by a member: signing is not timed),
the letter's page (``GET /letters/{id}``) and the letter from the API (``GET /api/v1/letters/{id}``). Latency is
from the request's first byte written to the answer's last byte read. Each figure is the page's p99; its limit
is the API's p99 for the same data, so the ratio says what rendering HTML costs over JSON; p50s are reported
beside.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.context import Context, Figure, rate_figure
from bench.httpload import Reply, build_request, percentile, run_load
from bench.server import ServerProcess, create, seed, seeded
from murmur.keys import Identity
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.message import sign_draft
from murmur.store import Store
from murmur.validate import check

FIGURES = ("web_thread_ms", "web_letter_ms")
# mode -> (replies in the thread, signatures on the letter, requests of each of the four kinds)
SIZES = {"full": (200, 10_000, 300), "quick": (200, 10_000, 60), "tiny": (20, 200, 4)}
AUTHORS = 50
BATCH = 500
KINDS = ("web_thread", "api_thread", "web_letter", "api_letter")


async def _fill(db: Path, replies: int, signatures: int) -> tuple[str, str]:
    authors = [seeded(f"web-author-{n}") for n in range(AUTHORS)]
    root = sign_draft(authors[0], {"kind": "post", "body": {"text": "Shall we ask for a four-day week? #week"}})
    messages: list[Any] = [
        sign_draft(a, {"kind": "profile", "body": {"name": f"Person {n}"}, "tags": []}) for n, a in enumerate(authors)
    ]
    messages.append(root)
    parent = root
    for n in range(replies):
        # Every fourth reply answers the one before it, so the tree has depth as well as breadth.
        target = parent if n % 4 else root
        tags = [["reply", target["id"]], ["root", root["id"]]]
        reply = sign_draft(authors[n % AUTHORS], {"kind": "post", "body": {"text": f"reply {n}"}, "tags": tags})
        messages.append(reply)
        parent = reply
    letter = sign_draft(authors[0], letter_draft("A four-day week", "the leadership team", "We ask for it. " * 40))
    messages.append(letter)
    signed_letter = check(letter, now=None)
    for n in range(signatures):
        note = f"signer {n}" if n % 3 == 0 else None
        messages.append(sign_draft(Identity.generate(), signature_draft(signed_letter, note)))
    async with await Store.open(db) as store:
        for start in range(0, len(messages), BATCH):
            results = await store.ingest(messages[start : start + BATCH], now=None)
            refused = [r for r in results if r.status != "stored"]
            assert not refused, refused[0].as_dict()
    return root["id"], letter["id"]


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 0.5), 3), "p99": round(percentile(values, 0.99), 3)}


def run(ctx: Context) -> dict[str, Figure]:
    replies, signatures, requests = SIZES[ctx.mode]
    data_dir = create(ctx.tmp / "web-pages")
    # A member's requests are rate limited (600 a minute): eight members take turns, as in timeline_ms.
    readers = [seeded(f"web-reader-{n}") for n in range(8)]
    seed(data_dir, members=[r.public_key for r in readers])
    ctx.progress(f"web_pages: a thread of {replies} replies and a letter of {signatures:,} signatures (not timed)")
    thread_id, letter_id = asyncio.run(_fill(data_dir.db_path, replies, signatures))
    server = ServerProcess(data_dir.root).start()
    ctx.on_exit(server.stop)
    targets = (
        f"/m/{thread_id}",
        f"/api/v1/threads/{thread_id}",
        f"/letters/{letter_id}",
        f"/api/v1/letters/{letter_id}",
    )

    def make(job: int) -> bytes:
        kind = job % len(KINDS)
        signer = readers[(job // len(KINDS)) % len(readers)] if KINDS[kind].startswith("api") else None
        return build_request("GET", targets[kind], b"", signer, recipient=server.key)

    def answered(job: int, reply: Reply) -> int:
        assert reply.status == 200, f"HTTP {reply.status} for {targets[job % len(KINDS)]}: {reply.body[:200]!r}"
        return 1

    run_load(server.port, len(KINDS) * 3, make, answered, connections=1, seconds=60)  # warm-up: caches, pages
    result = run_load(server.port, len(KINDS) * requests, make, answered, connections=1, seconds=600)
    by_kind = {kind: _stats(result.latencies_ms[i :: len(KINDS)]) for i, kind in enumerate(KINDS)}
    common = {"requests_each": requests, "statuses": result.statuses, "errors": result.errors, **by_kind}
    return {
        "web_thread_ms": rate_figure(
            by_kind["web_thread"]["p99"],
            "ms",
            limit=by_kind["api_thread"]["p99"],
            limit_name="api_thread_p99_ms",
            thread_replies=replies,
            **common,
        ),
        "web_letter_ms": rate_figure(
            by_kind["web_letter"]["p99"],
            "ms",
            limit=by_kind["api_letter"]["p99"],
            limit_name="api_letter_p99_ms",
            letter_signatures=signatures,
            **common,
        ),
    }
