"""Bundles between real servers that never connect: an admin's export, a person's own, piped and imported twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import Person, ServerProcess, admin, murmur_cmd, stored_ids

pytestmark = pytest.mark.timeout(120)


def member(tmp_path: Path, proc: ServerProcess, name: str) -> Person:
    person = Person(tmp_path / f"home-{name}")
    person.run("init", "--name", name)
    person.run("join", proc.url, "--invite", admin(proc.data, "invite")["code"])
    return person


def ids(page: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["message"]["id"] for item in page["items"]]


def test_a_bundle_carried_between_servers_that_never_connect(tmp_path: Path) -> None:
    a = ServerProcess(tmp_path / "a").start()
    b = ServerProcess(tmp_path / "b").start()
    try:
        ada, bob = member(tmp_path, a, "ada"), member(tmp_path, b, "bob")
        ada.run("profile", "--name", "Ada L")
        first = ada.json("post", "from the island #news")["id"]
        reply = ada.json("post", "and a follow-up", "--reply-to", first)["id"]
        team = ada.json("post", "team only", "--local")["id"]

        bundle = tmp_path / "island.murmur"
        exported = json.loads(ada.run("export", "--data", str(a.data), str(bundle), "--json").stdout)
        # her two profiles (the name join published, then the new one) and two public posts; the local post stays
        assert exported["messages"] == 4
        first_import = bob.json("import", "--data", str(b.data), str(bundle))
        assert (first_import["stored"], first_import["refused"]) == (4, 0)
        again = bob.json("import", "--data", str(b.data), str(bundle))
        assert (again["stored"], again["duplicate"]) == (0, 4)

        timeline = bob.json("timeline", f"@{ada.key}")
        assert set(ids(timeline)) == {first, reply} and all(i["verified"] for i in timeline["items"])
        assert team not in ids(timeline)
        assert bob.json("profile", ada.key)["name"] == "Ada L"

        # piped, as `murmur export ... - | ssh box murmur import --data DIR -` would
        later = ada.json("post", "news that travels #news")["id"]
        pipe = subprocess.run(
            f"{sys.executable} -m murmur.client.cli export --data {a.data} - --tag news"
            f" | {sys.executable} -m murmur.client.cli import --data {b.data} - --json",
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert pipe.returncode == 0, pipe.stderr
        assert json.loads(pipe.stdout)["stored"] == 1 and json.loads(pipe.stdout)["duplicate"] == 1
        assert later in ids(bob.json("timeline", "tag:news"))
    finally:
        a.stop()
        b.stop()


def test_a_person_takes_their_messages_to_another_server(tmp_path: Path) -> None:
    a = ServerProcess(tmp_path / "a").start()
    b = ServerProcess(tmp_path / "b").start()
    try:
        ada, bob = member(tmp_path, a, "ada"), member(tmp_path, b, "bob")
        ada.run("profile", "--name", "Ada on the move")
        posted = [ada.json("post", f"note {i}")["id"] for i in range(3)]
        ada.run("follow", bob.key)
        mine = tmp_path / "ada.murmur"
        ada.run("export", "--mine", str(mine))
        # b's admin imports; nothing from a's server (no key, no members) is in the bundle
        imported = json.loads(
            subprocess.run(
                murmur_cmd("import", "--data", str(b.data), str(mine), "--json"), capture_output=True, text=True
            ).stdout
        )
        assert imported["stored"] == 6 and imported["refused"] == 0  # two profiles, three posts, the follow
        assert a.key not in mine.read_bytes().decode("latin-1")
        assert set(posted) <= set(ids(bob.json("timeline", f"@{ada.key}")))
        assert bob.json("profile", ada.key)["name"] == "Ada on the move"

        # her local posts only come with her: an admin's import refuses them, one reason each
        team = ada.json("post", "team only", "--local")["id"]
        everything = tmp_path / "ada-all.murmur"
        ada.run("export", "--mine", "--include-local", str(everything))
        by_admin = subprocess.run(
            murmur_cmd("import", "--data", str(b.data), str(everything), "--json"), capture_output=True, text=True
        )
        assert by_admin.returncode == 1, by_admin.stderr
        report = json.loads(by_admin.stdout)
        assert (report["stored"], report["refused"], report["reasons"]) == (0, 1, {"local_post": 1})
        assert report["refusals"][0]["id"] == team and "--mine" in report["refusals"][0]["reason"]
        assert team not in stored_ids(b)
        # ... and she brings them herself, as a member of her new server
        ada.run("join", b.url, "--invite", admin(b.data, "invite")["code"])
        by_ada = ada.json("import", "--mine", str(everything))
        assert (by_ada["stored"], by_ada["duplicate"], by_ada["refused"]) == (1, 6, 0)
        assert team in stored_ids(b)
        neither = ada.run("import", str(everything), check=False)
        assert neither.returncode == 2 and "--mine" in neither.stderr
    finally:
        a.stop()
        b.stop()
