"""The signed trust manifest: a server's peers, their labels, and the admins who may co-sign it.

A manifest is a TOML document::

    v = 1
    server = "<this server's key>"
    version = 7                      # grows by one with every signed change; an older one is stale
    admins = ["<admin key>", ...]    # who may co-sign the next version besides the server key

    [[peers]]
    key = "<peer server key>"
    name = "lab"
    url = "https://lab.example"
    mode = "push-pull"               # what the peer may do: push-pull, pull-only, serve-only
    labels = ["inside", "team"]      # the scopes it may receive and relay (plus everything public)

    [[signatures]]
    key = "<server or admin key>"
    sig = "<Ed25519 signature of the canonical bytes>"

Its meaning is a set, never a sequence: admins and labels are sets, peers a set keyed by their server key, so
the canonical bytes (RFC 8785 over the sorted form, ``murmur.jcs``) and the digest are the same whatever order
the file lists them in. A peer listed twice is refused rather than resolved by position (GoToSocial's allowlist
showed what order-dependent trust does). Signatures sit outside what is signed.

A label is what a scoped audience names (``scope:inside``, ``murmur.message``): a peer labelled ``inside``
receives, and may bring in, messages addressed to ``inside``. ``outside`` marks a server beyond the firewall;
a peer with no label is treated as outside when a client previews who will receive a post.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from murmur import toml_files
from murmur.errors import NotToml, Refused
from murmur.jcs import canonicalize
from murmur.keys import Identity, verify_signature
from murmur.message import LABEL, RESERVED_LABELS
from murmur.validate import check_key

MANIFEST_VERSION = 1
OUTSIDE = "outside"
MODES = ("push-pull", "pull-only", "serve-only")


def check_label(label: str) -> str:
    """A label is 1 to 32 of a-z, 0-9, ``_``, ``-``, from a letter, and not an audience's own name."""
    if not isinstance(label, str) or not LABEL.fullmatch(label):
        raise Refused("bad_label", f"A label is 1 to 32 of a-z, 0-9, _ and -, starting with a letter; got {label!r}.")
    if label in RESERVED_LABELS:
        raise Refused("bad_label", f"{label!r} is an audience of its own, not a label a peer can carry.")
    return label


@dataclass(frozen=True, slots=True)
class PeerEntry:
    key: str
    name: str = ""
    url: str = ""
    mode: str = "push-pull"
    labels: frozenset[str] = frozenset()

    def canonical(self) -> dict[str, Any]:
        return {"key": self.key, "labels": sorted(self.labels), "mode": self.mode, "name": self.name, "url": self.url}

    @property
    def outside(self) -> bool:
        """Outside the firewall as far as anyone here knows: labelled ``outside``, or not labelled at all."""
        return OUTSIDE in self.labels or not self.labels


@dataclass(frozen=True, slots=True)
class Signature:
    key: str
    sig: str


@dataclass(frozen=True)
class Manifest:
    server: str
    version: int
    admins: frozenset[str] = frozenset()
    peers: Mapping[str, PeerEntry] = field(default_factory=dict)
    signatures: tuple[Signature, ...] = ()

    def canonical_bytes(self) -> bytes:
        return canonicalize(
            {
                "admins": sorted(self.admins),
                "peers": [self.peers[key].canonical() for key in sorted(self.peers)],
                "server": self.server,
                "v": MANIFEST_VERSION,
                "version": self.version,
            }
        )

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    def signers(self) -> frozenset[str]:
        return frozenset(s.key for s in self.signatures)

    def signed_by(self, identity: Identity) -> Manifest:
        """This manifest with ``identity``'s signature added (replacing an earlier one by the same key)."""
        sig = Signature(identity.public_key, identity.sign(self.canonical_bytes()))
        kept = tuple(s for s in self.signatures if s.key != identity.public_key)
        return Manifest(self.server, self.version, self.admins, self.peers, (*kept, sig))

    def unsigned(self, version: int) -> Manifest:
        return Manifest(self.server, version, self.admins, self.peers)

    def to_toml(self) -> str:
        lines = [
            f"v = {MANIFEST_VERSION}",
            f"server = {_s(self.server)}",
            f"version = {self.version}",
            f"admins = {_list(sorted(self.admins))}",
        ]
        for key in sorted(self.peers):
            p = self.peers[key]
            lines += [
                "",
                "[[peers]]",
                f"key = {_s(p.key)}",
                f"name = {_s(p.name)}",
                f"url = {_s(p.url)}",
                f"mode = {_s(p.mode)}",
                f"labels = {_list(sorted(p.labels))}",
            ]
        for s in sorted(self.signatures, key=lambda s: s.key):
            lines += ["", "[[signatures]]", f"key = {_s(s.key)}", f"sig = {_s(s.sig)}"]
        return "\n".join(lines) + "\n"


