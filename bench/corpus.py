"""A signed corpus: many authors, a realistic mix of kinds and tags, made once per run on every core.

Signing costs about as much as verifying, so a 200,000-message corpus is signed in parallel worker
processes. Authors come from fixed seeds, so two runs store the same shape of data (not the same bytes: the
timestamps follow the clock, because validation refuses messages from the future).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
from collections import Counter
from dataclasses import dataclass

from murmur.jcs import canonicalize
from murmur.keys import Identity
from murmur.message import now_ms, sign_draft

# One line of prose reads better than a column of quoted words.
WORDS = (  # noqa: SIM905
    "the server sync peer key post thread reply queue batch index cursor review deploy build release latency "
    "signature terminal timeline federation offline bundle store ingest verify design meeting roadmap team "
    "question answer proposal budget incident rollout migration schema config network firewall spare box"
).split()
HASHTAGS = ("ops", "release", "infra", "design", "incident", "rust", "python", "sqlite", "team", "random")
SPACING_MS = 7  # created_at step between consecutive messages, all in the past


@dataclass(frozen=True, slots=True)
class Corpus:
    messages: list[bytes]  # wire bytes (canonical JSON of the signed message), in signing order
    authors: int
    kinds: dict[str, int]

    @property
    def mean_bytes(self) -> float:
        return sum(map(len, self.messages)) / len(self.messages) if self.messages else 0.0


def author_identity(number: int) -> Identity:
    return Identity.from_seed(hashlib.sha256(b"murmur-bench-author:%d" % number).digest())


def post_text(rng: random.Random) -> str:
    # ~80 characters: with the envelope, id and signature a post comes to ~450 bytes, a typical short post.
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 14))]
    words.append("#" + rng.choice(HASHTAGS))
    return " ".join(words)


def _draft(rng: random.Random, number: int, earlier: list[str], keys: list[str]) -> dict[str, object]:
    """One draft of the mix: 80 % posts (a quarter of them replies, a tenth with a mention), 12 % reactions,
    3 % boosts, 5 % follows."""
    roll = rng.random()
    if roll < 0.80 or not earlier:
        text = f"{post_text(rng)} ({number})"
        tags: list[list[str]] = [["hashtag", text.split("#")[1].split()[0]]]
        if rng.random() < 0.25 and earlier:
            target = rng.choice(earlier)
            tags += [["reply", target], ["root", target]]
        if rng.random() < 0.10:
            mentioned = rng.choice(keys)
            tags.append(["mention", mentioned])
            text += f" @{mentioned}"
        return {"kind": "post", "body": {"text": text}, "tags": tags}
    if roll < 0.92:
        return {
            "kind": "reaction",
            "body": {"emoji": rng.choice("👍🎉👀🚀")},
            "tags": [["target", rng.choice(earlier)]],
        }
    if roll < 0.95:
        return {"kind": "boost", "body": {}, "tags": [["target", rng.choice(earlier)]]}
    return {"kind": "follow", "body": {}, "tags": [["subject", rng.choice(keys)]]}


def _make_chunk(job: tuple[int, int, int, int, int]) -> list[bytes]:
    start, count, total, authors, base_ms = job
    rng = random.Random(start)
    identities = [author_identity(n) for n in range(authors)]
    keys = [i.public_key for i in identities]
    earlier: list[str] = []
    out: list[bytes] = []
    for number in range(start, start + count):
        # Consecutive messages come from scattered authors, as they would from a busy peer.
        identity = identities[(number * 7919) % authors]
        draft = _draft(rng, number, earlier, keys)
        signed = sign_draft(identity, draft, created_at=base_ms - (total - number) * SPACING_MS)
        if draft["kind"] == "post" and len(earlier) < 5000:
            earlier.append(signed["id"])
        out.append(canonicalize(signed))
    return out


def make_corpus(count: int, authors: int, *, processes: int | None = None) -> Corpus:
    """Sign ``count`` messages by ``authors`` keys, split across ``processes`` worker processes."""
    processes = processes or len(os.sched_getaffinity(0))
    base_ms = now_ms() - 60_000
    chunk = max(1, -(-count // (processes * 4)))  # a few chunks per process evens out their finish times
    jobs = [(s, min(chunk, count - s), count, authors, base_ms) for s in range(0, count, chunk)]
    if processes <= 1 or count < 2000:
        parts = [_make_chunk(job) for job in jobs]
    else:
        with mp_context().Pool(processes) as pool:
            parts = pool.map(_make_chunk, jobs)
    messages = [m for part in parts for m in part]
    kinds = Counter(_kind_of(m) for m in messages)
    return Corpus(messages=messages, authors=authors, kinds=dict(kinds))


def _kind_of(raw: bytes) -> str:
    start = raw.index(b'"kind":"') + 8
    return raw[start : raw.index(b'"', start)].decode()


def mp_context() -> multiprocessing.context.BaseContext:
    # fork starts workers in milliseconds and needs no importable __main__; spawn is the portable fallback.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")
