"""`murmur peer add --label`, `peer label` and `peer manifest show|verify|diff|apply|sign|admins` on a data
directory: every change is a new signed version, and manifests that must not be accepted are refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from murmur.keys import Identity, save_identity
from murmur.manifest import parse
from murmur.server.config import DataDir
from tests.cli.datadir import data_dir, invoke  # noqa: F401 (data_dir: the fixture `data`)

B = Identity.from_seed(b"\x0b" * 32).public_key
C = Identity.from_seed(b"\x0c" * 32).public_key


def _ok(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


def _setup(data: Path) -> None:
    _ok("peer", "add", "--data", str(data), "http://b.test", "--key", B, "--name", "b", "--label", "inside",
        "--label", "team")  # fmt: skip
    _ok("peer", "add", "--data", str(data), "http://c.test", "--key", C, "--name", "c")


def test_labels_are_signed_into_a_new_version_each_time(data: Path) -> None:
    _setup(data)
    shown = json.loads(_ok("peer", "manifest", "show", "--data", str(data), "--json"))
    assert shown["version"] == 2
    assert {p["name"]: p["labels"] for p in shown["peers"]} == {"b": ["inside", "team"], "c": []}
    _ok("peer", "label", "--data", str(data), "c", "outside")
    assert "version = 3" in _ok("peer", "manifest", "show", "--data", str(data))
    changes = json.loads(_ok("peer", "manifest", "diff", "--data", str(data), "--from", "2", "--json"))["changes"]
    assert changes == ["~ peer c + label outside"]
    assert json.loads(_ok("peer", "manifest", "diff", "--data", str(data), "--json"))["changes"] == []
    assert json.loads(_ok("peer", "manifest", "verify", "--data", str(data), "--json")) == {"ok": True, "problems": []}
    listed = json.loads(_ok("peer", "list", "--data", str(data), "--json"))["peers"]
    assert {p["name"]: p["labels"] for p in listed} == {"b": ["inside", "team"], "c": ["outside"]}


@pytest.mark.parametrize("label", ["Inside", "public", "local", "", "a b", "x" * 33])
def test_a_bad_label_is_a_usage_error(data: Path, label: str) -> None:
    _setup(data)
    result = invoke("peer", "label", "--data", str(data), "b", label)
    assert result.exit_code == 2
    assert "label" in result.stderr


def _next_version(data: Path, *signers: Identity, version: int | None = None, admins: list[str] | None = None) -> Path:
    """The newest manifest with c relabelled, renumbered and signed by ``signers``, written to a file."""
    current = parse(_ok("peer", "manifest", "show", "--data", str(data)))
    text = current.unsigned(version or current.version + 1).to_toml().replace("labels = []", 'labels = ["team"]')
    if admins is not None:
        text = text.replace(f"admins = {json.dumps(sorted(current.admins))}", f"admins = {json.dumps(admins)}")
    m = parse(text)
    for who in signers:
        m = m.signed_by(who)
    path = data.parent / f"next-{m.digest[:8]}-{len(list(data.parent.iterdir()))}.toml"
    path.write_text(m.to_toml())
    return path


def test_a_manifest_signed_by_the_server_and_an_admin_is_applied(data: Path) -> None:
    _setup(data)
    ada = Identity.generate()
    _ok("peer", "manifest", "admins", "--data", str(data), "--add", ada.public_key)
    server = DataDir(data).identity()
    path = _next_version(data, server)
    ada_key = data.parent / "ada.key"
    save_identity(ada_key, ada)
    _ok("peer", "manifest", "sign", str(path), "--key", str(ada_key), "--out", str(path))
    assert "ok" in _ok("peer", "manifest", "verify", "--data", str(data), str(path), "--json")
    _ok("peer", "manifest", "apply", "--data", str(data), str(path))
    listed = json.loads(_ok("peer", "list", "--data", str(data), "--json"))["peers"]
    assert {p["name"]: p["labels"] for p in listed} == {"b": ["inside", "team"], "c": ["team"]}


def test_unsigned_stale_and_removed_admin_manifests_are_refused(data: Path) -> None:
    _setup(data)
    ada, bea = Identity.generate(), Identity.generate()
    server = DataDir(data).identity()
    _ok("peer", "manifest", "admins", "--data", str(data), "--add", ada.public_key, "--add", bea.public_key)
    _ok("peer", "manifest", "admins", "--data", str(data), "--remove", bea.public_key)  # version 4
    cases = {
        "unsigned_manifest": _next_version(data),
        "unsigned_manifest ": _next_version(data, ada),
        "stale_manifest": _next_version(data, server, version=4),
        "removed_admin": _next_version(data, server, bea),
        "not_admin": _next_version(data, server, Identity.generate()),
    }
    before = _ok("peer", "manifest", "show", "--data", str(data))
    for code, path in cases.items():
        result = invoke("peer", "manifest", "apply", "--data", str(data), str(path))
        assert result.exit_code == 1, (code, result.stdout)
        assert result.stderr.startswith("murmur: "), result.stderr
        verified = json.loads(invoke("peer", "manifest", "verify", "--data", str(data), str(path), "--json").stdout)
        assert verified["problems"][0].startswith(code.strip() + ":"), verified
    assert (
        "stopped being an admin in version 4"
        in invoke("peer", "manifest", "apply", "--data", str(data), str(cases["removed_admin"])).stderr
    )
    assert _ok("peer", "manifest", "show", "--data", str(data)) == before


def test_a_manifest_without_peers_removes_them_all_and_a_no_op_signs_nothing(data: Path) -> None:
    _setup(data)
    again = invoke("peer", "add", "--data", str(data), "http://c.test", "--key", C, "--name", "c")
    assert again.exit_code == 0
    assert "version = 2" in _ok("peer", "manifest", "show", "--data", str(data))  # nothing changed, nothing signed
    current = parse(_ok("peer", "manifest", "show", "--data", str(data)))
    empty = type(current)(current.server, current.version + 1, current.admins, {}).signed_by(DataDir(data).identity())
    path = data.parent / "empty.toml"
    path.write_text(empty.to_toml())
    _ok("peer", "manifest", "apply", "--data", str(data), str(path))
    assert json.loads(_ok("peer", "list", "--data", str(data), "--json"))["peers"] == []
    assert json.loads(_ok("peer", "manifest", "verify", "--data", str(data), "--json"))["ok"] is True
