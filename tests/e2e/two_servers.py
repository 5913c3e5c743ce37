"""Real `murmur serve` processes and the people on them: the setup the multi-server tests share.

``two_servers`` starts servers a and b (not peers yet), a member on each (Ada on a, Bea on b) and people with keys
but no server, who sign with `murmur sign`. Messages reach a server as a bundle through its data directory
(``deliver``), in whatever order a test chooses, or live once ``trust`` makes the two peers of each other.
``servers`` starts any number, named, and ``mesh`` makes each a peer of every other.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.harness import Person, ServerProcess, admin, together

FAST = {"retry_max_seconds": 1, "pull_interval_seconds": 1, "rate_per_minute": 0}


@dataclass(frozen=True)
class TwoServers:
    a: ServerProcess
    b: ServerProcess
    ada: Person  # a member of a
    bea: Person  # a member of b
    others: tuple[Person, ...]  # keys without a server, in the order their names were given

    def trust(self, tmp_path: Path) -> None:
        trust(tmp_path, self.a, self.b)


def two_servers(
    tmp_path: Path, procs: list[ServerProcess], *others: str, config: dict[str, Any] | None = None
) -> TwoServers:
    """Servers a and b (stopped by the ``procs`` fixture), Ada on a, Bea on b, and a key for each name in
    ``others``; ``config`` is added to both servers' (``FAST``) config."""
    a, b = servers(tmp_path, procs, "a", "b", config=config)
    people = tuple(keyed(tmp_path, name) for name in others)
    return TwoServers(a, b, member(tmp_path, a, "ada"), member(tmp_path, b, "bea"), people)


def servers(
    tmp_path: Path, procs: list[ServerProcess], *names: str, config: dict[str, Any] | None = None
) -> list[ServerProcess]:
    """A server per name, its data under ``tmp_path / name``, started at once (stopped by the ``procs`` fixture);
    ``config`` is added to each one's (``FAST``) config."""
    made = [ServerProcess(tmp_path / name, config={**FAST, **(config or {})}) for name in names]
    procs.extend(made)
    return together(*(proc.start for proc in made))


def mesh(tmp_path: Path, *procs: ServerProcess) -> None:
    """Make every server a peer of every other (each pair through ``trust``, the pairs at once)."""
    pairs = [(here, there) for i, here in enumerate(procs) for there in procs[i + 1 :]]
    together(*(lambda here=here, there=there: trust(tmp_path, here, there) for here, there in pairs))


def trust(tmp_path: Path, a: ServerProcess, b: ServerProcess) -> None:
    """Make a and b peers of each other (push and pull)."""
    for here, there in ((a, b), (b, a)):
        add = ("peer", "add", "--data", str(here.data), there.url, "--key", there.key, "--name", there.data.name)
        Person(tmp_path).run(*add)


def keyed(tmp_path: Path, name: str) -> Person:
    """Someone with a key and no server."""
    person = Person(tmp_path / f"home-{name}")
    person.run("init", "--name", name)
    return person


def member(tmp_path: Path, proc: ServerProcess, name: str) -> Person:
    person = keyed(tmp_path, name)
    person.run("join", proc.url, "--invite", admin(proc.data, "invite")["code"])
    return person


def signed(person: Person, draft: dict[str, Any]) -> dict[str, Any]:
    """A message signed with the person's key by `murmur sign`, without any server."""
    return json.loads(person.run("sign", "-", stdin=json.dumps(draft)).stdout)


def bundle(path: Path, *messages: dict[str, Any]) -> Path:
    header = {"murmur_bundle": 1, "created_at": int(time.time() * 1000), "count": len(messages), "filter": {}}
    path.write_text("\n".join(json.dumps(m) for m in (header, *messages)) + "\n", encoding="utf-8")
    return path


def deliver(person: Person, proc: ServerProcess, path: Path, *messages: dict[str, Any]) -> dict[str, Any]:
    """Hand messages to a server as a peer or a courier would: through its data directory."""
    report: dict[str, Any] = person.json("import", "--data", str(proc.data), str(bundle(path, *messages)))
    return report
