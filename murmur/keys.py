"""Identities: Ed25519 key pairs, their text encoding, and key files.

A public key, a message id and a signature are written as lowercase hexadecimal (64, 64 and 128 characters).
Hex is unambiguous to compare, trivially specified for other implementations, and shows its length at a
glance. A secret key is kept on disk as an unencrypted PKCS#8 PEM file, mode 0600, which OpenSSL and every
Ed25519 library can read; murmur refuses to use one that other users can read, or could replace.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519, crypto_sign_ed25519_sk_to_curve25519
from nacl.exceptions import CryptoError

from murmur.errors import KeyFileError

KEY_HEX = re.compile(r"[0-9a-f]{64}")
SIG_HEX = re.compile(r"[0-9a-f]{128}")

# Encodings of the eight points of small order (and their non-canonical spellings). A signature by such a
# "key" can verify for many messages, so they are refused as author or server keys.
SMALL_ORDER_KEYS = frozenset(
    {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    }
)


def fingerprint(public_key: str) -> str:
    """A short, human-comparable form of a key: its first 12 hex digits in groups of four.

    Shown beside display names so that two people who pick the same name still look different.
    """
    return "-".join(public_key[i : i + 4] for i in range(0, 12, 4))


@lru_cache(maxsize=4096)
def verifying_key(hex_key: str) -> Ed25519PublicKey:
    """The key object of a hex Ed25519 public key, kept for the keys seen last: a member's post is checked twice
    with one key (the request's signature, then the message's), and loading it from hex each time was a tenth of
    the cost of the checks. ``ValueError`` for anything that is no key (never kept)."""
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))


def verify_signature(public_key: str, signature: str, data: bytes) -> bool:
    """Check an Ed25519 signature given as hex against a hex public key. Never raises for bad input."""
    try:
        verifying_key(public_key).verify(bytes.fromhex(signature), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def sealing_public(key: str) -> str | None:
    """The X25519 public key (64 hex) that the Ed25519 device ``key`` maps to by the birational map of RFC 7748
    §4.1 (libsodium's ``crypto_sign_ed25519_pk_to_curve25519``); None when ``key`` is not 64 hex digits naming a
    point of the curve's prime-order subgroup, for which no device holds a secret. Never raises."""
    if not isinstance(key, str) or not KEY_HEX.fullmatch(key):
        return None
    try:
        return crypto_sign_ed25519_pk_to_curve25519(bytes.fromhex(key)).hex()
    except CryptoError:
        return None


@dataclass(frozen=True)
class Identity:
    """An Ed25519 key pair that signs messages (a person) or requests (a person or a server)."""

    private_key: Ed25519PrivateKey
    public_key: str

    @classmethod
    def generate(cls) -> Identity:
        return cls.from_private_key(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Identity:
        """Deterministic identity from a 32-byte seed (used by test vectors)."""
        return cls.from_private_key(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_private_key(cls, key: Ed25519PrivateKey) -> Identity:
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cls(private_key=key, public_key=raw.hex())

    def sign(self, data: bytes) -> str:
        return self.private_key.sign(data).hex()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sealing_key(self) -> X25519PrivateKey:
        """The X25519 key this device opens sealed messages with: its Ed25519 secret mapped to Montgomery form
        (libsodium's ``crypto_sign_ed25519_sk_to_curve25519``), so its public half is ``sealing_public`` of the
        device's key and anyone can check a log lists the one the device holds (docs/encryption.md §9.1)."""
        secret = self.private_key.private_bytes_raw() + bytes.fromhex(self.public_key)  # libsodium's 64-byte form
        return X25519PrivateKey.from_private_bytes(crypto_sign_ed25519_sk_to_curve25519(secret))

    def to_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def write_private_file(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to a new file readable by its owner only (0600), atomically.

    The file is created 0600 from the start (never chmod-ed after the fact), written to a temporary name,
    fsync-ed and renamed, so a crash leaves either the old file or the new one.
    """
    if path.exists() and not force:
        raise KeyFileError(f"{path} already exists; pass --force to replace it (the old key will be lost).")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def save_identity(path: Path, identity: Identity, *, force: bool = False) -> None:
    write_private_file(path, identity.to_pem(), force=force)


def _check_folders(path: Path, key: os.stat_result) -> None:
    """Refuse a key that another user could replace with one of their own, by writing to a folder above it.

    The key's own folder (which murmur creates 0700) must be writable by its owner alone. A folder further up
    must not be writable by everyone, unless it has the sticky bit (like /tmp: others may add entries there
    but not rename or remove ours); group-writable folders further up are common where every user has a group
    of their own, and are left to the admin. Every folder must belong to us or to root, as OpenSSH asks.
    """
    me = os.geteuid()
    child = key
    for depth, folder in enumerate(path.absolute().parents):
        try:
            info = folder.stat()
        except OSError as exc:
            raise KeyFileError(f"Cannot check the folder {folder} of the key {path}: {exc.strerror}.") from exc
        risky = stat.S_IWGRP | stat.S_IWOTH if depth == 0 else stat.S_IWOTH
        sticky_over_ours = info.st_mode & stat.S_ISVTX and child.st_uid in (0, me)
        if info.st_mode & risky and not sticky_over_ours:
            raise KeyFileError(
                f"{folder} is writable by other users (mode {stat.S_IMODE(info.st_mode):04o}), so anyone could "
                f"replace the key {path}; run `chmod go-w {folder}` and try again."
            )
        if info.st_uid not in (0, me):
            raise KeyFileError(
                f"{folder} belongs to another user (uid {info.st_uid}), who could replace the key {path}; keep "
                "keys in folders of your own."
            )
        child = info


def load_identity(path: Path) -> Identity:
    """Read a key file, refusing one that is missing or corrupt, that other users can read or write, or whose
    folder other users can write to (person keys and the server key alike)."""
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise KeyFileError(f"No key file at {path}; run `murmur init` to create an identity.") from exc
    except OSError as exc:
        raise KeyFileError(f"Cannot read the key file {path}: {exc.strerror}.") from exc
    mode = info.st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path} is readable by other users (mode {stat.S_IMODE(mode):04o}); run `chmod 600 {path}` and try again."
        )
    if info.st_uid != os.geteuid():
        raise KeyFileError(
            f"{path} belongs to another user (uid {info.st_uid}), who could change it; use a key of your own."
        )
    _check_folders(path, info)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise KeyFileError(f"{path} is not a readable Ed25519 key file ({exc.__class__.__name__}).") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a key that is not Ed25519.")
    return Identity.from_private_key(key)
