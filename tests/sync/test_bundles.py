"""Offline bundles: the format, import through ingest, damage, and the export/import commands."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from murmur.client.cli.main import app
from murmur.errors import Refused
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.cli.bundles import parse_since
from murmur.server.config import DataDir, ServerConfig
from murmur.store import Store
from murmur.store.peers import outbound
from murmur.sync.bundle import BundleReader, BundleWriter, header_line
from murmur.sync.transfer import REFUSED_ALLOWANCE, ExportFilter, export_bundle, import_bundle, import_own
from murmur.validate import MAX_MESSAGE_BYTES
from tests.e2e.harness import murmur_cmd
from tests.federation.conftest import Network

T0 = 1_700_000_000_000


def messages(author: Identity, count: int, **body: Any) -> list[dict[str, Any]]:
    return [
        sign_draft(author, {"created_at": T0 + i * 1000, "body": {"text": f"note {i} #carry", **body}})
        for i in range(count)
    ]


def bundle_of(raws: list[bytes], *, count: int | None = None) -> bytes:
    out = io.BytesIO()
    with BundleWriter(out, len(raws) if count is None else count, {"visibility": "public"}) as writer:
        for raw in raws:
            writer.add(raw)
    return out.getvalue()


async def ids_of(store: Store) -> set[str]:
    async with store.conn.execute("SELECT id FROM messages") as cursor:
        return {bytes(row[0]).hex() for row in await cursor.fetchall()}


def raw(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


async def test_a_bundle_round_trips_and_a_second_import_changes_nothing(store: Store, tmp_path: Path) -> None:
    ada = Identity.generate()
    sent = messages(ada, 1200)
    data = bundle_of([raw(m) for m in sent])
    assert data[:2] == b"\x1f\x8b"
    header = json.loads(gzip.decompress(data).split(b"\n")[0])
    assert header["murmur_bundle"] == 1 and header["count"] == 1200 and "server" not in json.dumps(header)

    first = await import_bundle(store, io.BytesIO(data))
    assert (first.stored, first.duplicate, first.refused, first.problems) == (1200, 0, 0, [])
    seq_before = await store.count()
    second = await import_bundle(store, io.BytesIO(data))
    assert (second.stored, second.duplicate, second.refused) == (0, 1200, 0)
    assert await store.count() == seq_before
    async with store.conn.execute("SELECT DISTINCT origin FROM messages") as cursor:
        assert [r[0] for r in await cursor.fetchall()] == ["import"]


async def test_truncated_corrupt_and_tampered_bundles_keep_what_is_valid(store: Store) -> None:
    ada = Identity.generate()
    sent = messages(ada, 400)
    tampered = {**sent[5], "body": {**sent[5]["body"], "text": "not what ada wrote"}}
    forged = {**sent[6], "sig": "00" * 64}
    lines = [raw(m) for m in sent[:5]] + [raw(tampered), raw(forged), b"{not json"] + [raw(m) for m in sent[7:]]
    data = bundle_of(lines)

    report = await import_bundle(store, io.BytesIO(data[: len(data) // 2]))
    assert 0 < report.stored < 400 and report.refused >= 3
    assert {p["code"] for p in report.problems} >= {"truncated"}
    assert report.reasons["id_mismatch"] == 1 and report.reasons["bad_signature"] == 1
    assert report.reasons["invalid_json"] >= 1
    assert {r["line"] for r in report.refusals} >= {7, 8, 9}  # header is line 1, so message i is line i + 2
    stored_from_half = report.stored

    damaged = bytearray(data)
    for at in range(len(damaged) // 2, len(damaged) // 2 + 40):
        damaged[at] ^= 0x5A
    report = await import_bundle(store, io.BytesIO(bytes(damaged)))
    assert report.problems and report.stored + report.duplicate >= stored_from_half
    full = await import_bundle(store, io.BytesIO(data))
    assert full.problems == [] and full.refused == 3
    assert await store.count() == 398  # every genuine message (400 less the two altered), each once


async def test_what_is_not_a_bundle_is_refused_whole(store: Store) -> None:
    for data in (b"", b"hello\n", gzip.compress(b'{"murmur_bundle": 2}\n'), b"[1]\n"):
        with pytest.raises(Refused):
            BundleReader(io.BytesIO(data))
    plain = b'{"murmur_bundle": 1, "count": 1}\n' + raw(messages(Identity.generate(), 1)[0]) + b"\n"
    report = await import_bundle(store, io.BytesIO(plain))  # unpacked by hand and repacked: still fine
    assert report.stored == 1 and report.problems == []
    short = await import_bundle(store, io.BytesIO(bundle_of([], count=3)))
    assert [p["code"] for p in short.problems] == ["count_mismatch"]


async def test_export_filters_and_leaves_local_posts_home(store: Store) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    public = messages(ada, 3)
    other = sign_draft(bob, {"created_at": T0 + 10_000, "body": {"text": "bob's #other"}})
    local = sign_draft(ada, {"created_at": T0 + 20_000, "body": {"text": "team #carry", "visibility": "local"}})
    about_local = sign_draft(bob, {"kind": "reaction", "body": {"emoji": "+1"}, "tags": [["target", local["id"]]]})
    await store.ingest([*public, other, local, about_local])

    async def exported(chosen: ExportFilter) -> list[str]:
        out = io.BytesIO()
        count = await export_bundle(store, out, chosen)
        lines = gzip.decompress(out.getvalue()).splitlines()[1:]
        assert count == len(lines)
        return [json.loads(line)["id"] for line in lines]

    assert await exported(ExportFilter()) == [m["id"] for m in public] + [other["id"]]
    assert len(await exported(ExportFilter(include_local=True))) == 6
    assert await exported(ExportFilter(authors=(bob.public_key,))) == [other["id"]]
    assert await exported(ExportFilter(tag="carry")) == [m["id"] for m in public]
    assert await exported(ExportFilter(tag="carry", include_local=True)) == [m["id"] for m in [*public, local]]
    assert await exported(ExportFilter(since=T0 + 2000)) == [public[2]["id"], other["id"]]


async def test_imported_public_messages_are_relayed_to_peers(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada = Identity.generate()
    public = messages(ada, 3)
    report = await import_bundle(a.state.store, io.BytesIO(bundle_of([raw(m) for m in public])))
    assert report.stored == 3
    await a.push(b)
    async with b.state.store.conn.execute("SELECT id FROM messages") as cursor:
        assert {bytes(r[0]).hex() for r in await cursor.fetchall()} == {m["id"] for m in public}


@pytest.mark.parametrize("order", ["parent first", "parent last"])
async def test_a_bundle_brings_no_local_post_in_and_what_names_one_stays_here(net: Network, order: str) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    member, _ = await a.member()
    elsewhere = Identity.generate()  # a member of the server the bundle came from, not of this one
    locals_ = [sign_draft(who, {"body": {"text": "team only", "visibility": "local"}}) for who in (elsewhere, member)]
    reply = sign_draft(
        member, {"body": {"text": "re"}, "tags": [["reply", locals_[0]["id"]], ["root", locals_[0]["id"]]]}
    )
    boost = sign_draft(elsewhere, {"kind": "boost", "tags": [["target", locals_[1]["id"]]]})
    public = messages(elsewhere, 2)
    about = [reply, boost]
    lines = [*public, *locals_, *about] if order == "parent first" else [*public, *about, *locals_]
    report = await import_bundle(a.state.store, io.BytesIO(bundle_of([raw(m) for m in lines])))

    assert (report.stored, report.refused, dict(report.reasons)) == (4, 2, {"local_post": 2})
    refused = [r for r in report.refusals if r["code"] == "local_post"]
    assert {r["id"] for r in refused} == {m["id"] for m in locals_}
    assert {r["line"] for r in refused} == {lines.index(m) + 2 for m in locals_}
    assert all("import --mine" in r["reason"] for r in refused)
    for message in locals_:
        assert await a.state.store.get_raw(message["id"]) is None
    await a.push(b)  # the reply and the boost name a local post: they stay here, stored but never relayed
    assert await ids_of(b.state.store) == {m["id"] for m in public}
    page = await outbound(a.state.store, after=0, limit=100, exclude_origin=None)
    assert {json.loads(raw)["id"] for _, raw in page.entries} == {m["id"] for m in public}


async def test_a_person_brings_their_own_local_posts_and_nobody_elses(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, api = await a.member()
    bob = Identity.generate()
    own_local = sign_draft(ada, {"body": {"text": "my team note", "visibility": "local"}})
    own_public = messages(ada, 2)
    reply = sign_draft(ada, {"body": {"text": "re"}, "tags": [["reply", own_local["id"]], ["root", own_local["id"]]]})
    bobs = [sign_draft(bob, {"body": {"text": "bob's", "visibility": "local"}}), *messages(bob, 1)]
    lines = [own_local, *bobs, *own_public, reply]
    report = await import_own(io.BytesIO(bundle_of([raw(m) for m in lines])), api.import_own)

    assert (report.stored, report.refused, dict(report.reasons)) == (4, 2, {"wrong_author": 2})
    assert [r["line"] for r in report.refusals] == [3, 4]
    assert await a.state.store.get_raw(own_local["id"]) is not None  # the one door a local post comes in by
    again = await import_own(io.BytesIO(bundle_of([raw(m) for m in lines])), api.import_own)
    assert (again.stored, again.duplicate) == (0, 4)
    await a.push(b)  # local here as it was there, and the reply to it with it
    assert await ids_of(b.state.store) == {m["id"] for m in own_public}


async def test_a_member_reads_back_their_own_messages_of_every_kind(net: Network) -> None:
    a = await net.node("a")
    ada, api = await a.member()
    bob = Identity.generate()
    own = [
        sign_draft(ada, {"kind": "profile", "body": {"name": "Ada"}}),
        sign_draft(ada, {"body": {"text": "hello"}}),
        sign_draft(ada, {"kind": "follow", "tags": [["subject", bob.public_key]]}),
        sign_draft(ada, {"body": {"text": "team", "visibility": "local"}}),
    ]
    await a.state.store.ingest([*own, *messages(bob, 2)])
    lines, cursor, more = await api.own_messages(0, limit=2)
    assert more and len(lines) == 2
    rest, _, more = await api.own_messages(cursor)
    assert not more
    assert [json.loads(line)["id"] for line in lines + rest] == [m["id"] for m in own[:3]]
    everything, _, _ = await api.own_messages(0, local=True)
    assert len(everything) == 4


async def test_a_member_moving_takes_their_local_thread_but_nothing_about_someone_elses(net: Network) -> None:
    a = await net.node("a")
    ada, api = await a.member()
    bob, _ = await a.member()

    def reply(author: Identity, parent: dict[str, Any], root: dict[str, Any] | None = None) -> dict[str, Any]:
        tags = [["reply", parent["id"]], ["root", (root or parent)["id"]]]
        return sign_draft(author, {"body": {"text": "re"}, "tags": tags})

    mine = sign_draft(ada, {"body": {"text": "my team note", "visibility": "local"}})
    bobs = sign_draft(bob, {"body": {"text": "bob's team note", "visibility": "local"}})
    on_mine = reply(ada, mine)
    on_bobs = reply(ada, bobs)
    deeper = reply(ada, on_bobs, root=bobs)
    boost = sign_draft(ada, {"kind": "boost", "tags": [["target", bobs["id"]]]})
    public = messages(ada, 1)
    await a.state.store.ingest([mine, bobs, on_mine, on_bobs, deeper, boost, *public])

    local, _, _ = await api.own_messages(0, local=True)
    assert [json.loads(line)["id"] for line in local] == [m["id"] for m in (mine, on_mine, *public)]
    open_only, _, _ = await api.own_messages(0)
    assert [json.loads(line)["id"] for line in open_only] == [public[0]["id"]]


# -- the commands ------------------------------------------------------------------------------------------------
def server_dir(path: Path, items: list[dict[str, Any]]) -> Path:
    DataDir(path).create(ServerConfig())

    async def fill() -> None:
        async with await Store.open(DataDir(path).db_path) as store:
            await store.ingest(items)

    asyncio.run(fill())
    return path


def test_export_then_import_between_two_data_dirs(tmp_path: Path) -> None:
    ada = Identity.generate()
    sent = messages(ada, 30)
    source = server_dir(tmp_path / "a", sent)
    target = server_dir(tmp_path / "b", [])
    runner = CliRunner()
    bundle = tmp_path / "a.murmur"
    done = runner.invoke(app, ["export", "--data", str(source), str(bundle), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["messages"] == 30
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*partial"))
    again = runner.invoke(app, ["export", "--data", str(source), str(bundle)])
    assert again.exit_code == 3 and "already exists" in again.output

    first = runner.invoke(app, ["import", "--data", str(target), str(bundle), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["stored"] == 30
    second = runner.invoke(app, ["import", "--data", str(target), str(bundle)])
    assert second.exit_code == 0 and "stored 0, duplicate 30" in second.stdout

    piped = runner.invoke(app, ["export", "--data", str(source), "-", "--since", str(T0 + 25_000)])
    assert piped.exit_code == 0
    into = runner.invoke(app, ["import", "--data", str(target), "-"], input=piped.stdout_bytes)
    assert into.exit_code == 0 and "duplicate 5" in into.stdout


def test_import_reports_refusals_and_damage_with_exit_1(tmp_path: Path) -> None:
    target = server_dir(tmp_path / "b", [])
    sent = messages(Identity.generate(), 50)
    data = bundle_of([raw(m) for m in sent[:10]] + [raw({**sent[10], "sig": "00" * 64})] + [raw(m) for m in sent[11:]])
    cut = tmp_path / "cut.murmur"
    cut.write_bytes(data[: len(data) * 2 // 3])
    result = CliRunner().invoke(app, ["import", "--data", str(target), str(cut)])
    assert result.exit_code == 1
    assert "refused 1: bad_signature" in result.stdout and "truncated" in result.stdout
    junk = tmp_path / "junk"
    junk.write_bytes(b"PK\x03\x04 not a bundle")
    result = CliRunner().invoke(app, ["import", "--data", str(target), str(junk)])
    assert result.exit_code == 1 and "not a bundle header" in result.output
    result = CliRunner().invoke(app, ["export", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--data DIR" in result.output


@pytest.mark.parametrize("text", ["9" * 5000, "9" * 5000 + "d", "\u0663", "\u0663d", "\u00b2", "1_0", "+1", "-1d"])
def test_since_refuses_numbers_outside_the_grammar(text: str) -> None:
    with pytest.raises(SystemExit) as done:
        parse_since(text, now_ms=T0)
    assert done.value.code == 2


def test_since_accepts_dates_durations_and_milliseconds() -> None:
    assert parse_since("1700000000000") == T0
    assert parse_since("2023-11-14T22:13:20Z") == T0
    assert parse_since("2023-11-14") == 1_699_920_000_000
    assert parse_since("7d", now_ms=T0) == T0 - 7 * 86_400_000


# -- bounded reading -------------------------------------------------------------------------------------------
def write_bomb(path: Path, header: bytes, zeros_mib: int) -> None:
    """A real gzip file: ``header``, then ``zeros_mib`` MiB of zeros, about 1 KiB of file per MiB of zeros.

    The zeros are compressed once, as a block that names nothing before it (a full flush), and written again and
    again; the trailer carries the CRC and size of everything, so gzip itself accepts the file. Nothing here holds
    more than 1 MiB.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    crc = zlib.crc32(header)
    with path.open("wb") as out:
        out.write(deflate.compress(header) + deflate.flush(zlib.Z_FULL_FLUSH))
        block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
        for _ in range(zeros_mib):
            out.write(block)
            crc = zlib.crc32(zeros, crc)
        size = (len(header) + zeros_mib * len(zeros)) & 0xFFFFFFFF
        out.write(b"\x03\x00" + struct.pack("<II", crc, size))  # an empty final block, then the gzip trailer