def _s(value: str) -> str:
    # A JSON string without non-ASCII escapes is a valid TOML basic string (same escapes, \uXXXX included).
    return json.dumps(value)


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"


def _bad(message: str) -> Refused:
    return Refused("bad_manifest", message)


def _string(table: Mapping[str, Any], name: str, where: str, *, default: str | None = None) -> str:
    value = table.get(name, default)
    if not isinstance(value, str):
        raise _bad(f"{where}: {name} must be a string.")
    return value


def _strings(table: Mapping[str, Any], name: str, where: str) -> list[str]:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"{where}: {name} must be a list of strings.")
    return value


def _peer(table: Any, index: int) -> PeerEntry:
    where = f"peers[{index}]"
    if not isinstance(table, dict):
        raise _bad(f"{where} must be a table.")
    extra = set(table) - {"key", "name", "url", "mode", "labels"}
    if extra:
        raise _bad(f"{where} has no member {sorted(extra)[0]!r}.")
    key = _string(table, "key", where)
    try:
        check_key(key, f"{where} key")
        labels = frozenset(check_label(label) for label in _strings(table, "labels", where))
    except Refused as exc:
        raise _bad(exc.message) from exc
    mode = _string(table, "mode", where, default="push-pull")
    if mode not in MODES:
        raise _bad(f"{where}: mode must be one of {', '.join(MODES)}; got {mode!r}.")
    name = _string(table, "name", where, default="")
    return PeerEntry(key, name, _string(table, "url", where, default=""), mode, labels)


def parse(text: str) -> Manifest:
    """Read a manifest; its structure is checked here, its signatures by ``check_signatures``."""
    try:
        doc = toml_files.table(text, "the manifest", "")
    except NotToml as exc:
        raise _bad(f"{exc.why}.") from exc
    return _of(doc)


def read_file(path: Path) -> Manifest:
    """A manifest file (``murmur manifest apply|sign|verify FILE``), read as murmur's TOML files are: one that is
    no TOML is one line naming it (``NotToml``); its structure is checked as ``parse`` checks it."""
    return _of(toml_files.read(path, "Give a manifest as `murmur peer manifest show` prints it."))


def _of(doc: dict[str, Any]) -> Manifest:
    extra = set(doc) - {"v", "server", "version", "admins", "peers", "signatures"}
    if extra:
        raise _bad(f"a manifest has no member {sorted(extra)[0]!r}.")
    if doc.get("v") != MANIFEST_VERSION:
        raise _bad(f"v must be {MANIFEST_VERSION}; got {doc.get('v')!r}.")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _bad(f"version must be a positive integer; got {version!r}.")
    server = _string(doc, "server", "the manifest")
    admins = _strings(doc, "admins", "the manifest")
    try:
        check_key(server, "server key")
        for admin in admins:
            check_key(admin, "admin key")
    except Refused as exc:
        raise _bad(exc.message) from exc
    peers: dict[str, PeerEntry] = {}
    raw_peers = doc.get("peers", [])
    if not isinstance(raw_peers, list):
        raise _bad("peers must be an array of tables ([[peers]]).")
    for index, table in enumerate(raw_peers):
        entry = _peer(table, index)
        if entry.key in peers:
            raise _bad(f"peer {entry.key[:16]} is listed twice; a manifest lists each peer once.")
        if entry.key == server:
            raise _bad("a server cannot list itself as its own peer.")
        peers[entry.key] = entry
    signatures: list[Signature] = []
    raw_sigs = doc.get("signatures", [])
    if not isinstance(raw_sigs, list):
        raise _bad("signatures must be an array of tables ([[signatures]]).")
    for index, table in enumerate(raw_sigs):
        if not isinstance(table, dict) or set(table) != {"key", "sig"}:
            raise _bad(f"signatures[{index}] must hold exactly key and sig.")
        signatures.append(Signature(_string(table, "key", "signature"), _string(table, "sig", "signature")))
    return Manifest(server, version, frozenset(admins), peers, tuple(signatures))


