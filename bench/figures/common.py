"""Inputs more than one figure uses, made once per run through the context's cache."""

from __future__ import annotations

from bench.bigdb import BigDb, build, build_postgres, cache_dir
from bench.context import Context
from bench.corpus import Corpus, make_corpus
from bench.engines import cluster
from bench.server import ServerProcess


def corpus_size(ctx: Context) -> int:
    sizes = ctx.sizes
    return max(sizes.ingest_messages + sizes.ingest_tail, sizes.check_messages, sizes.http_messages)


def corpus(ctx: Context) -> Corpus:
    """The signed corpus, big enough for every figure of this mode (signed on every core, not timed)."""

    def make() -> Corpus:
        count = corpus_size(ctx)
        ctx.progress(f"signing a corpus of {count:,} messages by {ctx.sizes.authors:,} authors (not timed)")
        made = make_corpus(count, ctx.sizes.authors)
        ctx.progress(f"corpus ready: mean {made.mean_bytes:.0f} bytes, kinds {made.kinds}")
        return made

    return ctx.cached("corpus", make)


def big_db(ctx: Context, engine: str = "sqlite") -> BigDb:
    """The data directory holding ``timeline_messages`` messages (built once, then reused across runs); on
    PostgreSQL, the same messages stored through the store into the bench's cluster."""

    def make() -> BigDb:
        sizes = ctx.sizes
        if engine == "postgresql":
            server = cluster(ctx)
            home = cache_dir() if server.kept else ctx.tmp
            made = build_postgres(big_db(ctx), sizes.authors, server, home, ctx.progress)
        else:
            made = build(sizes.timeline_messages, sizes.authors, sizes.build_max_seconds, ctx.progress)
        how = f"built in {made.build_seconds:.0f} s" if made.build_seconds else "reused"
        ctx.progress(f"timeline db ({engine}): {made.messages:,} messages ({how})")
        return made

    return ctx.cached(f"big_db:{engine}", make)


def big_server(ctx: Context, engine: str = "sqlite") -> ServerProcess:
    """One ``murmur serve`` over the big database, shared by the read figures and stopped at the end of the run."""

    def make() -> ServerProcess:
        db = big_db(ctx, engine)
        server = ServerProcess(db.root, db.database).start()
        ctx.on_exit(server.stop)
        return server

    return ctx.cached(f"big_server:{engine}", make)

