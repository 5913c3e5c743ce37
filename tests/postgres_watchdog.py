"""Stops a throwaway PostgreSQL cluster once the process that started it is gone, however it went.

``python -m tests.postgres_watchdog OWNER_PID ROOT keep|remove PG_CTL [USER_PREFIX...]``: started by
``PostgresServer`` before its cluster, in a session of its own (so a Ctrl-C or a kill of the owner's process
group leaves it standing). A test process killed with SIGKILL runs no finaliser; without this its server would run
on, holding memory and a socket, until the machine restarts.

It waits on a pidfd of the owner, which becomes readable when the owner exits (an event from the kernel, no
polling), then stops the cluster (``pg_ctl stop -m immediate``: nothing in a test cluster is worth a checkpoint)
and removes its directory (unless told to keep it: the bench's cluster of big databases). The owner, stopping the
cluster itself, ends the watchdog with SIGTERM.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from pathlib import Path


def stop_cluster(root: Path, pg_ctl: str, as_user: list[str], *, keep: bool) -> None:
    """Stop the cluster under ``root`` if it runs, and remove ``root`` unless ``keep``; what the owner's own stop
    does too."""
    if (root / "data").exists():
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(root / "data"), "-m", "immediate", "stop"], capture_output=True, check=False
        )
    if not keep:
        shutil.rmtree(root, ignore_errors=True)


def watch(owner: int) -> None:
    """Return once ``owner`` has exited (at once when it already has)."""
    try:
        pidfd = os.pidfd_open(owner)
    except ProcessLookupError:
        return
    # The owner is this process's parent: if the parent is already someone else, the owner died before the pidfd
    # was opened and its pid may name another process now.
    if os.getppid() != owner:
        return
    print("watching", flush=True)
    select.select([pidfd], [], [])


def main(argv: list[str]) -> int:
    owner, root, keep, pg_ctl, *as_user = argv
    watch(int(owner))
    stop_cluster(Path(root), pg_ctl, as_user, keep=keep == "keep")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
