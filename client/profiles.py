"""Where a person's keys and client config live, and how profiles are chosen.

By default each kind of file goes where the platform keeps that kind (XDG on Linux, via platformdirs)::

    config dir (~/.config/murmur)       config.toml: default profile, and per profile: server URL, name, keys
    data dir (~/.local/share/murmur)    profiles/<name>/key.pem (0600), profiles/<name>/tui-cache.json,
                                        server/: the data directory of the home server `murmur up` runs
    state dir (~/.local/state/murmur)   server/serve.log and server/serve.pid of that server

``--home DIR`` (or ``$MURMUR_HOME``) puts all three in DIR instead. Earlier versions kept config.toml in the
data dir too: it is moved to the config dir the first time it is found there (``Locations.find``).

Each profile is one identity on one home server; ``--profile NAME`` picks one, ``default`` otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from murmur.errors import ConfigError
from murmur.keys import Identity, load_identity, write_private_file
from murmur.toml_files import read

PROFILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
DEFAULT_PROFILE = "default"


CONFIG_FILE = "config.toml"


@dataclass(frozen=True)
class Locations:
    """The three directories a person's murmur files live in (see the module docstring)."""

    config: Path
    """Holds config.toml."""
    data: Path
    """Holds keys, the TUI cache, and the data directory of the server `murmur up` runs."""
    state: Path
    """Holds the log and the pid of the server `murmur up` runs."""

    @classmethod
    def find(cls, home: Path | None = None) -> Locations:
        """``home`` (else ``$MURMUR_HOME``) for everything; else the platform's directories, after moving a
        config file left in the data directory by an earlier version."""
        if home is None and os.environ.get("MURMUR_HOME"):
            home = Path(os.environ["MURMUR_HOME"])
        if home is not None:
            root = home.expanduser()
            return cls(root, root, root)
        found = cls(
            config=Path(platformdirs.user_config_dir("murmur", appauthor=False)),
            data=Path(platformdirs.user_data_dir("murmur", appauthor=False)),
            state=Path(platformdirs.user_state_dir("murmur", appauthor=False)),
        )
        found.adopt_old_config()
        return found

    def adopt_old_config(self) -> None:
        """Move config.toml from the data directory (where versions before 0.2 kept it) to the config directory,
        unless a config file is already there."""
        old, new = self.data / CONFIG_FILE, self.config / CONFIG_FILE
        if old == new or new.exists() or not old.exists():
            return
        self.config.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            shutil.move(old, new)  # a rename when on one filesystem; a copy keeping mode 0600 otherwise
        except OSError as exc:
            raise ConfigError(f"Cannot move {old} to {new}: {exc.strerror}; move it by hand.") from exc


@dataclass
class ClientConfig:
    """The client's config file, ``config.toml`` in the home directory."""

    path: Path
    default_profile: str = DEFAULT_PROFILE
    """The profile used when ``--profile`` is not given."""
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per profile: ``server`` (home server URL), ``name`` (display name), ``theme``, ``keys`` (bindings)."""

    @classmethod
    def load(cls, directory: Path) -> ClientConfig:
        path = directory / CONFIG_FILE
        if not path.exists():
            return cls(path)
        data = read(path, "Fix it, or remove it.")
        default = data.get("default_profile", DEFAULT_PROFILE)
        profiles = data.get("profiles", {})
        if not isinstance(default, str) or not isinstance(profiles, dict):
            raise ConfigError(f"{path}: default_profile must be a string and [profiles] a table.")
        return cls(path, default, {str(k): dict(v) for k, v in profiles.items() if isinstance(v, dict)})

    def save(self) -> None:
        data = {"default_profile": self.default_profile, "profiles": self.profiles}
        write_private_file(self.path, tomli_w.dumps(data).encode("utf-8"), force=True)

    def section(self, profile: str) -> dict[str, Any]:
        return self.profiles.setdefault(profile, {})


@dataclass(frozen=True)
class ProfileRef:
    """One chosen profile: its name, the directories murmur uses and where its key lives."""

    locations: Locations
    name: str

    @property
    def home(self) -> Path:
        """The data directory: keys, caches, and `murmur up`'s server live under it."""
        return self.locations.data

    @property
    def key_path(self) -> Path:
        return self.home / "profiles" / self.name / "key.pem"

    @property
    def local_server_data(self) -> Path:
        """The data directory of the home server `murmur up` runs (shared by the profiles)."""
        return self.locations.data / "server"

    @property
    def local_server_state(self) -> Path:
        """Where the log and pid of that server go."""
        return self.locations.state / "server"

    def identity(self) -> Identity:
        return load_identity(self.key_path)

    def config(self) -> ClientConfig:
        return ClientConfig.load(self.locations.config)


def resolve(home: Path | None, profile: str | None) -> ProfileRef:
    locations = Locations.find(home)
    name = profile or os.environ.get("MURMUR_PROFILE") or ClientConfig.load(locations.config).default_profile
    if not PROFILE_NAME.fullmatch(name):
        raise ConfigError(f"Profile name {name!r} must be 1-64 letters, digits, '.', '_' or '-'.")
    return ProfileRef(locations, name)
