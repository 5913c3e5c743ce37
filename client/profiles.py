"""Where a person's keys and client config live, and how profiles are chosen.

Layout of the home directory (``--home``, else ``$MURMUR_HOME``, else the platform's user data dir)::

    config.toml                  default profile, and per profile: server URL, display name, key bindings
    profiles/<name>/key.pem      that profile's Ed25519 secret key (0600)

Each profile is one identity on one home server; ``--profile NAME`` picks one, ``default`` otherwise.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from murmur.errors import ConfigError
from murmur.keys import Identity, load_identity, write_private_file

PROFILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
DEFAULT_PROFILE = "default"


def home_dir(option: Path | None = None) -> Path:
    """The home directory: the option, else ``$MURMUR_HOME``, else the platform's user data directory."""
    if option is not None:
        return option.expanduser()
    env = os.environ.get("MURMUR_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("murmur", appauthor=False))


@dataclass
class ClientConfig:
    """The client's config file, ``config.toml`` in the home directory."""

    path: Path
    default_profile: str = DEFAULT_PROFILE
    """The profile used when ``--profile`` is not given."""
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per profile: ``server`` (home server URL), ``name`` (display name), ``theme``, ``keys`` (bindings)."""

    @classmethod
    def load(cls, home: Path) -> ClientConfig:
        path = home / "config.toml"
        if not path.exists():
            return cls(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it.") from exc
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
    """One chosen profile: its name, the home directory and where its key lives."""

    home: Path
    name: str

    @property
    def key_path(self) -> Path:
        return self.home / "profiles" / self.name / "key.pem"

    def identity(self) -> Identity:
        return load_identity(self.key_path)

    def config(self) -> ClientConfig:
        return ClientConfig.load(self.home)


def resolve(home: Path | None, profile: str | None) -> ProfileRef:
    root = home_dir(home)
    name = profile or os.environ.get("MURMUR_PROFILE") or ClientConfig.load(root).default_profile
    if not PROFILE_NAME.fullmatch(name):
        raise ConfigError(f"Profile name {name!r} must be 1-64 letters, digits, '.', '_' or '-'.")
    return ProfileRef(root, name)
