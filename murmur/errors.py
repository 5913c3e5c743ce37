"""The exception tree of murmur.

Every error murmur raises on purpose derives from ``MurmurError`` and carries a sentence that is safe to show
to a person or a peer. Foreign exceptions are translated at the boundary (``raise X(...) from exc``), so the
full detail stays in the traceback for the log while the user sees one clear line.

    MurmurError
    ├── Refused            a message or request was refused; carries a machine-readable ``code``
    ├── KeyFileError       a key file is missing, unreadable, corrupt or too widely readable
    ├── ConfigError        a config file is missing, corrupt or holds a bad value
    │   └── NotToml            one of murmur's TOML files cannot be read as TOML (murmur.toml_files)
    ├── StoreError         the database cannot be opened, is corrupt, or refused a write
    │   ├── StoreLocked        a store sealed under a passphrase was opened without one
    │   └── WrongPassphrase    the passphrase given does not open the sealed store
    ├── LocalFileError     the operating system refused a file or folder (an OSError, translated: ``os_error``)
    └── PeerError          a peer server could not be reached, refused a request, or answered something unusable
"""

from __future__ import annotations


class MurmurError(Exception):
    """Root of murmur's exceptions. ``str(err)`` is a sentence meant for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(MurmurError):
    """Input refused by validation or policy.

    ``code`` is a stable snake_case reason (listed in docs/protocol.md) and ``message`` the human sentence.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __repr__(self) -> str:
        return f"Refused({self.code!r}, {self.message!r})"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.message}


class KeyFileError(MurmurError):
    """A key file could not be used."""


class ConfigError(MurmurError):
    """A configuration file or value could not be used."""


class NotToml(ConfigError):
    """A text meant as one of murmur's TOML files is not one: ``why`` says what is wrong, without the file."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why


class StoreError(MurmurError):
    """The store could not be opened or written."""


class StoreLocked(StoreError):
    """A store sealed under a passphrase was opened without one: the caller asks for it and tries again."""


class WrongPassphrase(StoreError):
    """The passphrase given does not open the sealed store."""


class LocalFileError(MurmurError):
    """A local file or folder could not be read, written or created."""


def os_error(exc: OSError, doing: str = "use") -> LocalFileError:
    """The one translation of an OSError into a sentence: what was being done, to which file, and why.

    Entry points call it where they know what they were doing; the command line's top level calls it for any
    OSError that got that far, so none ever reaches a person as a traceback.
    """
    why = exc.strerror or exc.__class__.__name__
    target = f" {exc.filename}" if exc.filename is not None else ""
    if exc.filename2 is not None:
        target += f" -> {exc.filename2}"
    return LocalFileError(f"Cannot {doing}{target}: {why}.")


class PeerError(MurmurError):
    """A peer server could not be reached, refused a request, or answered something murmur cannot use.

    Raised by the federation client at its boundary (httpx's errors are translated there, in one table).
    ``retry_after`` is the peer's Retry-After in seconds when it gave one; ``status`` its HTTP status when it
    answered at all.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
