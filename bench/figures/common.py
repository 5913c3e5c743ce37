"""Inputs more than one figure uses, made once per run through the context's cache."""

from __future__ import annotations

from bench.context import Context
from bench.corpus import Corpus, make_corpus


def corpus_size(ctx: Context) -> int:
    sizes = ctx.sizes
    return max(sizes.ingest_messages + sizes.ingest_tail, sizes.check_messages)


def corpus(ctx: Context) -> Corpus:
    """The signed corpus, big enough for every figure of this mode (signed on every core, not timed)."""

    def make() -> Corpus:
        count = corpus_size(ctx)
        ctx.progress(f"signing a corpus of {count:,} messages by {ctx.sizes.authors:,} authors (not timed)")
        made = make_corpus(count, ctx.sizes.authors)
        ctx.progress(f"corpus ready: mean {made.mean_bytes:.0f} bytes, kinds {made.kinds}")
        return made

    return ctx.cached("corpus", make)