def import_peak(data: Path, bundle: Path) -> tuple[int, dict[str, Any], int]:
    """Run ``murmur import --json`` in a process of its own; its peak memory (bytes), report and exit status.

    The command runs under a small parent whose only child it is, so the parent's RUSAGE_CHILDREN peak is the
    import's own (or that of a process it started and waited for, whichever is larger).
    """
    probe = (
        "import json, resource, subprocess, sys;"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.stdout, done.returncode]))"
    )
    command = [sys.executable, "-c", probe, *murmur_cmd("import", "--data", str(data), str(bundle), "--json")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    peak_kib, stdout, status = json.loads(result.stdout)
    return peak_kib * 1024, json.loads(stdout), status


def test_a_gzip_bomb_is_refused_early_and_reading_it_stays_small(tmp_path: Path) -> None:
    target = server_dir(tmp_path / "b", [])
    small = tmp_path / "small.murmur"
    small.write_bytes(bundle_of([raw(m) for m in messages(Identity.generate(), 3)]))
    baseline, report, status = import_peak(target, small)
    assert (report["stored"], status) == (3, 0)

    bomb = tmp_path / "bomb.murmur"
    write_bomb(bomb, header_line(1, {"visibility": "public"}), zeros_mib=1024)
    assert bomb.stat().st_size < 2 * 1024 * 1024  # 1 MiB of file, 1 GiB of zeros
    peak, report, status = import_peak(target, bomb)
    assert status == 1 and report["stored"] == 0
    [problem] = report["problems"]
    assert problem["code"] == "filler" and "reading stopped" in problem["reason"]
    assert peak < baseline + 32 * 1024 * 1024, (peak, baseline)  # it was over 1 GB


async def test_lines_longer_than_any_message_are_refused_by_number_and_never_held(store: Store) -> None:
    sent = [raw(m) for m in messages(Identity.generate(), 3)]
    long_line = b'{"v":1,"pad":"' + b"x" * (MAX_MESSAGE_BYTES + 10) + b'"}'
    data = bundle_of([sent[0], long_line, sent[1], b"{" * (3 * MAX_MESSAGE_BYTES), sent[2]])
    report = await import_bundle(store, io.BytesIO(data))
    assert (report.stored, report.refused, report.reasons["too_large"]) == (3, 2, 2)
    assert [(r["line"], r["code"]) for r in report.refusals] == [(3, "too_large"), (5, "too_large")]
    assert report.problems == []  # 50 KiB of filler is within what a bundle may hold


async def test_a_bundle_of_mostly_blank_or_overlong_lines_stops_with_a_reason(store: Store) -> None:
    sent = [raw(m) for m in messages(Identity.generate(), 2)]
    blanks = gzip.compress(header_line(2, {}) + sent[0] + b"\n" + b"\n" * (3 * 1024 * 1024) + sent[1] + b"\n")
    report = await import_bundle(store, io.BytesIO(blanks))
    assert report.stored == 1 and [p["code"] for p in report.problems] == ["filler"]
    plain = header_line(1, {}) + b" " * (2 * MAX_MESSAGE_BYTES)  # uncompressed: the same bounds
    with pytest.raises(Refused, match="not a bundle header"):
        BundleReader(io.BytesIO(b" " * (2 * MAX_MESSAGE_BYTES) + b"\n"))
    report = await import_bundle(store, io.BytesIO(plain))
    assert (report.stored, report.refused, report.reasons["too_large"]) == (0, 1, 1)


async def test_a_bomb_of_tiny_junk_lines_stops_once_refusals_far_outnumber_messages(store: Store) -> None:
    sent = [raw(m) for m in messages(Identity.generate(), 3)]
    junk = b"{}\n" * 200_000  # each a line that could be a message, each refused
    data = gzip.compress(header_line(3, {}) + b"\n".join(sent) + b"\n" + junk + sent[0] + b"\n")
    report = await import_bundle(store, io.BytesIO(data))
    assert report.stored == 3
    assert REFUSED_ALLOWANCE <= report.refused < 20_000  # read on a little past the allowance, then stopped
    [problem] = report.problems
    assert problem["code"] == "mostly_refused" and "reading stopped" in problem["reason"]
    forgeries = [raw({**m, "sig": "00" * 64}) for m in messages(Identity.generate(), 50)]
    fine = await import_bundle(store, io.BytesIO(bundle_of(forgeries)))  # a few refusals read to the end
    assert (fine.refused, fine.problems) == (50, [])


async def test_a_bomb_of_one_message_copied_stops_like_one_of_junk_lines(store: Store) -> None:
    """A valid message repeated compresses as well as zeros; each copy is only a duplicate, so copies of what
    the file already held count as refused (``repeated``), however their bytes differ (spacing, key order)."""
    [first, second] = [raw(m) for m in messages(Identity.generate(), 2)]
    spaced = json.dumps(json.loads(first), indent=1).replace("\n", " ").encode()  # same message, other bytes
    copies = [first, spaced] * 30_000
    data = gzip.compress(header_line(2, {}) + b"\n".join([first, second, *copies]) + b"\n")
    report = await import_bundle(store, io.BytesIO(data))
    assert (report.stored, report.duplicate) == (2, 0)
    assert REFUSED_ALLOWANCE <= report.reasons["repeated"] < 20_000  # read on a little past the allowance, then stopped
    assert [p["code"] for p in report.problems] == ["mostly_refused"]
    again = await import_bundle(store, io.BytesIO(bundle_of([first, second])))  # a bundle read twice is no bomb
    assert (again.duplicate, again.refused, again.problems) == (2, 0, [])
