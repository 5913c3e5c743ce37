"""The owner settles a fork from the device it disputes, with the rotation key it holds there: a real server and the
real CLI (docs/cli.md, "Devices and recovery"; docs/protocol.md §13.4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur import key_events as ke
from murmur.keys import load_identity
from tests.e2e.harness import Person, ServerProcess
from tests.e2e.test_identities import first_device, import_into, server

pytestmark = pytest.mark.timeout(300)


def states(listing: dict[str, object]) -> dict[str, tuple[bool, bool, bool]]:
    """Each device's name -> (current, removed, disputed), as `murmur device list --json` says."""
    devices = listing["devices"]
    assert isinstance(devices, list)
    return {d["name"]: (d["current"], d["removed_at"] is not None, d["disputed_at"] is not None) for d in devices}


def test_a_disputed_laptop_settles_the_fork_with_murmur_key_rotate(tmp_path: Path, procs: list[ServerProcess]) -> None:
    a = server(tmp_path, "a")
    procs.append(a)
    laptop, identity = first_device(tmp_path / "laptop", a)
    phone = Person(tmp_path / "phone")
    phone.run("init")
    request = tmp_path / "phone.request"
    phone.json("device", "add", identity, "--name", "phone", "--out", str(request), "--server", a.url)
    laptop.json("device", "approve", str(request))
    place = laptop.json("device", "list")["head"]

    # the owner removes the phone; the thief, holding the phone's key, removes the laptop at the same place
    laptop.run("device", "remove", "phone")
    thief = load_identity(phone.home / "profiles" / "default" / "key.pem")
    theft = ke.remove_device(thief, identity, place, laptop.key)
    assert import_into(a, tmp_path, [theft], "theft")["stored"] == 1

    listing = laptop.json("device", "list")  # a disputed device still reads its own identity
    assert listing["fork"]["place"] == place
    assert states(listing) == {"laptop": (False, False, True), "phone": (False, False, True)}
    refused = laptop.run("post", "is it me?", check=False)
    assert refused.returncode != 0 and "disputed by a fork" in refused.stderr
    assert "murmur key rotate" in refused.stderr

    # the rotation key, kept on the laptop, settles the place: both branches superseded, the devices current
    # before the fork stay; the owner then removes the stolen phone again
    rotated = laptop.json("key", "rotate")
    assert rotated["identity"] == identity
    listing = laptop.json("device", "list")
    assert listing["fork"] is None
    assert states(listing) == {"laptop": (True, False, False), "phone": (True, False, False)}
    laptop.run("device", "remove", "phone")
    assert states(laptop.json("device", "list")) == {"laptop": (True, False, False), "phone": (False, True, False)}
    assert laptop.json("post", "it is me")["id"]
