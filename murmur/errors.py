"""The exception tree of murmur.

Every error murmur raises on purpose derives from ``MurmurError`` and carries a sentence that is safe to show
to a person or a peer. Foreign exceptions are translated at the boundary (``raise X(...) from exc``), so the
full detail stays in the traceback for the log while the user sees one clear line.

    MurmurError
    ├── Refused            a message or request was refused; carries a machine-readable ``code``
    ├── KeyFileError       a key file is missing, unreadable, corrupt or too widely readable
    ├── ConfigError        a config file is missing, corrupt or holds a bad value
    └── StoreError         the database cannot be opened, is corrupt, or refused a write
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


class StoreError(MurmurError):
    """The store could not be opened or written."""