@dataclass(frozen=True, slots=True)
class Previous:
    """What this server already accepted: the newest version, and the admins each earlier version named."""

    version: int
    admins: frozenset[str]
    ever_admins: Mapping[str, int]  # key -> the version that removed it as an admin


def check_signatures(manifest: Manifest, server_key: str, previous: Previous | None) -> None:
    """Refuse a manifest this server must not accept: not its own, unsigned, badly signed, stale, or signed by
    someone who is not (or is no longer) an admin. The server key must sign every version; admins co-sign."""
    if manifest.server != server_key:
        raise Refused("wrong_server", f"This manifest is for server {manifest.server[:16]}, not this one.")
    if not manifest.signatures:
        raise Refused("unsigned_manifest", "The manifest carries no signature; the server key must sign it.")
    data = manifest.canonical_bytes()
    keys = [s.key for s in manifest.signatures]
    if len(set(keys)) != len(keys):
        raise Refused("bad_manifest", "A key signs the manifest twice.")
    for s in manifest.signatures:
        if not verify_signature(s.key, s.sig, data):
            raise Refused("bad_signature", f"The signature by {s.key[:16]} does not match the manifest's contents.")
    if server_key not in keys:
        raise Refused("unsigned_manifest", "The server key has not signed this manifest.")
    if previous is None:
        return
    if manifest.version <= previous.version:
        raise Refused(
            "stale_manifest",
            f"Version {manifest.version} is not newer than version {previous.version}, already accepted.",
        )
    for key in keys:
        if key == server_key or key in previous.admins:
            continue
        removed = previous.ever_admins.get(key)
        if removed is not None:
            raise Refused("removed_admin", f"Signed by {key[:16]}, who stopped being an admin in version {removed}.")
        raise Refused("not_admin", f"Signed by {key[:16]}, who is not an admin of this server.")


def diff(old: Manifest | None, new: Manifest) -> list[str]:
    """What changed from ``old`` to ``new``, one line per change, in a stable order."""
    lines: list[str] = []
    before = old.peers if old is not None else {}
    for key in sorted(set(before) | set(new.peers)):
        a, b = before.get(key), new.peers.get(key)
        label = (b or a).name or key[:16]  # type: ignore[union-attr]
        if a is None and b is not None:
            lines.append(f"+ peer {label} {key[:16]} labels [{', '.join(sorted(b.labels))}]")
        elif b is None and a is not None:
            lines.append(f"- peer {label} {key[:16]}")
        elif a is not None and b is not None and a != b:
            for name in ("name", "url", "mode"):
                if getattr(a, name) != getattr(b, name):
                    lines.append(f"~ peer {label} {name}: {getattr(a, name)!r} -> {getattr(b, name)!r}")
            lines += [f"~ peer {label} + label {x}" for x in sorted(b.labels - a.labels)]
            lines += [f"~ peer {label} - label {x}" for x in sorted(a.labels - b.labels)]
    old_admins = old.admins if old is not None else frozenset()
    lines += [f"+ admin {k}" for k in sorted(new.admins - old_admins)]
    lines += [f"- admin {k}" for k in sorted(old_admins - new.admins)]
    return lines
