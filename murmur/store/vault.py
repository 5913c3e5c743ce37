"""A file sealed under a passphrase: how a device's message store rests on disk when its person set one
(docs/encryption.md §9, "The device's store").

The whole file is one AEAD ciphertext (ChaCha20-Poly1305) under a key that Argon2id derives from the passphrase;
a small header in the clear says what is needed to derive it again, and is authenticated as associated data:

    magic "MURMUR-VAULT" (12 bytes) | version 0x01 | kdf 0x01 (Argon2id)
    | memory KiB (u32, big-endian) | iterations (u32) | lanes (u16) | salt (16) | nonce (12) | ciphertext+tag

The salt is drawn when a passphrase is set or changed; the key it gives is kept in memory while the store is
open, and every save draws a fresh random nonce under it. A wrong passphrase and a damaged file both fail the
tag: the sentence names the passphrase first, as by far the likelier cause.
"""

from __future__ import annotations

import fcntl
import os
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from murmur.errors import StoreError, WrongPassphrase
from murmur.keys import write_private_file

MAGIC = b"MURMUR-VAULT"
VERSION = 1
KDF_ARGON2ID = 1
_HEADER = struct.Struct(">12sBBIIH16s12s")


@dataclass(frozen=True, slots=True)
class Cost:
    """Argon2id's cost (RFC 9106 §4, the second recommended option: 64 MiB, 3 passes, 4 lanes)."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4


DEFAULT_COST = Cost()


@dataclass(frozen=True, slots=True)
class Vault:
    """The key a passphrase gave under one salt and cost: what seals each save of an open store."""

    key: bytes
    salt: bytes
    cost: Cost

    @classmethod
    def derive(cls, passphrase: str, salt: bytes | None = None, cost: Cost | None = None) -> Vault:
        """The key for ``passphrase``, NFC-normalised so that the same letters typed on another keyboard or
        system give the same key; a fresh salt unless one is given."""
        if not passphrase:
            raise StoreError("A passphrase cannot be empty.")
        salt = os.urandom(16) if salt is None else salt
        cost = cost or DEFAULT_COST
        kdf = Argon2id(salt=salt, length=32, iterations=cost.iterations, lanes=cost.lanes,
                       memory_cost=cost.memory_kib)  # fmt: skip
        return cls(kdf.derive(unicodedata.normalize("NFC", passphrase).encode("utf-8")), salt, cost)


def is_sealed(path: Path) -> bool:
    """Whether the file at ``path`` is sealed under a passphrase (a missing file is not)."""
    try:
        with path.open("rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except FileNotFoundError:
        return False


def seal(plain: bytes, vault: Vault) -> bytes:
    c = vault.cost
    header = _HEADER.pack(MAGIC, VERSION, KDF_ARGON2ID, c.memory_kib, c.iterations, c.lanes, vault.salt,
                          os.urandom(12))  # fmt: skip
    return header + ChaCha20Poly1305(vault.key).encrypt(header[-12:], plain, header)


def unseal(data: bytes, passphrase: str, path: Path) -> tuple[bytes, Vault]:
    """The plain bytes of a sealed file and the key that opened it; ``WrongPassphrase`` when the tag fails."""
    if len(data) < _HEADER.size + 16:
        raise StoreError(f"The message store at {path} is sealed but cut short; restore it from a backup, or move"
                         " it aside to start a new one (the messages are fetched again from the server).")  # fmt: skip
    magic, version, kdf, memory, iterations, lanes, salt, nonce = _HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION or kdf != KDF_ARGON2ID:
        raise StoreError(f"The message store at {path} is sealed in a format this murmur does not know"
                         f" (version {version}, kdf {kdf}); a newer murmur may read it.")  # fmt: skip
    if not (8 <= memory <= 4 * 1024 * 1024 and 1 <= iterations <= 64 and 1 <= lanes <= 64 and memory >= 8 * lanes):
        raise StoreError(f"The message store at {path} names an Argon2id cost out of bounds; it is damaged.")
    vault = Vault.derive(passphrase, salt, Cost(memory, iterations, lanes))
    header = data[: _HEADER.size]
    try:
        return ChaCha20Poly1305(vault.key).decrypt(nonce, data[_HEADER.size :], header), vault
    except InvalidTag as exc:
        raise WrongPassphrase(
            f"This is the wrong passphrase for the message store at {path} (or the file is damaged)."
        ) from exc


def hold(path: Path) -> int:
    """Hold the store at ``path`` (sealed or plain) for this program: a sealed one is kept in memory and saved
    whole, and a group's chains are read, moved and saved by one program, so a second one at once would save over
    the first's changes or reuse its message keys. Refused with what to do; released by closing the descriptor
    returned (or by the program's end, however it ends)."""
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"Cannot open {lock}: {exc.strerror or exc}.") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise StoreError(f"The message store at {path} is open in another murmur program (the TUI?); close it"
                         " and try again.") from exc  # fmt: skip
    return fd


def save(path: Path, plain: bytes, vault: Vault | None) -> None:
    """Write the store's bytes, sealed when ``vault`` is given, atomically: a crash leaves the old file whole."""
    try:
        write_private_file(path, plain if vault is None else seal(plain, vault), force=True)
    except OSError as exc:
        raise StoreError(f"The message store {path} could not be saved: {exc.strerror or exc}.") from exc
