"""An identity's log and what its devices sign reach a server by every door between servers (push, pull, repair,
a bundle), in whatever order and split across doors, and it ends holding what the first server holds: the same
devices, the same verdicts, the same messages and the same group members (docs/protocol.md §13.1, §13.5)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from murmur.kinds import group_reads
from murmur.kinds.group_drafts import create_draft, membership_draft
from murmur.message import sign_draft
from murmur.store import Store
from murmur.store.export import ExportFilter
from murmur.sync.transfer import export_bundle, import_bundle
from tests.federation.conftest import Network, Node
from tests.identity_logs import LAPTOP, PHONE, SPARE, STRANGER, T0, TABLET, full_life, holdings

DOORS = ["push", "pull", "repair", "bundle"]


def made() -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The log (every kind of key event), and what its devices signed along the way: posts and a group's joins."""
    log = full_life()
    group = sign_draft(STRANGER, create_draft("Union"), created_at=T0 - 1000)
    said: list[dict[str, Any]] = [group]
    for device, at in ((LAPTOP, T0 + 1500), (PHONE, T0 + 2500), (TABLET, T0 + 5500), (SPARE, T0 + 6500)):
        said.append(log.post(device, f"from {device.public_key[:6]}", at=at))
        join = {**membership_draft("group_join", group["id"])}
        join["tags"] = [*join["tags"], ["identity", log.identity]]
        said.append(sign_draft(device, join, created_at=at + 100))
    return log.events, said, group["id"]


async def bundle(source: Store, into: Store) -> None:
    out = io.BytesIO()
    await export_bundle(source, out, ExportFilter())
    await import_bundle(into, io.BytesIO(out.getvalue()))


async def members(store: Store, group: str) -> list[str]:
    return sorted(p.key for p in await group_reads.people(store, group) if p.status == "member")


async def carried(a: Node, door: str, into: Node) -> None:
    if door == "push":
        await a.push(into)
    elif door == "pull":
        await into.pull(a)
    elif door == "repair":
        await into.federator.repair(await into.peer(a))
    else:
        await bundle(a.state.store, into.state.store)


@pytest.mark.parametrize("first", DOORS)
@pytest.mark.parametrize("then", DOORS)
async def test_what_devices_sign_and_their_log_converge_through_every_door(net: Network, first: str, then: str) -> None:
    events, said, group = made()
    a, said_only, b = await net.node("a"), await net.node("said"), await net.node("b")
    await net.link(a, b)
    await net.link(said_only, b)
    await a.state.store.ingest([*said, *events], origin="peer")
    await said_only.state.store.ingest(said, origin="peer")
    # b meets what the devices said first (their log unknown: it all waits), from a server that holds nothing else
    await carried(said_only, first, b)
    assert await members(b.state.store, group) == [STRANGER.public_key]
    # then the log, by another door, from the server that holds everything
    await carried(a, then, b)
    assert await holdings(b.state.store) == await holdings(a.state.store)
    assert await members(b.state.store, group) == await members(a.state.store, group)
    # the laptop's join was made while it was a device; the devices added later joined as theirs: one person
    assert await members(a.state.store, group) == sorted([STRANGER.public_key, events[0]["id"]])
