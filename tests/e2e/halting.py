"""Stands in for a server that dies mid catch-up: today's program, killed (SIGKILL, nothing cleaned up) just as
its writer is about to write pulled messages for the second time, so a page has been fetched and checked but
not written. Pages are of ``PAGE`` messages, so that a few dozen messages make several pages.

``python -m tests.e2e.halting serve ...`` patches the writer's group commit (``murmur.store.group``) before
anything runs, then runs the ordinary CLI. The first write of pulled messages commits as usual.
"""

from __future__ import annotations

import os
import signal

PAGE = 20
HALT_AT = 2  # the transaction, counting those that hold pulled messages, that never happens


def install() -> None:
    from murmur.server.federation import pull
    from murmur.store import group

    pull.PULL_PAGE = PAGE
    commit = group._GroupCommit._commit
    pulled = {"transactions": 0}

    async def halting(self: group._GroupCommit, jobs: list[group._Job]) -> None:
        if any(job.valid and job.origin.startswith("peer:") for job in jobs):
            pulled["transactions"] += 1
            if pulled["transactions"] == HALT_AT:
                os.kill(os.getpid(), signal.SIGKILL)
        await commit(self, jobs)

    group._GroupCommit._commit = halting  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    from murmur.client.cli.main import main

    main()
