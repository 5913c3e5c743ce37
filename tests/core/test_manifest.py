"""The trust manifest: its meaning and signed digest never depend on order; bad manifests are refused by name."""

from __future__ import annotations

import itertools

import pytest

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.manifest import Manifest, PeerEntry, Previous, check_signatures, diff, parse

SERVER = Identity.from_seed(b"\x01" * 32)
ADA = Identity.from_seed(b"\x02" * 32)
BEA = Identity.from_seed(b"\x03" * 32)
PEERS = [Identity.from_seed(bytes([n]) * 32).public_key for n in (4, 5, 6)]


def _peer_block(key: str, labels: list[str], name: str) -> str:
    quoted = ", ".join(f'"{label}"' for label in labels)
    return f'[[peers]]\nkey = "{key}"\nname = "{name}"\nurl = "http://{name}.test"\nlabels = [{quoted}]\n'


def _text(order: tuple[int, ...], label_order: tuple[int, ...], admins: list[str], version: int = 2) -> str:
    labels = [["inside", "team"], ["outside"], ["inside", "department", "team"]]
    blocks = []
    for i in order:
        own = labels[i]
        blocks.append(
            _peer_block(PEERS[i], [own[j] for j in label_order if j < len(own)] + own[len(label_order) :], f"p{i}")
        )
    quoted = ", ".join(f'"{a}"' for a in admins)
    head = f'v = 1\nserver = "{SERVER.public_key}"\nversion = {version}\nadmins = [{quoted}]\n'
    return head + "\n".join(blocks)


def test_every_order_of_entries_means_the_same_and_signs_the_same() -> None:
    digests = set()
    meanings = set()
    for order in itertools.permutations(range(3)):
        for label_order in itertools.permutations(range(3)):
            for admins in ([ADA.public_key, BEA.public_key], [BEA.public_key, ADA.public_key]):
                m = parse(_text(order, label_order, admins))
                digests.add(m.digest)
                meanings.add((m.admins, frozenset(m.peers.values())))
                signed = m.signed_by(SERVER)
                assert parse(signed.to_toml()).digest == m.digest
    assert len(digests) == 1 and len(meanings) == 1


def test_a_signature_made_over_one_order_verifies_over_another() -> None:
    first = parse(_text((0, 1, 2), (0, 1, 2), [ADA.public_key])).signed_by(SERVER).signed_by(ADA)
    sigs = "".join(f'\n[[signatures]]\nkey = "{s.key}"\nsig = "{s.sig}"\n' for s in reversed(first.signatures))
    shuffled = parse(_text((2, 0, 1), (2, 1, 0), [ADA.public_key]) + sigs)
    check_signatures(shuffled, SERVER.public_key, Previous(1, frozenset({ADA.public_key}), {}))


def _signed(admins: frozenset[str], version: int, *signers: Identity) -> Manifest:
    m = Manifest(SERVER.public_key, version, admins, {PEERS[0]: PeerEntry(PEERS[0], labels=frozenset({"inside"}))})
    for who in signers:
        m = m.signed_by(who)
    return m


@pytest.mark.parametrize(
    ("manifest", "previous", "code"),
    [
        (_signed(frozenset(), 2), None, "unsigned_manifest"),
        (_signed(frozenset(), 2, ADA), Previous(1, frozenset({ADA.public_key}), {}), "unsigned_manifest"),
        (_signed(frozenset(), 1, SERVER), Previous(1, frozenset(), {}), "stale_manifest"),
        (_signed(frozenset(), 3, SERVER), Previous(5, frozenset(), {}), "stale_manifest"),
        (
            _signed(frozenset(), 3, SERVER, BEA),
            Previous(2, frozenset({ADA.public_key}), {BEA.public_key: 2}),
            "removed_admin",
        ),
        (_signed(frozenset(), 3, SERVER, BEA), Previous(2, frozenset({ADA.public_key}), {}), "not_admin"),
    ],
)
def test_bad_manifests_are_refused_with_a_reason(manifest: Manifest, previous: Previous | None, code: str) -> None:
    with pytest.raises(Refused) as caught:
        check_signatures(manifest, SERVER.public_key, previous)
    assert caught.value.code == code
    if code == "removed_admin":
        assert "stopped being an admin in version 2" in caught.value.message


def test_a_changed_entry_breaks_the_signature() -> None:
    signed = _signed(frozenset(), 2, SERVER)
    tampered = signed.to_toml().replace('"inside"', '"outside"')
    with pytest.raises(Refused) as caught:
        check_signatures(parse(tampered), SERVER.public_key, None)
    assert caught.value.code == "bad_signature"


def test_another_servers_manifest_is_refused() -> None:
    with pytest.raises(Refused) as caught:
        check_signatures(_signed(frozenset(), 2, SERVER), ADA.public_key, None)
    assert caught.value.code == "wrong_server"


@pytest.mark.parametrize(
    "text",
    [
        "not toml [",
        "v = 2\n",
        f'v = 1\nserver = "{SERVER.public_key}"\nversion = 0\n',
        f'v = 1\nserver = "{SERVER.public_key}"\nversion = 1\nextra = 1\n',
        f'v = 1\nserver = "{SERVER.public_key}"\nversion = 1\n' + _peer_block(PEERS[0], ["inside"], "a") * 2,
        f'v = 1\nserver = "{SERVER.public_key}"\nversion = 1\n' + _peer_block(PEERS[0], ["Inside"], "a"),
        f'v = 1\nserver = "{SERVER.public_key}"\nversion = 1\n' + _peer_block(PEERS[0], ["public"], "a"),
        f'v = 1\nserver = "{SERVER.public_key}"\nversion = 1\n' + _peer_block(SERVER.public_key, [], "me"),
        f'v = 1\nserver = "{SERVER.public_key}"\nversion = 1\n[[peers]]\nkey = "ab"\n',
        f'v = 1\nserver = "{SERVER.public_key}"\nversion = 1\n[[signatures]]\nkey = "ab"\n',
    ],
)
def test_malformed_manifests_are_refused_not_crashed_on(text: str) -> None:
    with pytest.raises(Refused) as caught:
        parse(text)
    assert caught.value.code == "bad_manifest"


def test_diff_names_each_change() -> None:
    old = _signed(frozenset(), 1, SERVER)
    new = Manifest(
        SERVER.public_key,
        2,
        frozenset({ADA.public_key}),
        {
            PEERS[0]: PeerEntry(PEERS[0], labels=frozenset({"team"})),
            PEERS[1]: PeerEntry(PEERS[1], name="c", labels=frozenset({"outside"})),
        },
    )
    lines = diff(old, new)
    assert f"+ peer c {PEERS[1][:16]} labels [outside]" in lines
    assert f"~ peer {PEERS[0][:16]} + label team" in lines
    assert f"~ peer {PEERS[0][:16]} - label inside" in lines
    assert f"+ admin {ADA.public_key}" in lines
    assert diff(new, new) == []
